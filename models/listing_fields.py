"""The answers a listing owes, per kind, and how each is checked (issue 9, item 1).

Institutions publish services and instruments, research teams achievements (DESIGN §1).
Every answer is checked again on submit: a draft kept across a restart is never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Any

from models import demands
from models.entities import Role
from models.errors import ValidationFailed
from models.listing_entities import ListingKind
from models.platform import PlatformConfig
from models.text import storable


class Ask(StrEnum):
    """How a step is answered."""

    TEXT = "text"  # one line
    LONG = "long"  # a paragraph
    CHOICE = "choice"  # one button
    MULTI = "multi"  # several buttons, then Done
    FILES = "files"  # photos and a spec sheet, then Done


@dataclass(frozen=True)
class Step:
    """One question of the guided flow."""

    name: str
    ask: Ask
    minimum: int = 1
    maximum: int = 200
    optional: bool = False


# Fixed choices (their labels are in the catalogues: listing.choice.<step>.<code>).
CHOICES: dict[str, tuple[str, ...]] = {
    "fee_basis": ("government", "market", "free"),  # Shenyang art. 11
    "maturity": ("lab", "pilot", "industrial"),
    "transfer_modes": ("licence", "sale", "joint"),
    "modes": ("onsite", "sample"),  # 自测 and 送样 (DESIGN §2)
    "training": ("no", "yes"),
}
TITLE = Step("title", Ask.TEXT, 4, 60)
CATEGORY = Step("category", Ask.CHOICE)
DESCRIPTION = Step("description", Ask.LONG, 10, 2000)
FILES = Step("attachments", Ask.FILES, optional=True)
STEPS: dict[ListingKind, tuple[Step, ...]] = {
    ListingKind.SERVICE: (
        TITLE,
        CATEGORY,
        DESCRIPTION,
        Step("fee_basis", Ask.CHOICE),
        Step("price_note", Ask.TEXT, 2, 200),
        Step("turnaround", Ask.TEXT, 1, 60),
        FILES,
    ),
    ListingKind.INSTRUMENT: (
        TITLE,
        CATEGORY,
        Step("model", Ask.TEXT, 1, 60),
        Step("maker", Ask.TEXT, 1, 60),
        Step("location", Ask.TEXT, 2, 100),
        Step("open_hours", Ask.TEXT, 1, 40),
        Step("modes", Ask.MULTI),
        Step("training", Ask.CHOICE),
        Step("fee_basis", Ask.CHOICE),
        Step("rate", Ask.TEXT, 2, 100),
        Step("bring", Ask.TEXT, 1, 200),
        Step("booking_notes", Ask.LONG, 1, 500),
        FILES,
    ),
    ListingKind.ACHIEVEMENT: (
        TITLE,
        CATEGORY,
        DESCRIPTION,
        Step("maturity", Ask.CHOICE),
        Step("patents", Ask.TEXT, 1, 300),
        Step("transfer_modes", Ask.MULTI),
        FILES,
    ),
}
# Answers kept in the listing row itself; the others go into its details.
COLUMNS = ("title", "category", "attachments")
# Rugao art. 11(1): research teams transfer achievements, institutions serve (DESIGN §1).
KINDS_OF_ROLE: dict[Role, tuple[ListingKind, ...]] = {
    Role.INSTITUTION: (ListingKind.SERVICE, ListingKind.INSTRUMENT),
    Role.RESEARCH: (ListingKind.ACHIEVEMENT,),
}
NO_PATENT = frozenset({"无", "none", "no", "-", "—"})
# A Chinese patent application number: 8 (before 2003) or 12 digits, a dot, a check digit;
# "ZL" in front marks a granted patent. The check digit is the weighted sum modulo 11.
_PATENT = re.compile(r"^(?:ZL)?(\d{8}|\d{12})\.([0-9X])$")
_HOURS = re.compile(r"^([1-7])-([1-7])\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def steps_of(kind: ListingKind) -> tuple[Step, ...]:
    """The questions of this kind, in order."""
    return STEPS[kind]


def step_named(kind: ListingKind, name: str) -> Step | None:
    """The step of this kind with this name, if any."""
    return next((s for s in STEPS[kind] if s.name == name), None)


def patent_ok(number: str) -> bool:
    """Whether a Chinese patent (application) number has a valid check digit."""
    found = _PATENT.match(number.replace(" ", "").upper())
    if found is None:
        return False
    digits, check = found.groups()
    total = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=False)) % 11
    return check == ("X" if total == 10 else str(total))


def check_patents(raw: str) -> list[str]:
    """Patent numbers separated by commas (or none): each with a valid check digit."""
    text = raw.strip()
    if text.lower() in NO_PATENT:
        return []
    numbers = [p.strip().upper().replace(" ", "") for p in re.split(r"[,，;；、\n]+", text)]
    numbers = [p for p in numbers if p]
    bad = [p for p in numbers if not patent_ok(p)]
    if bad:
        raise ValidationFailed("listing.patent_invalid", number=bad[0])
    if len(numbers) > 10:
        raise ValidationFailed("listing.patents_many", max=10)
    return numbers


def parse_open_hours(raw: str) -> dict[str, Any]:
    """Open hours as weekdays and times, e.g. 1-5 08:30-17:30 (Monday to Friday)."""
    found = _HOURS.match(" ".join(raw.replace("：", ":").split()))
    if found is None:
        raise ValidationFailed("listing.hours_format")
    first, last, h1, m1, h2, m2 = (int(g) for g in found.groups())
    try:
        opens, closes = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ValidationFailed("listing.hours_format") from None
    if first > last or opens >= closes:
        raise ValidationFailed("listing.hours_format")
    return {
        "days": list(range(first, last + 1)),
        "from": opens.strftime("%H:%M"),
        "to": closes.strftime("%H:%M"),
    }


def _text(raw: Any, step: Step) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed("input.text_expected")
    raw = storable(raw)
    text = raw.strip() if step.ask is Ask.LONG else " ".join(raw.split())
    if len(text) < step.minimum:
        raise ValidationFailed("demand.too_short", min=step.minimum)
    if len(text) > step.maximum:
        raise ValidationFailed("demand.too_long", max=step.maximum, length=len(text))
    return text


def check_answer(kind: ListingKind, name: str, raw: Any, platform: PlatformConfig) -> Any:
    """The checked, normalised answer to one step, or ValidationFailed saying what is wrong."""
    step = step_named(kind, name)
    if step is None:
        raise ValidationFailed("input.text_expected")
    if step.name == "category":
        if not isinstance(raw, str) or platform.category(raw) is None:
            raise ValidationFailed("demand.category_unknown")
        return raw
    if step.ask is Ask.CHOICE:
        if raw not in CHOICES[step.name]:
            raise ValidationFailed("listing.choice_unknown")
        return raw
    if step.ask is Ask.MULTI:
        picked = [c for c in CHOICES[step.name] if isinstance(raw, list) and c in raw]
        if not picked:
            raise ValidationFailed("listing.pick_one")
        return picked
    if step.ask is Ask.FILES:
        files = raw if isinstance(raw, list) else []
        if len(files) > demands.ATTACHMENTS_MAX:
            raise ValidationFailed("demand.attachments_full", max=demands.ATTACHMENTS_MAX)
        if any(
            not isinstance(f, dict) or f.get("kind") not in demands.ATTACHMENT_KINDS for f in files
        ):
            raise ValidationFailed("demand.attachment_kind")
        return files
    text = _text(raw, step)
    if step.name == "patents":
        return check_patents(text)
    if step.name == "open_hours":
        return parse_open_hours(text)
    return text


def first_missing(kind: ListingKind, draft: dict[str, Any]) -> Step | None:
    """The first question not yet answered (files count once confirmed as done)."""
    for step in STEPS[kind]:
        if step.ask is Ask.FILES:
            if not draft.get("attachments_done"):
                return step
        elif step.name not in draft or draft[step.name] in (None, ""):
            return step
    return None


def checked(kind: ListingKind, draft: dict[str, Any], platform: PlatformConfig) -> dict:
    """Every answer of the draft checked again: the listing values to store."""
    values: dict[str, Any] = {}
    for step in STEPS[kind]:
        raw = draft.get(step.name, [] if step.ask is Ask.FILES else None)
        if step.name in ("patents", "open_hours") and not isinstance(raw, str):
            values[step.name] = _recheck_parsed(step.name, raw)
            continue
        values[step.name] = check_answer(kind, step.name, raw, platform)
    return values


def _recheck_parsed(name: str, value: Any) -> Any:
    # The draft keeps these parsed (a list of numbers, a dict of hours): check them again.
    if name == "patents" and isinstance(value, list):
        return check_patents(",".join(str(v) for v in value) or "无")
    if name == "open_hours" and isinstance(value, dict):
        days = value.get("days") or [0]
        return parse_open_hours(f"{min(days)}-{max(days)} {value.get('from')}-{value.get('to')}")
    raise ValidationFailed("input.text_expected")
