"""What each demand-submission step looks like: its question, keyboard, the summary, and the
messages the owner side receives about a demand (relayed, rejected, published)."""

from __future__ import annotations

import calendar
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from locales.i18n import Raw, t
from models.demand_entities import Demand, DemandStatus
from models.demands import ATTACHMENTS_MAX, Field
from models.platform import PlatformConfig
from models.relay import RelayField
from models.text import storable

FLOW = "demand"
# Bump when steps change meaning; a stored state of another version restarts politely.
VERSION = 1
CONFIRM = "confirm"
PICK = "pick"  # "which answer do you want to change?"
RELAY_STATES = tuple(f.value for f in RelayField)
TEXT_STATES = (Field.TITLE.value, Field.DESCRIPTION.value, Field.WANTED_BY.value, *RELAY_STATES)
CHOICE_STEPS = (Field.CATEGORY, Field.BUDGET, Field.TOWNSHIP)
ENTERPRISE_PAGE = 8
NOOP = "x"

DYNAMIC_IDS = (
    *(f"submit.ask.{f.value}" for f in Field),
    *(f"submit.ask.{s}" for s in RELAY_STATES),
    *(f"submit.field.{f.value}" for f in Field),
    *(f"submit.status.{s.value}" for s in DemandStatus),
)


def cb(step: str, action: str, value: str = "") -> str:
    """Callback data of a submission button; the step lets an old button be recognised."""
    return f"dm:{step}:{action}:{value}" if value else f"dm:{step}:{action}"


@dataclass(frozen=True)
class View:
    """What rendering a step needs besides the draft."""

    platform: PlatformConfig
    locale: str
    today: date
    steps: tuple[Field, ...]
    enterprises: Sequence[tuple[int, str]] = ()
    offset: int = 0
    month: str | None = None
    resubmit: bool = False


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def _nav(step: str, view: View) -> list[InlineKeyboardButton]:
    row = [_button(t("button.cancel"), cb(step, "cancel"))]
    first = view.steps[0].value
    if step != first:
        row.insert(0, _button(t("button.back"), cb(step, "back")))
    return row


def _header(step: str, view: View) -> str:
    field = Field.ENTERPRISE if step in RELAY_STATES else Field(step)
    return t("submit.step", n=view.steps.index(field) + 1, m=len(view.steps))


def question(step: str, draft: dict[str, Any], view: View) -> tuple[str, InlineKeyboardMarkup]:
    """The message asking for a step's answer (or the summary, or which answer to change)."""
    if step == CONFIRM:
        rows = [
            [_button(t("button.confirm"), cb(CONFIRM, "ok"))],
            [
                _button(t("button.edit"), cb(CONFIRM, "edit")),
                _button(t("button.cancel"), cb(CONFIRM, "cancel")),
            ],
        ]
        return summary(draft, view), InlineKeyboardMarkup(rows)
    if step == PICK:
        fields = [f for f in view.steps if not (view.resubmit and f is Field.ENTERPRISE)]
        rows = [[_button(t(f"submit.field.{f.value}"), cb(PICK, "f", f.value))] for f in fields]
        rows.append([_button(t("button.back"), cb(PICK, "back"))])
        return t("submit.edit_which"), InlineKeyboardMarkup(rows)
    text = f"{_header(step, view)}\n{t(f'submit.ask.{step}')}"
    if step == Field.ENTERPRISE:
        return _enterprise_question(text, view)
    if step == Field.CATEGORY:
        buttons = [
            _button(c.label(view.locale), cb(step, "v", c.code)) for c in view.platform.categories
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    elif step == Field.BUDGET:
        rows = [
            [_button(b.label(view.locale), cb(step, "v", b.code))]
            for b in view.platform.demands.budgets
        ]
    elif step == Field.TOWNSHIP:
        rows = [
            [_button(w.label(view.locale), cb(step, "v", w.code))] for w in view.platform.townships
        ]
    elif step == Field.WANTED_BY:
        rows = date_picker(view.month, view.today, view.locale)
    elif step == Field.ATTACHMENTS:
        files = draft.get(Field.ATTACHMENTS.value) or []
        text += "\n" + _files_text(files)
        done = t("submit.button.done", n=len(files)) if files else t("submit.button.skip")
        rows = [[_button(done, cb(step, "done"))]]
        if files:
            rows.append([_button(t("submit.button.clear_files"), cb(step, "clear"))])
    else:
        rows = []
    rows.append(_nav(step, view))
    return text, InlineKeyboardMarkup(rows)


def _enterprise_question(text: str, view: View) -> tuple[str, InlineKeyboardMarkup]:
    step = Field.ENTERPRISE.value
    if not view.enterprises:
        text += "\n" + t("submit.no_enterprises")
    page = view.enterprises[view.offset : view.offset + ENTERPRISE_PAGE]
    rows = [[_button(name[:60], cb(step, "v", str(org_id)))] for org_id, name in page]
    paging = []
    if view.offset > 0:
        paging.append(
            _button(
                t("button.previous"), cb(step, "p", str(max(0, view.offset - ENTERPRISE_PAGE)))
            )
        )
    if view.offset + ENTERPRISE_PAGE < len(view.enterprises):
        paging.append(_button(t("button.next"), cb(step, "p", str(view.offset + ENTERPRISE_PAGE))))
    if paging:
        rows.append(paging)
    rows.append([_button(t("submit.button.new_enterprise"), cb(step, "new"))])
    rows.append(_nav(step, view))
    return text, InlineKeyboardMarkup(rows)


def month_of(raw: str | None, today: date) -> tuple[int, int]:
    """The month a date picker shows: the asked one if it can hold a valid day, else the first."""
    first = today + timedelta(days=1)
    lowest, highest = (first.year, first.month), (today.year + 5, 12)
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
    except ValueError:
        return lowest
    if not 1 <= month <= 12:
        return lowest
    return min(max((year, month), lowest), highest)


def date_picker(
    raw_month: str | None, today: date, locale: str
) -> list[list[InlineKeyboardButton]]:
    """A month grid: days after today can be pressed; ◀ ▶ page between months."""
    step = Field.WANTED_BY.value
    year, month = month_of(raw_month, today)
    first = today + timedelta(days=1)
    earlier = (year, month - 1) if month > 1 else (year - 1, 12)
    later = (year, month + 1) if month < 12 else (year + 1, 1)
    title = [_button(t("submit.month", year=year, month=month), cb(step, NOOP))]
    if (year, month) > (first.year, first.month):
        title.insert(0, _button("◀", cb(step, "m", f"{earlier[0]}-{earlier[1]:02d}")))
    if (year, month) < (today.year + 5, 12):
        title.append(_button("▶", cb(step, "m", f"{later[0]}-{later[1]:02d}")))
    rows = [title, [_button(day, cb(step, NOOP)) for day in t("submit.weekdays").split()]]
    for week in calendar.Calendar().monthdayscalendar(year, month):
        row = []
        for day in week:
            if day == 0 or date(year, month, day) <= today:
                row.append(_button("·", cb(step, NOOP)))
            else:
                row.append(_button(str(day), cb(step, "d", date(year, month, day).isoformat())))
        rows.append(row)
    return rows


def attachment_of(message: Message) -> tuple[str, dict[str, Any] | None]:
    """The kind of file a message carries, and what the draft keeps of it."""
    if message.document is not None:
        doc = message.document
        return "document", {
            "kind": "document",
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "name": storable(doc.file_name or "document")[:100],
            "size": doc.file_size,
        }
    if message.photo:
        photo = message.photo[-1]  # the largest size Telegram made
        return "photo", {
            "kind": "photo",
            "file_id": photo.file_id,
            "file_unique_id": photo.file_unique_id,
            "name": f"photo-{photo.file_unique_id[-6:]}.jpg",
            "size": photo.file_size,
        }
    return "sticker" if message.sticker is not None else "other", None


def _files_text(files: list[dict[str, Any]]) -> str:
    if not files:
        return t("submit.attachments_none", max=ATTACHMENTS_MAX)
    names = "\n".join(f"📎 {_escape(str(f.get('name') or ''))}" for f in files)
    return t("submit.attachments_list", n=len(files), max=ATTACHMENTS_MAX, files=Raw(names))


def answer_text(field: Field, value: Any, draft: dict[str, Any], view: View) -> str:
    """An answer as the summary shows it (plain text; escaped by the caller)."""
    if field is Field.ENTERPRISE:
        return str(draft.get("enterprise_name") or value)
    if field is Field.CATEGORY:
        found = view.platform.category(str(value))
    elif field is Field.BUDGET:
        found = view.platform.budget(str(value))
    elif field is Field.TOWNSHIP:
        found = view.platform.township(str(value))
    elif field is Field.ATTACHMENTS:
        files = value or []
        names = ", ".join(str(f.get("name") or "") for f in files)
        return t("submit.files", n=len(files)) + (f" ({names})" if names else "")
    else:
        return str(value)
    return found.label(view.locale) if found else str(value)


def summary(draft: dict[str, Any], view: View) -> str:
    """The answers so far, for a last look before Confirm."""
    lines = [t("submit.summary_title")]
    for field in view.steps:
        value = draft.get(field.value)
        if field is Field.ATTACHMENTS:
            shown = answer_text(field, value, draft, view)
        else:
            shown = answer_text(field, value, draft, view) if value not in (None, "") else "—"
        lines.append(t("submit.summary_line", field=t(f"submit.field.{field.value}"), value=shown))
    return "\n".join(lines)


def chosen(field: Field, value: Any, draft: dict[str, Any], view: View) -> str:
    """What an answered question is edited into, so its old buttons disappear."""
    shown = _escape(answer_text(field, value, draft, view))
    return t(
        "submit.answered", field=t(f"submit.field.{field.value}"), value=Raw(f"<b>{shown}</b>")
    )


def reference(demand: Demand) -> Raw:
    """A demand's reference code in bold."""
    return Raw(f"<b>{demand.reference}</b>")


def township_page(
    demands: Sequence[Demand], total: int, offset: int, size: int, township: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of /township: reference, title and status of each demand, newest first."""
    if total == 0:
        return t("submit.township_empty", township=township), None
    lines = [
        t(
            "submit.township_title",
            township=township,
            first=offset + 1,
            last=offset + len(demands),
            total=total,
        )
    ]
    for demand in demands:
        status = t(f"submit.status.{demand.status.value}")
        lines.append(
            t(
                "submit.township_line",
                reference=demand.reference,
                title=demand.title,
                status=status,
            )
        )
    paging = []
    if offset > 0:
        paging.append(_button(t("button.previous"), f"dm:tw:{max(0, offset - size)}"))
    if offset + size < total:
        paging.append(_button(t("button.next"), f"dm:tw:{offset + size}"))
    return "\n".join(lines), InlineKeyboardMarkup([paging]) if paging else None


def relayed_message(demand: Demand, assistant: str) -> tuple[str, InlineKeyboardMarkup]:
    """To an enterprise's users: an assistant submitted a demand for them."""
    text = t(
        "submit.relayed", reference=reference(demand), title=demand.title, assistant=assistant
    )
    button = _button(t("submit.button.take_over"), f"dt:{demand.id}")
    return text, InlineKeyboardMarkup([[button]])


def rejected_message(demand: Demand, reason: str) -> tuple[str, InlineKeyboardMarkup]:
    """To the owner side: the demand was rejected, with the reason and Edit and resubmit."""
    text = t("submit.rejected", reference=reference(demand), title=demand.title, reason=reason)
    button = _button(t("submit.button.edit_resubmit"), f"dm:edit:{demand.id}")
    return text, InlineKeyboardMarkup([[button]])


def published_message(demand: Demand) -> tuple[str, None]:
    """To the owner side: the demand passed review and is published."""
    return t("submit.published", reference=reference(demand), title=demand.title), None


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
