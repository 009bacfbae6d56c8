"""Structured logs (issue #7 item 7): JSON lines or text, with the update and the record.

Each line carries what it is about: the update being processed (`update_id`, its `kind`) and
the reference code of the record (`ref`, e.g. D2026-000123) where one is known. Both come
from a context set around each update (bot/metrics.py) without any call site passing them;
a handler adds a reference with the standard `extra={"ref": ...}` (handlers never import
bot/). No user id, name or phone number is added; and whatever a library or an exception
message puts in a line, the formatters mask bot tokens and phone numbers before it is
written (httpx logs request URLs, which contain the token; a PostgreSQL unique violation
quotes the duplicate value).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import ConfigError

LogFormat = Literal["text", "json"]
# Fields a line may carry about its update and record, in the order they are written.
FIELDS = ("update_id", "kind", "ref")
_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "innobridge_log_context", default=None
)
# A bot token as @BotFather gives it (bot id, colon, 35 characters), wherever it appears.
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# Mainland mobile numbers (with or without +86, spaces or dashes) and E.164 numbers.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)"
    r"|(?<!\w)\+\d{1,3}(?:[ -]?\d){6,14}(?!\d)"
)
# Reference codes of demands and complaints, as the bot quotes them to people.
REFERENCE = re.compile(r"\b[DC]\d{4}-\d{6}\b")


class LogSettings(BaseSettings):
    """`INNOBRIDGE_LOG_FORMAT`: `json` or `text`; unset, `innobridge run` writes JSON lines
    and the other commands text. Read here so the main settings stay about the platform."""

    model_config = SettingsConfigDict(env_prefix="INNOBRIDGE_", env_file=".env", extra="ignore")

    log_format: LogFormat | None = None


def redact(text: str) -> str:
    """The text with bot tokens and phone numbers masked."""
    return _PHONE.sub("[phone]", _TOKEN.sub("[token]", text))


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[dict[str, Any]]:
    """Fields added to every line logged inside the block (in this task and those it starts);
    the dict it yields may be filled in later, e.g. with `ref` once the record is known."""
    current = {**(_CONTEXT.get() or {}), **fields}
    token = _CONTEXT.set(current)
    try:
        yield current
    finally:
        _CONTEXT.reset(token)


def bind(**fields: Any) -> None:
    """Add fields to the current context (no effect outside one)."""
    current = _CONTEXT.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v not in (None, "")})


def references_in(*texts: str | None) -> str | None:
    """The first reference code in these texts (a command like `/demand D2026-000001`)."""
    for text in texts:
        if text:
            found = REFERENCE.search(text)
            if found:
                return found.group(0)
    return None


class ContextFilter(logging.Filter):
    """Copies the current update's fields onto each record (an explicit `extra` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_CONTEXT.get() or {}).items():
            if key in FIELDS and getattr(record, key, None) in (None, ""):
                setattr(record, key, value)
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k in FIELDS if (v := getattr(record, k, None)) not in (None, "")}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg, the context fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(
            {k: redact(v) if isinstance(v, str) else v for k, v in line.items()},
            ensure_ascii=False,
            default=str,
        )


class TextFormatter(logging.Formatter):
    """The classic line, then `key=value` for each context field."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        if extra:
            head, newline, rest = text.partition("\n")  # after the message, before a traceback
            text = f"{head} [{extra}]{newline}{rest}"
        return redact(text)


def handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler writing this format, with the context filter."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    out.addFilter(ContextFilter())
    return out


def configure(
    default: LogFormat, *, stream: TextIO | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Replace the root logger's handlers with one of ours; return it."""
    try:
        chosen = LogSettings().log_format or default
    except ValidationError:
        raise ConfigError("environment: INNOBRIDGE_LOG_FORMAT: expected text or json") from None
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    installed = handler(chosen, stream)
    root.addHandler(installed)
    root.setLevel(level)
    # One line per request drowns the log, and httpx's request lines carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return installed
