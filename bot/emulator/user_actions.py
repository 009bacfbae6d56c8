"""What a simulated human can do in a private chat, each producing one Bot API update.

Shared by the Python test client (which waits for the bot) and the control routes
(which return at once).
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from bot.emulator.messages import StoredMessage
from bot.emulator.state import BotState, CallbackRecord, ChatState, UserInfo
from bot.emulator.text_utils import utf16_len

if TYPE_CHECKING:
    from bot.emulator.emulator import BotAPIEmulator

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
# a tiny WebP container so a bot that downloads a sticker gets image-like bytes
STICKER_BYTES = bytes.fromhex(
    "524946461a000000574542505650384c0d0000002f00000010071011118888fe0700"
)


def _speak(bot: BotState, user: UserInfo) -> ChatState:
    chat = bot.chat(user)
    # writing to the bot starts it, and un-blocks it (Telegram's "Restart" button)
    chat.started = True
    chat.blocked = False
    return chat


def _keyboard_labels(chat: ChatState) -> list[dict[str, Any]]:
    if chat.keyboard is None:
        return []
    return [button for row in chat.keyboard["keyboard"] for button in row]


def _used_keyboard(chat: ChatState, *, text: str | None = None, contact: bool = False) -> None:
    """A one-time keyboard hides once one of its buttons was used."""
    if chat.keyboard is None or not chat.keyboard.get("one_time_keyboard"):
        return
    for button in _keyboard_labels(chat):
        if (text is not None and button.get("text") == text) or (
            contact and button.get("request_contact")
        ):
            chat.keyboard = None
            return


async def _post(
    emulator: BotAPIEmulator, bot: BotState, chat: ChatState, wait: bool, **fields: Any
) -> StoredMessage:
    message = bot.add_message(chat, from_bot=False, **fields)
    await emulator.submit(bot, "message", bot.api_message(message), wait=wait)
    return message


async def send_text(
    emulator: BotAPIEmulator, bot: BotState, user: UserInfo, text: str, *, wait: bool
) -> StoredMessage:
    """A text message; a leading /command gets its bot_command entity."""
    chat = _speak(bot, user)
    entities: list[dict[str, Any]] = []
    match = _COMMAND_RE.match(text)
    if match is not None:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(match.group())})
    _used_keyboard(chat, text=text)
    return await _post(emulator, bot, chat, wait, text=text, entities=entities)


async def share_contact(
    emulator: BotAPIEmulator,
    bot: BotState,
    user: UserInfo,
    contact: dict[str, Any],
    *,
    wait: bool,
) -> StoredMessage:
    """A message carrying a Contact."""
    chat = _speak(bot, user)
    _used_keyboard(chat, contact=contact.get("user_id") == user.id)
    return await _post(emulator, bot, chat, wait, contact=contact)


async def send_file(
    emulator: BotAPIEmulator,
    bot: BotState,
    user: UserInfo,
    kind: str,
    content: bytes,
    *,
    filename: str | None = None,
    mime_type: str | None = None,
    caption: str | None = None,
    wait: bool,
) -> StoredMessage:
    """A document, photo or sticker message; the file goes into the shared store."""
    chat = _speak(bot, user)
    stored = emulator.files.add(content, kind, file_name=filename, mime_type=mime_type)
    fields: dict[str, Any] = {"caption": caption or None}
    if kind == "document":
        fields["document"] = stored.api_document()
    elif kind == "photo":
        fields["photo"] = stored.api_photo()
    else:
        fields["sticker"] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{THUMBS UP SIGN}",
            "file_size": len(content),
        }
    return await _post(emulator, bot, chat, wait, **fields)


async def send_location(
    emulator: BotAPIEmulator,
    bot: BotState,
    user: UserInfo,
    latitude: float,
    longitude: float,
    *,
    wait: bool,
) -> StoredMessage:
    """A message carrying a Location."""
    chat = _speak(bot, user)
    location = {"latitude": latitude, "longitude": longitude}
    return await _post(emulator, bot, chat, wait, location=location)


async def press(
    emulator: BotAPIEmulator,
    bot: BotState,
    user: UserInfo,
    message: StoredMessage,
    data: str,
    *,
    wait: bool,
) -> CallbackRecord:
    """A callback_query for a press on `message` carrying `data`."""
    chat = bot.chat(user)
    record = CallbackRecord(str(secrets.randbits(62)), user.id, message.message_id)
    bot.callbacks[record.query_id] = record
    query = {
        "id": record.query_id,
        "from": user.api(),
        "message": bot.api_message(message),
        "chat_instance": chat.chat_instance,
        "data": data,
    }
    await emulator.submit(bot, "callback_query", query, wait=wait)
    return record
