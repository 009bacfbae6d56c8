"""Bot API methods for files: sendDocument, sendPhoto, getFile."""

from __future__ import annotations

from typing import Any

from bot.emulator.errors import bad_request
from bot.emulator.files import MAX_DOWNLOAD_BYTES, StoredFile, image_size
from bot.emulator.formatting import format_text
from bot.emulator.markup import parse_markup
from bot.emulator.methods_messages import apply_markup, message_extras, reply_target
from bot.emulator.params import Upload
from bot.emulator.registry import Call, method
from bot.emulator.text_utils import utf16_len

MAX_CAPTION = 1024
_TYPE_NAMES = {"document": "Document", "photo": "Photo", "sticker": "Sticker"}


def input_file(call: Call, name: str, kind: str) -> StoredFile:
    """The file of an InputFile parameter: a fresh upload or an existing file_id."""
    value = call.params.upload_or_id(name)
    if value is None:
        raise bad_request(f"there is no {name} in the request")
    if isinstance(value, Upload):
        if not value.data:
            raise bad_request("file must be non-empty")
        if kind == "photo" and image_size(value.data) == (0, 0):
            raise bad_request("IMAGE_PROCESS_FAILED")
        mime = value.mime_type if kind == "document" else "image/jpeg"
        return call.files.add(value.data, kind, file_name=value.filename, mime_type=mime)
    if value.lower().startswith(("http://", "https://")):
        # the emulator is offline, like a Telegram that cannot reach the URL
        raise bad_request("failed to get HTTP URL content")
    stored = call.files.get(value.strip())
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind and not (kind == "document" and stored.kind == "sticker"):
        raise bad_request(
            f"can't use file of type {_TYPE_NAMES[stored.kind]} as {_TYPE_NAMES[kind]}"
        )
    return stored


async def _send_media(call: Call, kind: str) -> dict[str, Any]:
    bot, p = call.bot, call.params
    chat = bot.target_chat(p.chat_id())
    raw_caption = p.string("caption") or ""
    caption, entities = format_text(
        raw_caption, p.string("parse_mode"), p.json("caption_entities")
    )
    if utf16_len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    markup = parse_markup(p.json("reply_markup"))
    reply_to = reply_target(call, chat)
    extra = message_extras(call)
    stored = input_file(call, kind, kind)
    bot.limiter.check(chat.user.id)
    source = raw_caption if p.string("parse_mode") and p.json("caption_entities") is None else None
    media: dict[str, Any] = (
        {"document": stored.api_document()}
        if kind == "document"
        else {"photo": stored.api_photo()}
    )
    message = bot.add_message(
        chat,
        from_bot=True,
        caption=caption or None,
        entities=entities if caption else [],
        source=source if caption else None,
        reply_to=reply_to,
        **media,
    )
    message.extra.update(extra)
    apply_markup(chat, message, markup)
    return bot.api_message(message)


@method("sendDocument")
async def send_document(call: Call) -> dict[str, Any]:
    """sendDocument."""
    return await _send_media(call, "document")


@method("sendPhoto")
async def send_photo(call: Call) -> dict[str, Any]:
    """sendPhoto."""
    return await _send_media(call, "photo")


@method("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    """getFile."""
    file_id = call.params.string("file_id", required=True, empty="invalid file_id") or ""
    stored = call.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return stored.api_file()
