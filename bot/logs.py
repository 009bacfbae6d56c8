"""Logging: no bot token and no phone number ever reaches the log (PIPL, DESIGN §2).

The code logs ids and reference codes, never names or phones. As a second line, the
formatter masks whatever looks like a bot token (the Bot API puts it in every URL, and an
HTTP error may quote the URL) or a phone number (a database error may quote a row).
"""

from __future__ import annotations

import logging
import re

from models.phone import mask_phone

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# One line per HTTP request (with the token in the URL) drowns the log: warnings only.
QUIET_LOGGERS = ("httpx", "httpcore")

_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
# E.164 (+8613800138000) and Chinese mobile numbers written without the country code.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{8,15}|1[3-9]\d{9})(?!\w)")


def redact(text: str) -> str:
    """The text with bot tokens replaced and phone numbers masked."""
    text = _TOKEN.sub("<bot-token>", text)
    return _PHONE.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    try:
        return mask_phone(match.group())
    except Exception:  # noqa: BLE001 — not a number phonenumbers can read: hide it all
        return "<phone>"


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments and traceback) passes `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then redact."""
        return redact(super().format(record))


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr through the redacting formatter; quiet the per-request loggers."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(FORMAT))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
