"""Re-render stored text + entities as safe HTML for the sandbox page (never the raw bot HTML)."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

from bot.emulator.text_utils import utf16_index_map

_SIMPLE = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ('<blockquote class="expandable">', "</blockquote>"),
}
_SAFE_SCHEMES = ("http", "https", "tg", "mailto")


def _tags(entity: dict[str, Any]) -> tuple[str, str]:
    kind = entity.get("type", "")
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind in ("text_link", "url"):
        url = str(entity.get("url", ""))
        if kind == "text_link" and urlsplit(url).scheme.lower() in _SAFE_SCHEMES:
            href = html.escape(url, quote=True)
            return f'<a href="{href}" rel="noopener noreferrer" target="_blank">', "</a>"
    return "", ""


def entities_to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Escaped text with entities as well-nested, whitelisted tags (overlaps split)."""
    index = utf16_index_map(text)
    spans: list[tuple[int, int, tuple[str, str]]] = []
    for entity in entities:
        tags = _tags(entity)
        start = index[min(max(int(entity.get("offset", 0)), 0), len(index) - 1)]
        stop = index[
            min(int(entity.get("offset", 0)) + int(entity.get("length", 0)), len(index) - 1)
        ]
        if tags[0] and stop > start:
            spans.append((start, stop, tags))
    spans.sort(key=lambda s: (s[0], -s[1]))
    bounds = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    out: list[str] = []
    stack: list[tuple[int, int, tuple[str, str]]] = []
    pending = list(spans)
    for pos, nxt in zip(bounds, bounds[1:] + [len(text)], strict=True):
        # close spans ending here, plus anything opened inside them (reopened below)
        ending = [k for k, span in enumerate(stack) if span[1] <= pos]
        if ending:
            cut = ending[0]
            for span in reversed(stack[cut:]):
                out.append(span[2][1])
            reopen = [span for span in stack[cut:] if span[1] > pos]
            del stack[cut:]
        else:
            reopen = []
        starting = [span for span in pending if span[0] == pos]
        pending = [span for span in pending if span[0] != pos]
        for span in sorted(reopen + starting, key=lambda s: -s[1]):
            out.append(span[2][0])
            stack.append(span)
        out.append(html.escape(text[pos:nxt], quote=False))
    for span in reversed(stack):
        out.append(span[2][1])
    return "".join(out)
