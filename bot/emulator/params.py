"""Read Bot API parameters from any encoding Telegram accepts, and coerce them to types.

Telegram takes the query string, application/x-www-form-urlencoded, application/json and
multipart/form-data alike; object-typed parameters arrive as JSON strings in the form
encodings and as objects (or strings) in JSON bodies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web

from bot.emulator.errors import ApiError, bad_request

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
        "menu_button",
        "message_ids",
    }
)
# logged with one type whatever the encoding, so tests can compare values directly
INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
        "user_id",
        "message_thread_id",
    }
)
BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "disable_web_page_preview",
    }
)
_TOO_LARGE = ApiError(413, "Request Entity Too Large")


@dataclass
class Upload:
    """A file sent as a multipart part."""

    filename: str
    mime_type: str
    data: bytes


async def _read_limited(request: web.Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise _TOO_LARGE
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_multipart(request: web.Request, params: dict[str, Any]) -> None:
    reader = await request.multipart()
    size = 0
    async for part in reader:
        if not isinstance(part, BodyPartReader) or not part.name:
            continue
        chunks: list[bytes] = []
        while chunk := await part.read_chunk(1 << 16):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise _TOO_LARGE
            chunks.append(chunk)
        data = bytes(part.decode(b"".join(chunks)))
        if part.filename is not None:
            mime = part.headers.get("Content-Type", "application/octet-stream")
            params[part.name] = Upload(part.filename, mime.split(";")[0].strip(), data)
        else:
            params[part.name] = data.decode(part.get_charset("utf-8"))


async def read_params(request: web.Request) -> dict[str, Any]:
    """All parameters of a Bot API request; the body wins over the query string."""
    params: dict[str, Any] = dict(request.query)
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        await _read_multipart(request, params)
        return params
    body = await _read_limited(request)
    if not body.strip():
        return params
    if ctype == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if isinstance(decoded, dict):
            params.update(decoded)
        return params
    params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def for_log(params: dict[str, Any]) -> dict[str, Any]:
    """A copy for the request log: JSON strings decoded, uploads summarised."""
    logged: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Upload):
            logged[key] = {
                "filename": value.filename,
                "mime_type": value.mime_type,
                "size": len(value.data),
            }
        elif key in JSON_FIELDS and isinstance(value, str):
            try:
                logged[key] = json.loads(value)
            except ValueError:
                logged[key] = value
        elif key in INT_FIELDS and isinstance(value, str) and value.lstrip("-").isdigit():
            logged[key] = int(value)
        elif key in BOOL_FIELDS and isinstance(value, str) and value in ("true", "false"):
            logged[key] = value == "true"
        else:
            logged[key] = value
    return logged


class Params:
    """Typed access to raw parameters with Telegram-style 400s."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        """Whether the parameter was given at all (an empty string counts as absent)."""
        return self.raw.get(name) not in (None, "")

    def string(self, name: str, *, required: bool = False, empty: str | None = None) -> str | None:
        """A string parameter (numbers are stringified, as Telegram does)."""
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(empty or f"{name} is empty")
            return None if value is None else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            raise bad_request(f'field "{name}" must be of type String')
        return value

    def integer(
        self, name: str, *, required: bool = False, empty: str | None = None
    ) -> int | None:
        """An integer parameter."""
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(empty or f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Integer')

    def number(self, name: str, *, required: bool = False) -> float | None:
        """A floating-point parameter."""
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Float') from None

    def flag(self, name: str) -> bool:
        """A boolean parameter; absent is False."""
        value = self.raw.get(name)
        if isinstance(value, bool):
            return value
        if value is None or value == "":
            return False
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
            return value.lower() in ("true", "1")
        raise bad_request(f'field "{name}" must be of type Boolean')

    def json(self, name: str) -> Any:
        """An object/array parameter, given as JSON text or (in JSON bodies) directly."""
        value = self.raw.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self) -> int | str:
        """`chat_id`: an integer or an "@username" string."""
        value = self.raw.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        number = self.integer("chat_id")
        assert number is not None
        return number

    def upload_or_id(self, name: str) -> Upload | str | None:
        """A file parameter: an Upload, an attach://name reference, or a file_id/URL string."""
        value = self.raw.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.raw.get(value[len("attach://") :])
        if isinstance(value, Upload) or value is None:
            return value
        if isinstance(value, str):
            return value or None
        raise bad_request(f'field "{name}" must be of type String')
