"""HTML / MarkdownV2 / Markdown parsing and the sanitised re-rendering for the sandbox."""

from __future__ import annotations

import pytest

from bot.emulator.errors import ApiError, EntityParseError
from bot.emulator.formatting import format_text
from bot.emulator.html_entities import parse_html
from bot.emulator.markdown import parse_markdown, parse_markdown_v2
from bot.emulator.render import entities_to_html


def test_html_basic_tags_and_entities() -> None:
    text, entities = parse_html(
        '<b>bold</b> <i>it</i> &lt;x&gt; &amp; &quot; &#65;&#x42; <a href="https://e.org/?a=1&amp;b=2">link</a>'
    )
    assert text == 'bold it <x> & " AB link'
    assert entities == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 5, "length": 2},
        {"type": "text_link", "offset": 19, "length": 4, "url": "https://e.org/?a=1&b=2"},
    ]


def test_html_offsets_are_utf16() -> None:
    text, entities = parse_html("😀 <u>ü😀</u>")
    assert text == "😀 ü😀"
    assert entities == [{"type": "underline", "offset": 3, "length": 3}]


def test_html_pre_with_language_spoiler_blockquote_and_emoji() -> None:
    source = (
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        "<blockquote expandable>q</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code>'
    )
    text, entities = parse_html(source)
    assert text == "x = 1stq👍c"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 5, "length": 1},
        {"type": "spoiler", "offset": 6, "length": 1},
        {"type": "expandable_blockquote", "offset": 7, "length": 1},
        {
            "type": "custom_emoji",
            "offset": 8,
            "length": 2,
            "custom_emoji_id": "5368324170671202286",
        },
        {"type": "code", "offset": 10, "length": 1},
    ]


def test_html_invalid_link_is_dropped_silently() -> None:
    assert parse_html('<a href="javascript:alert(1)">x</a>') == ("x", [])


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("ü<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("a <", "Unclosed start tag at byte offset 2"),
        ("Tom & Jerry", 'Character "&" at byte offset 4 is not a part of an HTML entity'),
        ("&nbsp;", 'Character "&" at byte offset 0'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_errors_match_telegram(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value).startswith(error)


def test_format_text_wraps_errors_and_strips_whitespace() -> None:
    with pytest.raises(ApiError) as caught:
        format_text("<p>x</p>", "HTML")
    assert caught.value.code == 400
    assert caught.value.description == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'
    )
    assert format_text("\n  <b>hi</b> \n", "html") == (
        "hi",
        [{"type": "bold", "offset": 0, "length": 2}],
    )
    assert format_text("<b>x</b>", None) == ("<b>x</b>", [])


def test_explicit_entities_override_parse_mode() -> None:
    text, entities = format_text("<b>", "HTML", [{"type": "bold", "offset": 0, "length": 99}])
    assert text == "<b>"
    assert entities == [{"type": "bold", "offset": 0, "length": 3}]


def test_markdown_v2() -> None:
    text, entities = parse_markdown_v2(
        r"*b* _i_ __u__ ~s~ ||sp|| `c\`` [l](https://e.org/a\)b) 1\.5\!" "\n```py\nx```"
    )
    assert text == "b i u s sp c` l 1.5!\nx"
    kinds = [(e["type"], e["offset"], e["length"]) for e in entities]
    assert kinds == [
        ("bold", 0, 1),
        ("italic", 2, 1),
        ("underline", 4, 1),
        ("strikethrough", 6, 1),
        ("spoiler", 8, 2),
        ("code", 11, 2),
        ("text_link", 14, 1),
        ("pre", 21, 1),
    ]
    assert entities[6]["url"] == "https://e.org/a)b"
    assert entities[7]["language"] == "py"


@pytest.mark.parametrize("char", list("]()>#+-=|{}.!"))
def test_markdown_v2_rejects_unescaped_reserved_characters(char: str) -> None:
    with pytest.raises(EntityParseError, match=f"Character '\\{char}' is reserved"):
        parse_markdown_v2(f"a{char}b")
    assert parse_markdown_v2(f"a\\{char}b") == (f"a{char}b", [])


def test_markdown_v2_reserved_message() -> None:
    with pytest.raises(ApiError) as caught:
        format_text("Price: 5.00!", "MarkdownV2")
    assert caught.value.description == (
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped "
        "with the preceding '\\'"
    )
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*open")


def test_markdown_v2_blockquote() -> None:
    text, entities = parse_markdown_v2(">quoted\n>more\nplain")
    assert text == "quoted\nmore\nplain"
    assert entities == [{"type": "blockquote", "offset": 0, "length": 11}]


def test_legacy_markdown() -> None:
    text, entities = parse_markdown("*b* _i_ `c` [l](https://e.org) a\\_b")
    assert text == "b i c l a_b"
    assert [e["type"] for e in entities] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(
        EntityParseError, match="Can't find end of the entity starting at byte offset 2"
    ):
        parse_markdown("a *b")


def test_render_is_safe_and_well_nested() -> None:
    text = "<script>x</script> bold link"
    entities = [
        {"type": "bold", "offset": 19, "length": 4},
        {"type": "text_link", "offset": 24, "length": 4, "url": "javascript:alert(1)"},
    ]
    assert entities_to_html(text, entities) == "&lt;script&gt;x&lt;/script&gt; <b>bold</b> link"
    # overlapping entities are split so tags nest properly
    overlap = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
        {"type": "text_link", "offset": 0, "length": 1, "url": 'https://e.org/"x'},
    ]
    assert entities_to_html("abcdef", overlap) == (
        '<b><a href="https://e.org/&quot;x" rel="noopener noreferrer" target="_blank">a</a>'
        "b<i>cd</i></b><i>ef</i>"
    )
    assert entities_to_html("😀x", [{"type": "bold", "offset": 2, "length": 1}]) == "😀<b>x</b>"
