"""Files of records: one a person sent (contract, report), checked, downloaded and
fingerprinted; and the stored files of a record sent back to whoever may see them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Message

from handlers.context import Context
from locales.i18n import t
from models.errors import ValidationFailed
from models.text import storable


@dataclass(frozen=True)
class Upload:
    file_id: str
    file_name: str
    kind: str  # the document's MIME type, or "photo"
    sha256: str


async def fingerprinted(
    context: Context,
    message: Message,
    check: Callable[[str, int | None], None],
    kind_message_id: str,
) -> Upload:
    """The document or largest photo of the message, accepted by `check(kind, size)`, then
    downloaded through the Bot API so that its SHA-256 can be stored with the record."""
    if message.document is not None:
        kind = message.document.mime_type or "document"
        file_id, size = message.document.file_id, message.document.file_size
        name = storable(message.document.file_name or "")  # PostgreSQL refuses NUL
    elif message.photo:
        largest = message.photo[-1]
        kind, file_id, size, name = "photo", largest.file_id, largest.file_size, ""
    else:
        raise ValidationFailed(kind_message_id)
    check(kind, size)
    content = await (await context.bot.get_file(file_id)).download_as_bytearray()
    return Upload(file_id, name, kind, hashlib.sha256(content).hexdigest())


def stored_files(items: Any) -> list[tuple[str, str]]:
    """(kind, file_id) of the attachments as records keep them, leaving out unusable ones."""
    files = []
    for item in items or []:
        if isinstance(item, dict) and item.get("file_id"):
            files.append((str(item.get("kind", "document")), str(item["file_id"])))
    return files


async def send_files(
    context: Context, chat_id: int, reference: str, files: list[tuple[str, str]]
) -> None:
    """Each file back as a photo or a document, captioned with the record and its number."""
    for number, (kind, file_id) in enumerate(files, start=1):
        caption = t("review.file_caption", reference=reference, n=number, m=len(files))
        if kind == "photo":
            await context.bot.send_photo(chat_id, file_id, caption=caption)
        else:
            await context.bot.send_document(chat_id, file_id, caption=caption)
