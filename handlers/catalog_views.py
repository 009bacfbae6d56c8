"""What the catalogue looks like: a listing card, the guided flow's questions and summary,
result pages of /catalog and /search, and the reviewer's view of a listing (issue 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from locales.i18n import Raw, t
from models.catalog_search import Hit
from models.entities import InstitutionTier
from models.listing_entities import Listing, ListingKind, ListingStatus, RequestStatus
from models.listing_fields import CHOICES, Ask, Step, steps_of
from models.platform import PlatformConfig
from models.text import star_bar

if TYPE_CHECKING:
    from models.review import ListingCard

FLOW = "listing"
VERSION = 1
KIND = "kind"
CONFIRM = "confirm"
ALL_STEPS = sorted({s.name for k in ListingKind for s in steps_of(k)})
DYNAMIC_IDS = (
    *(f"listing.kind.{k.value}" for k in ListingKind),
    *(f"listing.status.{s.value}" for s in ListingStatus),
    *(f"listing.ask.{name}" for name in ALL_STEPS),
    *(f"listing.field.{name}" for name in ALL_STEPS),
    *(f"listing.choice.{step}.{code}" for step, codes in CHOICES.items() for code in codes),
    *(f"listing.tier.{tier.value}" for tier in InstitutionTier),
    *(f"request.status.{s.value}" for s in RequestStatus),
)
DESCRIPTION_SHOWN = 600


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def cb(step: str, action: str, value: str = "") -> str:
    """Callback data of a flow button; the step lets an old button be recognised."""
    return f"ls:{step}:{action}:{value}" if value else f"ls:{step}:{action}"


def value_text(step: str, value: Any, platform: PlatformConfig, locale: str) -> str:
    """One answer as a reader sees it."""
    if value in (None, "", []):
        return "—"
    if step == "category":
        found = platform.category(str(value))
        return found.label(locale) if found else str(value)
    if step in CHOICES:
        codes = value if isinstance(value, list) else [value]
        return "、".join(t(f"listing.choice.{step}.{c}") for c in codes)
    if step == "open_hours" and isinstance(value, dict):
        days = value.get("days") or [1]
        return t(
            "listing.hours",
            first=min(days),
            last=max(days),
            opens=value.get("from"),
            closes=value.get("to"),
        )
    if step == "patents" and isinstance(value, list):
        return ", ".join(value)
    if step == "attachments" and isinstance(value, list):
        return str(len(value))
    text = str(value)
    return text if len(text) <= DESCRIPTION_SHOWN else text[:DESCRIPTION_SHOWN] + "…"


def answers_lines(
    kind: ListingKind, answers: dict[str, Any], platform: PlatformConfig, locale: str
) -> list[str]:
    """Every answer of a listing, one line each."""
    return [
        t(
            "card.line",
            field=t(f"listing.field.{s.name}"),
            value=value_text(s.name, answers.get(s.name), platform, locale),
        )
        for s in steps_of(kind)
        if s.name != "title"
    ]


def listing_answers(listing: Listing) -> dict[str, Any]:
    """The shown version of a listing as answers."""
    return {
        "title": listing.title,
        "category": listing.category,
        "attachments": listing.attachments,
        **listing.details,
    }


def listing_text(
    listing: Listing, owner_name: str, platform: PlatformConfig, locale: str, extra: str = ""
) -> str:
    """The card of a listing in the catalogue."""
    head = t(
        "listing.card_title",
        kind=t(f"listing.kind.{listing.kind.value}"),
        reference=listing.reference,
        title=listing.title,
    )
    lines = [head, t("card.line", field=t("listing.field.owner"), value=owner_name)]
    if extra:
        lines.append(extra)
    lines += answers_lines(listing.kind, listing_answers(listing), platform, locale)
    return "\n".join(lines)


def listing_review_lines(card: ListingCard, platform: PlatformConfig, locale: str) -> list[str]:
    """A reviewer's card: the listing, or the edit waiting (the shown version stays)."""
    listing = card.listing
    edited = listing.pending is not None
    answers = {**listing_answers(listing), **(listing.pending or {})}
    key = "listing.review_edit_title" if edited else "listing.review_title"
    return [
        t(key, kind=t(f"listing.kind.{listing.kind.value}"), reference=listing.reference),
        t("card.stage", stage=t(f"stage.{card.review.stage}")),
        t("card.line", field=t("listing.field.title"), value=str(answers.get("title"))),
        t("card.line", field=t("listing.field.owner"), value=card.owner_name),
        *answers_lines(listing.kind, answers, platform, locale),
    ]


def owner_line(hit: Hit) -> str:
    """The owner's tier and stars, as every result shows them."""
    org = hit.owner
    tier = t(f"listing.tier.{org.tier.value}") if org.tier else t("listing.tier.none")
    rated = []
    if hit.evaluation is not None:
        stars = star_bar(hit.evaluation.stars)
        rated.append(t("listing.evaluation_stars", year=hit.evaluation.year, stars=stars))
    if hit.profile.stars:
        rated.append(t("listing.user_rating", stars=hit.profile.stars))
    stars = " · ".join(rated) or t("listing.no_rating")
    return t("listing.owner_line", owner=org.name, tier=tier, stars=stars)


def results(
    hits: list[Hit], total: int, offset: int, size: int, title: str, page_data: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of results: one button per listing, then Previous / Next."""
    if total == 0:
        return t("catalog.none", title=title), None
    lines = [
        t("catalog.page", title=title, first=offset + 1, last=offset + len(hits), total=total)
    ]
    rows = []
    for n, hit in enumerate(hits, start=offset + 1):
        kind = t(f"listing.kind.{hit.listing.kind.value}")
        lines.append(
            t(
                "catalog.item",
                n=n,
                kind=kind,
                reference=hit.listing.reference,
                title=hit.listing.title,
            )
            + "\n"
            + owner_line(hit)
        )
        label = f"{n}. {hit.listing.title}"[:60]
        rows.append([_button(label, f"co:{hit.listing.id}")])
    nav = []
    if offset > 0:
        nav.append(_button(t("button.previous"), f"{page_data}:{max(0, offset - size)}"))
    if offset + size < total:
        nav.append(_button(t("button.next"), f"{page_data}:{offset + size}"))
    if nav:
        rows.append(nav)
    return "\n\n".join(lines), InlineKeyboardMarkup(rows)


def question(
    step: str, draft: dict[str, Any], platform: PlatformConfig, locale: str, kinds: tuple
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of a step (or the summary), with its buttons, Back and Cancel."""
    cancel = _button(t("button.cancel"), cb(step, "cancel"))
    if step == KIND:
        rows = [[_button(t(f"listing.kind.{k.value}"), cb(KIND, "v", k.value))] for k in kinds]
        return t("listing.ask.kind"), InlineKeyboardMarkup([*rows, [cancel]])
    kind = ListingKind(draft["kind"])
    steps = steps_of(kind)
    if step == CONFIRM:
        lines = [
            t("listing.summary", kind=t(f"listing.kind.{kind.value}")),
            t("card.line", field=t("listing.field.title"), value=str(draft.get("title"))),
            *answers_lines(kind, draft, platform, locale),
        ]
        edits = [
            _button("✏️ " + t(f"listing.field.{s.name}"), cb(CONFIRM, "f", s.name)) for s in steps
        ]
        rows = [
            *(edits[i : i + 3] for i in range(0, len(edits), 3)),
            [_button(t("button.confirm"), cb(CONFIRM, "ok"))],
            [_button(t("button.back"), cb(CONFIRM, "back")), cancel],
        ]
        return "\n".join(lines), InlineKeyboardMarkup(rows)
    current = next(s for s in steps if s.name == step)
    number = [s.name for s in steps].index(step) + 1
    text = t("listing.step", n=number, m=len(steps)) + "\n" + t(f"listing.ask.{step}")
    rows = _choices(current, draft, platform, locale)
    nav = [cancel]
    if number > 1:
        nav.insert(0, _button(t("button.back"), cb(step, "back")))
    rows.append(nav)
    return text, InlineKeyboardMarkup(rows)


def _choices(
    step: Step, draft: dict[str, Any], platform: PlatformConfig, locale: str
) -> list[list[InlineKeyboardButton]]:
    if step.name == "category":
        items = [(c.code, c.label(locale)) for c in platform.categories]
        return [
            [_button(label, cb(step.name, "v", code)) for code, label in items[i : i + 2]]
            for i in range(0, len(items), 2)
        ]
    if step.ask is Ask.CHOICE:
        return [
            [_button(t(f"listing.choice.{step.name}.{c}"), cb(step.name, "v", c))]
            for c in CHOICES[step.name]
        ]
    if step.ask is Ask.MULTI:
        picked = draft.get(step.name) or []
        rows = [
            [
                _button(
                    ("☑ " if c in picked else "☐ ") + t(f"listing.choice.{step.name}.{c}"),
                    cb(step.name, "t", c),
                )
            ]
            for c in CHOICES[step.name]
        ]
        return [*rows, [_button(t("button.done"), cb(step.name, "done"))]]
    if step.ask is Ask.FILES:
        count = len(draft.get("attachments") or [])
        return [[_button(t("listing.files_done", count=count), cb(step.name, "done"))]]
    return []


def manage_markup(listing: Listing) -> InlineKeyboardMarkup | None:
    """The owner's buttons under one of their listings."""
    s = listing.status
    rows = []
    if s in (ListingStatus.PUBLISHED, ListingStatus.HIDDEN, ListingStatus.REJECTED):
        rows.append([_button(t("listing.button.edit"), f"lm:edit:{listing.id}")])
    if s is ListingStatus.PUBLISHED:
        rows.append([_button(t("listing.button.hide"), f"lm:hide:{listing.id}")])
    if s is ListingStatus.HIDDEN:
        rows.append([_button(t("listing.button.show"), f"lm:show:{listing.id}")])
    if s is not ListingStatus.RETIRED:
        rows.append([_button(t("listing.button.retire"), f"lm:retire:{listing.id}")])
    return InlineKeyboardMarkup(rows) if rows else None


def mine_line(listing: Listing) -> str:
    """One of the owner's listings in /listings."""
    note = t("listing.edit_waiting") if listing.pending is not None else ""
    return (
        t(
            "listing.mine_line",
            reference=Raw(f"<b>{listing.reference}</b>"),
            title=listing.title,
            status=t(f"listing.status.{listing.status.value}"),
        )
        + note
    )


def card_markup(listing: Listing, own: bool) -> InlineKeyboardMarkup | None:
    """Under a catalogue card: its photos and spec sheets if any, then Enquire (services,
    achievements) or Book (instruments), which owners do not get for their own listing."""
    rows = []
    count = len(listing.attachments or [])
    if count:
        rows.append([_button(t("listing.button.files", count=count), f"cf:{listing.id}")])
    if not own and listing.kind is ListingKind.INSTRUMENT:
        rows.append([_button(t("listing.button.book"), f"cb:{listing.id}")])
    elif not own:
        rows.append([_button(t("listing.button.enquire"), f"cq:{listing.id}")])
    return InlineKeyboardMarkup(rows) if rows else None
