"""Parse Telegram's HTML parse_mode into plain text + MessageEntity dicts.

Follows the tag grammar and error messages of Telegram's own parser (TDLib `parse_html`),
with one deliberate strictness: a `&` that does not start one of the documented entities
is rejected, because the Bot API documentation requires escaping it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.emulator.errors import EntityParseError
from bot.emulator.text_utils import byte_offset, char_units, utf16_len
from bot.emulator.urls import is_valid_link

VALID_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\v\f"
_ENTITY_RE = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,10})|([a-zA-Z]{1,10}));")
_USER_LINK_RE = re.compile(r"tg://user\?id=(\d{1,20})$", re.IGNORECASE)


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_index: int


def decode_entity(text: str, index: int) -> tuple[str, int] | None:
    """Decode the character reference at `index`: (character, index after it) or None."""
    match = _ENTITY_RE.match(text, index)
    if match is None:
        return None
    hex_code, dec_code, name = match.groups()
    if name is not None:
        value = NAMED_ENTITIES.get(name)
        return None if value is None else (value, match.end())
    code = int(hex_code, 16) if hex_code is not None else int(dec_code)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


class _HtmlParser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def at(self, index: int) -> str:
        return self.src[index] if index < len(self.src) else ""

    def fail(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def boff(self, index: int) -> str:
        return str(byte_offset(self.src, index))

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.utf16 += utf16_len(chars)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                decoded = decode_entity(src, self.pos)
                if decoded is None:
                    raise self.fail(
                        f'Character "&" at byte offset {self.boff(self.pos)} is not a part of '
                        'an HTML entity and must be replaced with "&amp;"'
                    )
                self.emit(decoded[0])
                self.pos = decoded[1]
            elif char != "<":
                self.out.append(char)
                self.utf16 += char_units(char)
                self.pos += 1
            elif self.at(self.pos + 1) == "/":
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                # only a <pre>-wrapped <code> may carry a language
                entity.pop("language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def skip_spaces(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos] in _SPACES:
            self.pos += 1

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        name_start = self.pos
        while self.pos < len(self.src) and self.src[self.pos] not in _SPACES + ">":
            self.pos += 1
        if self.pos >= len(self.src):
            raise self.fail(f"Unclosed start tag at byte offset {self.boff(begin)}")
        name = self.src[name_start : self.pos].lower()
        if name not in VALID_TAGS:
            raise self.fail(f'Unsupported start tag "{name}" at byte offset {self.boff(begin)}')
        argument = ""
        while self.at(self.pos) != ">":
            self.skip_spaces()
            if self.at(self.pos) == ">":
                break
            attr_start = self.pos
            while self.pos < len(self.src) and self.src[self.pos] not in _SPACES + "=>":
                self.pos += 1
            attr = self.src[attr_start : self.pos].lower()
            if not attr:
                raise self.fail(
                    f'Empty attribute name in the tag "{name}" at byte offset {self.boff(begin)}'
                )
            self.skip_spaces()
            if self.at(self.pos) != "=":
                if name == "blockquote" and attr == "expandable":
                    argument = "1"
                    continue
                raise self.fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {self.boff(begin)}'
                )
            self.pos += 1
            self.skip_spaces()
            if self.pos >= len(self.src):
                raise self.fail(f'Unclosed start tag "{name}" at byte offset {self.boff(begin)}')
            value = self.attribute_value()
            if self.pos >= len(self.src):
                raise self.fail(f"Unclosed start tag at byte offset {self.boff(begin)}")
            if name == "a" and attr == "href":
                argument = value
            elif name == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif name == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif name == "tg-emoji" and attr == "emoji-id":
                argument = value
            elif name == "blockquote" and attr == "expandable":
                argument = "1"
        if name == "span" and argument != "spoiler":
            raise self.fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.boff(begin)}'
            )
        self.pos += 1
        self.stack.append(_OpenTag(name, argument, self.utf16, len(self.out)))

    def attribute_value(self) -> str:
        quote = self.src[self.pos]
        if quote not in "'\"":
            # an unquoted name token: letters, digits, periods and hyphens, case-insensitive
            token_start = self.pos
            while self.pos < len(self.src) and (
                self.src[self.pos].isalnum() or self.src[self.pos] in ".-"
            ):
                self.pos += 1
            if self.at(self.pos) not in tuple(_SPACES + ">"):
                raise self.fail(
                    f"Unexpected end of name token at byte offset {self.boff(token_start)}"
                )
            return self.src[token_start : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.pos < len(self.src) and self.src[self.pos] != quote:
            if self.src[self.pos] == "&":
                decoded = decode_entity(self.src, self.pos)
                if decoded is not None:
                    value.append(decoded[0])
                    self.pos = decoded[1]
                    continue
            value.append(self.src[self.pos])
            self.pos += 1
        if self.at(self.pos) == quote:
            self.pos += 1
        return "".join(value)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.boff(begin)}")
        self.pos += 2
        while self.pos < len(self.src) and self.src[self.pos] not in _SPACES + ">":
            self.pos += 1
        end_name = self.src[begin + 2 : self.pos].lower()
        self.skip_spaces()
        if self.at(self.pos) != ">":
            raise self.fail(f"Unclosed end tag at byte offset {self.boff(begin)}")
        self.pos += 1
        opened = self.stack.pop()
        if end_name and end_name != opened.name:
            raise self.fail(
                f"Unmatched end tag at byte offset {self.boff(begin)}, "
                f'expected "</{opened.name}>", found "</{end_name}>"'
            )
        if self.utf16 > opened.utf16_offset:
            self.add_entity(opened)

    def add_entity(self, opened: _OpenTag) -> None:
        offset = opened.utf16_offset
        length = self.utf16 - offset
        base: dict[str, Any] = {"offset": offset, "length": length}
        name = opened.name
        if name in SIMPLE_TAGS:
            self.entities.append({"type": SIMPLE_TAGS[name], **base})
        elif name == "blockquote":
            kind = "expandable_blockquote" if opened.argument else "blockquote"
            self.entities.append({"type": kind, **base})
        elif name == "tg-emoji":
            if not opened.argument.isdigit() or int(opened.argument) == 0:
                raise self.fail("Invalid custom emoji identifier specified")
            self.entities.append(
                {"type": "custom_emoji", **base, "custom_emoji_id": opened.argument}
            )
        elif name == "a":
            url = opened.argument or "".join(self.out[opened.text_index :])
            user = _USER_LINK_RE.match(url)
            if user is not None:
                mention = {"id": int(user.group(1)), "is_bot": False, "first_name": ""}
                self.entities.append({"type": "text_mention", **base, "user": mention})
            elif is_valid_link(url):
                # Telegram silently drops links it cannot accept rather than failing
                self.entities.append({"type": "text_link", **base, "url": url})
        elif name == "code":
            last = self.entities[-1] if self.entities else None
            if last and last["type"] == "pre" and _same_range(last, base):
                if opened.argument:
                    last["language"] = opened.argument
            else:
                entity = {"type": "code", **base}
                if opened.argument:
                    entity["language"] = opened.argument
                self.entities.append(entity)
        elif name == "pre":
            last = self.entities[-1] if self.entities else None
            if last and last["type"] == "code" and _same_range(last, base):
                # <pre><code class="language-x"> is one pre entity with a language
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", **base})


def _same_range(entity: dict[str, Any], other: dict[str, Any]) -> bool:
    return bool(entity["offset"] == other["offset"] and entity["length"] == other["length"])


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for an HTML-formatted message; EntityParseError if invalid."""
    return _HtmlParser(source).run()
