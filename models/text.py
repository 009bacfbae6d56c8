"""Text from people, as the platform stores it, and the few symbols it shows them."""

from __future__ import annotations


def storable(raw: str) -> str:
    """`raw` without U+0000, which PostgreSQL refuses in text and JSON columns (a NUL comes in
    with text pasted from some PDFs); nothing else changes."""
    return raw.replace("\x00", "")


def star_bar(count: int) -> str:
    """1-5 stars as ★★★☆☆ (ratings, evaluation stars of Rugao art. 20)."""
    count = max(0, min(5, count))
    return "★" * count + "☆" * (5 - count)
