"""Per-bot settings: command lists by scope and language, descriptions, menu buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.errors import bad_request

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
MAX_COMMANDS = 100
ScopeKey = tuple[str, int, int]  # (type, chat_id, user_id); unused parts are 0
_SCOPES_WITHOUT_CHAT = (
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
)


def check_language(code: str | None) -> str:
    """A language_code parameter: empty or a two-letter ISO 639-1 code."""
    if not code:
        return ""
    if not _LANG_RE.match(code):
        raise bad_request("LANG_CODE_INVALID")
    return code


def scope_key(scope: Any) -> ScopeKey:
    """The storage key for a BotCommandScope object (None = default)."""
    if scope is None:
        return ("default", 0, 0)
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in _SCOPES_WITHOUT_CHAT:
        return (kind, 0, 0)
    if kind not in ("chat", "chat_administrators", "chat_member"):
        raise bad_request("unsupported bot command scope type")
    chat_id = scope.get("chat_id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        raise bad_request("chat not found")
    if kind != "chat_member":
        return (kind, chat_id, 0)
    user_id = scope.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise bad_request("user not found")
    return (kind, chat_id, user_id)


def check_commands(raw: Any) -> list[dict[str, str]]:
    """The validated list of BotCommand for setMyCommands."""
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    commands: list[dict[str, str]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return commands


@dataclass
class BotSettings:
    """Everything set through setMy* and setChatMenuButton."""

    commands: dict[tuple[ScopeKey, str], list[dict[str, str]]] = field(default_factory=dict)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, language) -> text
    menu_buttons: dict[int, dict[str, Any]] = field(default_factory=dict)  # 0 = default
    default_menu_button: dict[str, Any] = field(default_factory=lambda: {"type": "default"})

    def set_commands(self, key: ScopeKey, language: str, commands: list[dict[str, str]]) -> None:
        """Store (or, with an empty list, delete) the commands of a scope + language."""
        if commands:
            self.commands[(key, language)] = commands
        else:
            self.commands.pop((key, language), None)

    def get_commands(self, key: ScopeKey, language: str) -> list[dict[str, str]]:
        """Exactly what was set for this scope + language (no fallback, as getMyCommands)."""
        return list(self.commands.get((key, language), []))

    def commands_for(self, user_id: int, language_code: str | None) -> list[dict[str, str]]:
        """The command list a private-chat user sees, resolved in Telegram's documented order."""
        language = (language_code or "")[:2].lower()
        chain: list[ScopeKey] = [
            ("chat", user_id, 0),
            ("all_private_chats", 0, 0),
            ("default", 0, 0),
        ]
        for key in chain:
            for lang in ([language] if language else []) + [""]:
                found = self.commands.get((key, lang))
                if found:
                    return list(found)
        return []
