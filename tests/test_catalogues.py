"""Every message exists in zh_CN and en: a missing translation fails here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from babel.messages.pofile import read_po

from locales.i18n import LOCALES, po_paths
from models.entities import Role

ROOT = Path(__file__).parent.parent
LITERAL = re.compile(
    r'''\b(?:t|ValidationFailed|NotAllowed|NotFound|InvalidTransition|AlreadyDecided)\(\s*"([a-z_]+\.[a-z_.]+)"'''
)


def _catalogue(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in po_paths(locale):
        with path.open("rb") as source:
            for message in read_po(source):
                if message.id:
                    assert message.id not in merged, f"{message.id} twice in {locale}"
                    merged[message.id] = message.string
    return merged


def _used_ids() -> set[str]:
    ids: set[str] = set()
    for folder in ("bot", "handlers", "models"):
        for path in (ROOT / folder).rglob("*.py"):
            ids.update(LITERAL.findall(path.read_text(encoding="utf-8")))
    for path in (ROOT / "bot").rglob("*.html"):  # the dashboard's templates call t() too
        found = LITERAL.findall(path.read_text(encoding="utf-8"))
        # t("inst.tier." ~ row.tier) builds the id: its module declares them (DYNAMIC_IDS)
        ids.update(i for i in found if not i.endswith("."))
    # Ids built at run time: every role, stage, field, step question, help and command.
    ids.update(f"role.{r.value}" for r in Role)
    ids.update(
        {
            "stage.reviewer",
            "stage.publisher",
            "invite.expired",
            "invite.used",
            "review.already_approved",
            "review.already_rejected",
        }
    )
    ids.update(f"help.{r.value}" for r in Role)
    from bot.notifier import BASE_COMMANDS, ROLE_COMMANDS
    from models.registration import Field

    ids.update(f"field.{f.value}" for f in Field)
    ids.update(f"registration.ask.{f.value}" for f in Field)
    ids.update(f"command.{c}" for c in BASE_COMMANDS + sum(ROLE_COMMANDS.values(), ()))
    # Modules that build ids at run time (e.g. f"demand.status.{status}") declare them.
    for folder in ("bot", "bot/dashboard", "handlers"):
        for path in (ROOT / folder).glob("[a-z]*.py"):
            module = importlib.import_module(f"{folder.replace('/', '.')}.{path.stem}")
            ids.update(getattr(module, "DYNAMIC_IDS", ()))
    return ids


def test_every_used_message_is_translated_in_both_languages() -> None:
    used = _used_ids()
    for locale in LOCALES:
        catalogue = _catalogue(locale)
        missing = sorted(i for i in used if not catalogue.get(i))
        assert missing == [], f"{locale} lacks {missing}"


def test_catalogues_have_the_same_ids_and_placeholders() -> None:
    zh, en = _catalogue("zh_CN"), _catalogue("en")
    assert set(zh) == set(en)
    for message_id in zh:
        assert set(re.findall(r"{(\w+)}", zh[message_id])) == set(
            re.findall(r"{(\w+)}", en[message_id])
        ), message_id


def test_catalogue_html_is_valid_for_telegram() -> None:
    # Messages are sent with parse_mode=HTML: a bare & or < would be refused by Telegram.
    for locale in LOCALES:
        for message_id, text in _catalogue(locale).items():
            assert not re.search(r"&(?![a-z]+;|#\d+;)", text), (locale, message_id)
            tags = re.findall(r"</?([a-z-]+)", text)
            assert set(tags) <= {"b", "i", "u", "s", "code", "pre", "a"}, (locale, message_id)


def test_each_roles_help_names_every_command_of_its_menu() -> None:
    # /help is where a person learns what the "/" menu offers: a new command left out of
    # it is one nobody finds.
    from bot.notifier import ROLE_COMMANDS

    for locale in LOCALES:
        catalogue = _catalogue(locale)
        for role, commands in ROLE_COMMANDS.items():
            text = catalogue[f"help.{role.value}"]
            missing = [c for c in commands if f"/{c}" not in text]
            assert missing == [], (locale, role.value, missing)
