"""Parse Telegram's MarkdownV2 and legacy Markdown parse modes into text + entities.

Modelled on TDLib's parsers, including the error texts bots see in "can't parse entities".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.emulator.errors import EntityParseError
from bot.emulator.text_utils import byte_offset, utf16_len
from bot.emulator.urls import is_valid_link

RESERVED_V2 = "_*[]()~`>#+-=|{}.!"
_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_EMOJI_URL_RE = re.compile(r"tg://emoji\?id=(\d+)$")


@dataclass
class _Open:
    kind: str
    utf16_offset: int
    out_index: int
    byte_pos: int
    language: str = ""


class _MarkdownV2:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []
        self.quote_start: int | None = None

    def at(self, index: int) -> str:
        return self.src[index] if 0 <= index < len(self.src) else ""

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def reserved(self, index: int) -> EntityParseError:
        return EntityParseError(
            f"Character '{self.src[index]}' is reserved and must be escaped with "
            "the preceding '\\'"
        )

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        i = 0
        src = self.src
        while i < len(src):
            char = src[i]
            if i == 0 or src[i - 1] == "\n":
                i = self.line_start(i)
                if i >= len(src):
                    break
                char = src[i]
            top = self.stack[-1] if self.stack else None
            if char == "\\" and i + 1 < len(src) and 0 < ord(src[i + 1]) <= 126:
                self.emit(src[i + 1])
                i += 2
                continue
            if top is not None and top.kind in ("code", "pre") and char != "`":
                self.emit(char)
                i += 1
                continue
            if char not in RESERVED_V2:
                self.emit(char)
                i += 1
                continue
            closing = top is not None and self.ends(top, i)
            i = self.close(top, i) if top is not None and closing else self.open(i)
        self.close_quote()
        if self.stack:
            top = self.stack[-1]
            name = _TYPE_NAMES[top.kind]
            raise EntityParseError(
                f"Can't find end of {name} entity at byte offset {top.byte_pos}"
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def line_start(self, i: int) -> int:
        """Handle '>' blockquote markers, which only count at the start of a line."""
        if self.at(i) == ">" and not self.stack:
            if self.quote_start is None:
                self.quote_start = self.utf16
            return i + 1
        self.close_quote()
        return i

    def close_quote(self) -> None:
        if self.quote_start is None:
            return
        # the quote ends before the newline that ended its last line
        end = self.utf16 - (1 if self.out and self.out[-1] == "\n" else 0)
        if end > self.quote_start:
            self.entities.append(
                {
                    "type": "blockquote",
                    "offset": self.quote_start,
                    "length": end - self.quote_start,
                }
            )
        self.quote_start = None

    def ends(self, top: _Open, i: int) -> bool:
        char, nxt = self.src[i], self.at(i + 1)
        kind = top.kind
        if kind == "bold":
            return char == "*"
        if kind == "italic":
            return char == "_" and (nxt != "_" or self.at(i + 2) == "_")
        if kind == "underline":
            return char == "_" and nxt == "_"
        if kind == "strikethrough":
            return char == "~"
        if kind == "spoiler":
            return char == "|" and nxt == "|"
        if kind == "code":
            return char == "`"
        if kind == "pre":
            return char == "`" and nxt == "`" and self.at(i + 2) == "`"
        return char == "]"

    def open(self, i: int) -> int:
        char, nxt = self.src[i], self.at(i + 1)
        start = byte_offset(self.src, i)
        language = ""
        if char == "_" and nxt == "_":
            kind, i = "underline", i + 2
        elif char == "_":
            kind, i = "italic", i + 1
        elif char == "*":
            kind, i = "bold", i + 1
        elif char == "~":
            kind, i = "strikethrough", i + 1
        elif char == "|" and nxt == "|":
            kind, i = "spoiler", i + 2
        elif char == "[":
            kind, i = "text_link", i + 1
        elif char == "!" and nxt == "[":
            kind, i = "custom_emoji", i + 2
        elif char == "`" and nxt == "`" and self.at(i + 2) == "`":
            kind, i = "pre", i + 3
            end = i
            while end < len(self.src) and self.src[end] not in " \t\r\n\v\f`":
                end += 1
            if end != i and end < len(self.src) and self.src[end] != "`":
                language, i = self.src[i:end], end
            if self.at(i) in ("\n", "\r"):
                i += 2 if self.at(i + 1) in ("\n", "\r") and self.at(i + 1) != self.at(i) else 1
        elif char == "`":
            kind, i = "code", i + 1
        else:
            raise self.reserved(i)
        self.stack.append(_Open(kind, self.utf16, len(self.out), start, language))
        return i

    def close(self, top: _Open, i: int) -> int:
        self.stack.pop()
        kind = top.kind
        i += 2 if kind in ("underline", "spoiler") else 3 if kind == "pre" else 1
        entity: dict[str, Any] = {"type": kind, "offset": top.utf16_offset}
        if kind in ("text_link", "custom_emoji"):
            url, i = self.link_target(i, top)
            if kind == "custom_emoji":
                match = _EMOJI_URL_RE.match(url)
                if match is None:
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity["custom_emoji_id"] = match.group(1)
            elif not is_valid_link(url):
                return i
            else:
                entity["url"] = url
        if kind == "pre" and top.language:
            entity["language"] = top.language
        length = self.utf16 - top.utf16_offset
        if length > 0:
            entity["length"] = length
            self.entities.append(entity)
        return i

    def link_target(self, i: int, top: _Open) -> tuple[str, int]:
        if self.at(i) != "(":
            return "".join(self.out[top.out_index :]), i
        start = i
        i += 1
        url: list[str] = []
        while i < len(self.src) and self.src[i] != ")":
            if self.src[i] == "\\" and 0 < ord(self.at(i + 1) or "\0") <= 126:
                i += 1
            url.append(self.src[i])
            i += 1
        if i >= len(self.src):
            raise EntityParseError(
                f"Can't find end of a URL at byte offset {byte_offset(self.src, start)}"
            )
        return "".join(url), i + 1


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for a MarkdownV2 message; EntityParseError if invalid."""
    return _MarkdownV2(source).run()


_LEGACY_KINDS = {"*": "bold", "_": "italic", "`": "code", "[": "text_link"}


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for a legacy Markdown message; EntityParseError if invalid."""
    out: list[str] = []
    utf16 = 0
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in "_*`[":
            out.append(source[i + 1])
            utf16 += 1
            i += 2
            continue
        if char not in _LEGACY_KINDS:
            out.append(char)
            utf16 += utf16_len(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        is_pre = char == "`" and source[i + 1 : i + 3] == "``"
        i += 3 if is_pre else 1
        language = ""
        if is_pre:
            end = i
            while end < len(source) and source[end] not in " \t\r\n\v\f`":
                end += 1
            if end != i and end < len(source) and source[end] != "`":
                language, i = source[i:end], end
            if source[i : i + 1] in ("\n", "\r"):
                i += 1
        offset = utf16
        start_index = len(out)
        while i < len(source) and (
            source[i] != end_char or (is_pre and source[i + 1 : i + 3] != "``")
        ):
            out.append(source[i])
            utf16 += utf16_len(source[i])
            i += 1
        if i >= len(source):
            raise EntityParseError(
                "Can't find end of the entity starting at byte offset "
                f"{byte_offset(source, begin)}"
            )
        i += 3 if is_pre else 1
        entity: dict[str, Any] = {"type": "pre" if is_pre else _LEGACY_KINDS[char]}
        if language:
            entity["language"] = language
        if char == "[":
            url = "".join(out[start_index:])
            if source[i : i + 1] == "(":
                close = source.find(")", i)
                if close != -1:
                    url, i = source[i + 1 : close], close + 1
            if not is_valid_link(url):
                continue
            entity["url"] = url
        if utf16 > offset:
            entities.append({**entity, "offset": offset, "length": utf16 - offset})
    return "".join(out), entities
