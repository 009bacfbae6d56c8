"""Translation: Babel catalogues, a ContextVar locale, `use_locale()` for sends outside updates.

Message ids are symbolic (`registration.ask_name`), so a missing translation shows up as a
raw id in either language and the catalogue test catches it. Every message is HTML (the bot
sends with parse_mode=HTML): `t()` escapes its placeholders, so a user's name can never
break the markup or inject a link.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
CATALOGUE_DIR = Path(__file__).parent
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("innobridge_locale", default=DEFAULT_LOCALE)


class Raw(str):
    """A placeholder value that is already HTML (e.g. a rendered list): not escaped again."""

    __slots__ = ()


def po_path(locale: str, area: str = DOMAIN) -> Path:
    """Where one catalogue file of a locale lives (one file per area of the product)."""
    return CATALOGUE_DIR / locale / "LC_MESSAGES" / f"{area}.po"


def po_paths(locale: str) -> list[Path]:
    """Every catalogue file of a locale: messages.po, then the areas (demands.po, ...)."""
    folder = CATALOGUE_DIR / locale / "LC_MESSAGES"
    return sorted(folder.glob("*.po"), key=lambda path: (path.stem != DOMAIN, path.stem))


@cache
def translations(locale: str) -> Translations:
    """The compiled catalogues of a locale, merged (compiled in memory from the .po, once)."""
    merged: Translations | None = None
    for path in po_paths(locale):
        with path.open("rb") as source:
            catalogue = read_po(source, locale=locale)
        buffer = BytesIO()
        write_mo(buffer, catalogue)
        buffer.seek(0)
        part = Translations(fp=buffer, domain=DOMAIN)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    assert merged is not None, f"no catalogue for {locale}"
    return merged


def current_locale() -> str:
    """The locale of the message being rendered."""
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Render in this locale inside the block (a notification to someone else, say)."""
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def t(message_id: str, /, **params: Any) -> str:
    """The message in the current locale, placeholders HTML-escaped unless `Raw`."""
    text = translations(current_locale()).gettext(message_id)
    if not params:
        return text
    safe = {
        k: v if isinstance(v, Raw) else html.escape(str(v), quote=False) for k, v in params.items()
    }
    return text.format(**safe)
