"""Storage for files sent by the bot and by users, addressed by file_id and file_path."""

from __future__ import annotations

import base64
import mimetypes
import secrets
import struct
from dataclasses import dataclass
from typing import Any

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
_PREFIX = {"document": "BQACAgIAAxkBAAI", "photo": "AgACAgIAAxkBAAI", "sticker": "CAACAgIAAxkBAAI"}
_FOLDER = {"document": "documents", "photo": "photos", "sticker": "stickers"}


@dataclass
class StoredFile:
    """One file with the identifiers Telegram hands out for it."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    def api_file(self) -> dict[str, Any]:
        """The Bot API File object (getFile)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def api_document(self) -> dict[str, Any]:
        """The Bot API Document object."""
        doc: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        doc["file_size"] = len(self.data)
        return doc

    def api_photo(self) -> list[dict[str, Any]]:
        """The Bot API list of PhotoSize (a single size: the emulator does not resize)."""
        width, height = image_size(self.data)
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.data),
                "width": width,
                "height": height,
            }
        ]


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, GIF or JPEG; (0, 0) if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data):
            if data[pos] != 0xFF:
                break
            marker = data[pos + 1]
            length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + length
    return 0, 0


class FileStore:
    """All files known to the emulator."""

    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}

    def add(
        self, data: bytes, kind: str, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        """Store bytes and mint opaque identifiers for them."""
        token = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode().rstrip("=")
        file_id = _PREFIX[kind] + token
        unique = "AgAD" + base64.urlsafe_b64encode(secrets.token_bytes(9)).decode()
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        elif kind == "photo":
            ext = ".jpg"
        elif kind == "sticker":
            ext = ".webp"
        elif mime_type:
            ext = mimetypes.guess_extension(mime_type) or ""
        path = f"{_FOLDER[kind]}/file_{len(self.by_id)}{ext}"
        stored = StoredFile(file_id, unique, kind, data, path, file_name, mime_type)
        self.by_id[file_id] = stored
        self.by_path[path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """The file with this file_id, if any."""
        return self.by_id.get(file_id)
