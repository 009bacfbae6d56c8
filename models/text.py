"""Text from people, as the platform stores it."""

from __future__ import annotations


def storable(raw: str) -> str:
    """`raw` without U+0000, which PostgreSQL refuses in text and JSON columns (a NUL comes in
    with text pasted from some PDFs); nothing else changes."""
    return raw.replace("\x00", "")
