"""Bot API methods for bot settings: commands, descriptions, name and menu button."""

from __future__ import annotations

from typing import Any

from bot.emulator.bot_settings import check_commands, check_language, scope_key
from bot.emulator.errors import bad_request
from bot.emulator.registry import Call, method

_TEXT_LIMITS = {"description": 512, "short_description": 120, "name": 64}


def _scope_and_language(call: Call) -> tuple[tuple[str, int, int], str]:
    key = scope_key(call.params.json("scope"))
    if key[0] != "default" and key[1] and key[1] > 0 and key[1] not in call.bot.chats:
        raise bad_request("chat not found")
    return key, check_language(call.params.string("language_code"))


@method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    """setMyCommands; an empty list deletes the scope's commands."""
    raw = call.params.json("commands")
    commands = check_commands(raw if raw is not None else [])
    key, language = _scope_and_language(call)
    call.bot.settings.set_commands(key, language, commands)
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, str]]:
    """getMyCommands."""
    key, language = _scope_and_language(call)
    return call.bot.settings.get_commands(key, language)


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    """deleteMyCommands."""
    key, language = _scope_and_language(call)
    call.bot.settings.set_commands(key, language, [])
    return True


def _set_text(call: Call, kind: str) -> bool:
    text = call.params.string(kind) or ""
    if len(text) > _TEXT_LIMITS[kind]:
        raise bad_request(f"{kind.upper()}_INVALID" if kind != "name" else "BOT_TITLE_INVALID")
    language = check_language(call.params.string("language_code"))
    if text:
        call.bot.settings.texts[(kind, language)] = text
    else:
        call.bot.settings.texts.pop((kind, language), None)
    return True


def _get_text(call: Call, kind: str) -> dict[str, str]:
    language = check_language(call.params.string("language_code"))
    texts = call.bot.settings.texts
    text = texts.get((kind, language), texts.get((kind, ""), ""))
    if kind == "name" and not text:
        text = str(call.bot.user.get("first_name", ""))
    return {kind: text}


@method("setMyDescription")
async def set_my_description(call: Call) -> bool:
    """setMyDescription."""
    return _set_text(call, "description")


@method("getMyDescription")
async def get_my_description(call: Call) -> dict[str, str]:
    """getMyDescription."""
    return _get_text(call, "description")


@method("setMyShortDescription")
async def set_my_short_description(call: Call) -> bool:
    """setMyShortDescription."""
    return _set_text(call, "short_description")


@method("getMyShortDescription")
async def get_my_short_description(call: Call) -> dict[str, str]:
    """getMyShortDescription."""
    return _get_text(call, "short_description")


@method("setMyName")
async def set_my_name(call: Call) -> bool:
    """setMyName."""
    return _set_text(call, "name")


@method("getMyName")
async def get_my_name(call: Call) -> dict[str, str]:
    """getMyName."""
    return _get_text(call, "name")


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> bool:
    """setChatMenuButton (per chat, or the default without chat_id)."""
    button = call.params.json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in (
        "commands",
        "web_app",
        "default",
    ):
        raise bad_request("can't parse menu button JSON object")
    if button["type"] == "web_app" and not (
        isinstance(button.get("text"), str) and isinstance(button.get("web_app"), dict)
    ):
        raise bad_request("can't parse menu button JSON object")
    if call.params.has("chat_id"):
        chat = call.bot.known_chat(call.params.chat_id())
        call.bot.settings.menu_buttons[chat.user.id] = button
    else:
        call.bot.settings.default_menu_button = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> dict[str, Any]:
    """getChatMenuButton."""
    settings = call.bot.settings
    if call.params.has("chat_id"):
        chat = call.bot.known_chat(call.params.chat_id())
        return settings.menu_buttons.get(chat.user.id, settings.default_menu_button)
    return settings.default_menu_button
