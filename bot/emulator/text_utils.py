"""UTF-16 helpers: Telegram measures entity offsets and text lengths in UTF-16 code units."""

from __future__ import annotations

from typing import Any


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def char_units(char: str) -> int:
    """UTF-16 code units taken by one Python character."""
    return 2 if ord(char) > 0xFFFF else 1


def utf16_index_map(text: str) -> list[int]:
    """For each UTF-16 offset 0..len, the Python index that starts at or after it."""
    mapping: list[int] = []
    for index, char in enumerate(text):
        mapping.append(index)
        if char_units(char) == 2:
            # an offset inside a surrogate pair snaps to the character after it
            mapping.append(index + 1)
    mapping.append(len(text))
    return mapping


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of the Python index, as Telegram reports parse errors."""
    return len(text[:index].encode("utf-8"))


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram does and clip the entities to what remains."""
    stripped = text.strip(" \t\r\n\v\f")
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(" \t\r\n\v\f"))])
    end = lead + utf16_len(stripped)
    clipped: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            clipped.append({**entity, "offset": start - lead, "length": stop - start})
    return stripped, clipped
