"""What each reminder says, in the recipient's language, with a button to act on it.

Called inside `use_locale(...)` by the engine; the text comes from locales/*/reminders.po.
Every message about a record quotes its reference code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.broadcasts_views import message as broadcast_message
from handlers.evaluation_views import result_notice
from handlers.feedback import rate_button
from handlers.market_views import cb as market_cb
from locales.i18n import t
from models import broadcasts
from models.deliveries import BROADCAST
from models.reminder_entities import ReminderDelivery

Rendered = tuple[str, InlineKeyboardMarkup | None]
RSVP_PREFIX = "rm"


def rsvp_buttons(day: str) -> InlineKeyboardMarkup:
    """Attend / cannot attend; the meeting date rides in the callback data (rm:r:DATE:1|0)."""
    compact = day.replace("-", "")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("reminder.rsvp.yes"), callback_data=f"rm:r:{compact}:1"),
                InlineKeyboardButton(t("reminder.rsvp.no"), callback_data=f"rm:r:{compact}:0"),
            ]
        ]
    )


def _one(label_id: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(label_id), callback_data=data)]])


def _view(demand_id: int, reference: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"🔎 {reference}", callback_data=market_cb("v", demand_id))]]
    )


def _meeting(p: dict[str, Any]) -> Rendered:
    return t("reminder.meeting", meeting=p["meeting"]), rsvp_buttons(p["date"])


def _summary(p: dict[str, Any]) -> Rendered:
    text = t("reminder.meeting_summary", meeting=p["meeting"], yes=p["attending"], no=p["absent"])
    return text, None


def _annual(p: dict[str, Any]) -> Rendered:
    key = "reminder.annual_report.overdue" if p.get("overdue") else "reminder.annual_report.due"
    return t(key, year=p["year"], due=p["due"]), _one("reminder.button.report", "rm:rep:a")


def _filing(p: dict[str, Any]) -> Rendered:
    key = "reminder.filing_report.overdue" if p.get("overdue") else "reminder.filing_report.due"
    text = t(key, reference=p["reference"], title=p["title"], due=p["due"])
    return text, _one("reminder.button.report", f"rm:rep:f:{p['demand']}")


def _filing_overdue(p: dict[str, Any]) -> Rendered:
    text = t(
        "reminder.filing_overdue",
        reference=p["reference"],
        title=p["title"],
        institution=p["institution"],
        due=p["due"],
    )
    return text, _view(int(p["demand"]), str(p["reference"]))


def _evaluation_opens(p: dict[str, Any]) -> Rendered:
    return t("reminder.evaluation.opens", year=p["year"], date=p["date"]), None


def _evaluation_results(p: dict[str, Any]) -> Rendered:
    return result_notice(p), None


def _pending(p: dict[str, Any]) -> Rendered:
    text = t("reminder.pending_reviews", count=p["count"], hours=p["hours"])
    return text, _one("reminder.button.queue", "pq:p:0")


def _escalation(p: dict[str, Any]) -> Rendered:
    text = t("reminder.pending_escalation", count=p["count"], hours=p["hours"])
    return text, _one("reminder.button.queue", "pq:p:0")


def _feedback(p: dict[str, Any]) -> Rendered:
    text = t("reminder.feedback", reference=p["reference"], title=p["title"])
    return text, InlineKeyboardMarkup([[rate_button(int(p["demand"]))]])


def _expiry(p: dict[str, Any]) -> Rendered:
    text = t(
        "reminder.demand_expiry",
        reference=p["reference"],
        title=p["title"],
        wanted_by=p["wanted_by"],
    )
    return text, _view(int(p["demand"]), str(p["reference"]))


def _broadcast(p: dict[str, Any]) -> Rendered:
    return broadcast_message(str(p["reference"]), str(p["text"])), None


RENDER: dict[str, Callable[[dict[str, Any]], Rendered]] = {
    "service_meeting": _meeting,
    "meeting_summary": _summary,
    "annual_report": _annual,
    "filing_report": _filing,
    "filing_overdue": _filing_overdue,
    "evaluation_opens": _evaluation_opens,
    "evaluation_results": _evaluation_results,
    "pending_reviews": _pending,
    "pending_escalation": _escalation,
    "feedback": _feedback,
    "demand_expiry": _expiry,
    BROADCAST: _broadcast,
}


def render(rule: str, params: dict[str, Any]) -> Rendered:
    """The message of a delivery; KeyError for a rule this code does not know."""
    return RENDER[rule](params)


async def prepare(rows: Sequence[ReminderDelivery]) -> dict[int, dict[str, Any]]:
    """What some rows' params only point at, by row id: a broadcast's text is stored once,
    on the broadcast, not on each of its thousands of deliveries."""
    wanted = {int(r.params["broadcast"]) for r in rows if r.rule == BROADCAST}
    if not wanted:
        return {}
    found = await broadcasts.texts(wanted)
    extra: dict[int, dict[str, Any]] = {}
    for row in rows:
        item = found.get(int(row.params.get("broadcast", 0))) if row.rule == BROADCAST else None
        if item is not None:
            extra[row.id] = {"reference": item.reference, "text": item.text}
    return extra
