"""Turn a (text, parse_mode, entities) triple from a Bot API call into stored text + entities."""

from __future__ import annotations

from typing import Any

from bot.emulator.errors import EntityParseError, bad_request
from bot.emulator.html_entities import parse_html
from bot.emulator.markdown import parse_markdown, parse_markdown_v2
from bot.emulator.text_utils import strip_text, utf16_len

ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)
_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


def _check_entities(raw: Any, text: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    checked: list[dict[str, Any]] = []
    for entity in raw:
        if not isinstance(entity, dict) or entity.get("type") not in ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: unsupported entity type")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request(
                'can\'t parse MessageEntity: Field "offset" must be a non-negative Integer'
            )
        if entity["type"] == "text_link" and not isinstance(entity.get("url"), str):
            raise bad_request('can\'t parse MessageEntity: Field "url" must be of type String')
        # Telegram clips entities that run past the end of the text instead of failing
        length = min(length, max(total - offset, 0))
        if length > 0:
            checked.append({**entity, "offset": offset, "length": length})
    return checked


def format_text(
    text: str, parse_mode: str | None, entities: Any = None
) -> tuple[str, list[dict[str, Any]]]:
    """Plain text + entities, as Telegram stores them; 400 on bad markup."""
    if entities is not None:
        # explicit entities win over parse_mode, as documented
        return strip_text(text, _check_entities(entities, text))
    if not parse_mode:
        return strip_text(text, [])
    parser = _PARSERS.get(parse_mode.lower())
    if parser is None:
        raise bad_request(f'unsupported parse_mode "{parse_mode}"')
    try:
        plain, found = parser(text)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    return strip_text(plain, found)
