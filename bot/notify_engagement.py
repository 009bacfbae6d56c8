"""Notifications of the engagement area: contract, delivery, completion, dispute, feedback,
complaints. Each message is rendered in its recipient's language by `notifier.tell`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.complaints_chat import complaint_card
from handlers.feedback import rate_button
from handlers.review_views import reason_text
from locales.i18n import t
from models import complaints, engagements
from models.engagements import Parties
from models.entities import User
from models.events import ComplaintFiled, EngagementChanged
from models.users import locale_of

if TYPE_CHECKING:
    from bot.notifier import TelegramNotifier

Render = Callable[[], tuple[str, InlineKeyboardMarkup | None]]

# Actions that tell both sides the same news (with a button for one of them, see below).
BOTH_SIDES = (
    "contract_acknowledged",
    "contract_refused",
    "resolved_completed",
    "resolved_reopened",
)
DYNAMIC_IDS = tuple(f"engage.note.{a}" for a in BOTH_SIDES)


def _button(label_id: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(t(label_id), callback_data=data)


def _text(key: str, p: Parties, **extra: Any) -> Render:
    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return t(key, reference=p.demand.reference, title=p.demand.title, **extra), None

    return render


def _with_buttons(
    key: str, p: Parties, buttons: Callable[[], list[list[InlineKeyboardButton]]], **extra: Any
) -> Render:
    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        text = t(key, reference=p.demand.reference, title=p.demand.title, **extra)
        return text, InlineKeyboardMarkup(buttons())

    return render


async def _tell_all(notifier: TelegramNotifier, users: Iterable[User], render: Render) -> None:
    for user in users:
        await notifier.tell(user.id, render)


async def on_engagement_changed(notifier: TelegramNotifier, event: EngagementChanged) -> None:
    """Tell the sides (and admins for a dispute) what just happened to the engagement."""
    p = await engagements.parties(event.demand_id)
    demand_id, action = event.demand_id, event.action
    owners, institution = p.owner_side, p.institution_side
    if action == "contract_filed":
        by_owner = any(u.id == event.actor_id for u in owners)
        engagement = p.engagement
        render = _text(
            "engage.note.contract_filed",
            p,
            by=(p.owner if by_owner else p.institution).name,
            amount=str(engagement.amount),
            signed_on=engagement.signed_on.isoformat() if engagement.signed_on else "—",
            due=engagement.filing_due.isoformat() if engagement.filing_due else "—",
        )
        await _tell_all(notifier, institution if by_owner else owners, render)
    elif action == "contract_acknowledged":
        await _tell_all(notifier, owners, _text("engage.note.contract_acknowledged", p))
        deliver = _with_buttons(
            "engage.note.contract_acknowledged",
            p,
            lambda: [[_button("engage.button.delivered", f"en:dl:{demand_id}")]],
        )
        await _tell_all(notifier, institution, deliver)
    elif action == "contract_refused":
        reason = await engagements.contract_refusal_reason(p.engagement.id)
        for user in [*owners, *institution]:
            shown = reason_text(reason, notifier.platform, locale_of(user))
            await notifier.tell(
                user.id,
                _with_buttons(
                    "engage.note.contract_refused",
                    p,
                    lambda: [[_button("engage.button.contract", f"en:c:{demand_id}")]],
                    reason=shown,
                ),
            )
    elif action == "delivered":
        render = _with_buttons(
            "engage.note.delivered",
            p,
            lambda: [
                [_button("engage.button.complete", f"en:ok:{demand_id}")],
                [_button("engage.button.dispute", f"en:ds:{demand_id}")],
            ],
            institution=p.institution.name,
        )
        await _tell_all(notifier, owners, render)
    elif action == "completed":
        await _tell_all(notifier, institution, _text("engage.note.completed", p))
        ask = _with_buttons("engage.note.rate", p, lambda: [[rate_button(demand_id)]])
        await _tell_all(notifier, owners, ask)
    elif action == "disputed":
        await _notify_dispute(notifier, p)
    elif action in ("resolved_completed", "resolved_reopened"):
        key = f"engage.note.{action}"
        if action == "resolved_completed":
            await _tell_all(notifier, institution, _text(key, p))
            ask = _with_buttons(key, p, lambda: [[rate_button(demand_id)]])
            await _tell_all(notifier, owners, ask)
        else:
            await _tell_all(notifier, owners, _text(key, p))
            deliver = _with_buttons(
                key, p, lambda: [[_button("engage.button.delivered", f"en:dl:{demand_id}")]]
            )
            await _tell_all(notifier, institution, deliver)
    elif action == "rated" and p.feedback is not None:
        await _tell_all(notifier, institution, _scores(p))


async def _notify_dispute(notifier: TelegramNotifier, p: Parties) -> None:
    reason = await engagements.dispute_reason(p.demand.id) or "—"
    demand_id = p.demand.id
    resolve = _with_buttons(
        "engage.note.disputed_admin",
        p,
        lambda: [
            [_button("engage.button.resolve_completed", f"en:rc:{demand_id}")],
            [_button("engage.button.resolve_reopened", f"en:ro:{demand_id}")],
        ],
        owner=p.owner.name,
        institution=p.institution.name,
        reason=reason,
    )
    await _tell_all(notifier, await engagements.admins(), resolve)
    await _tell_all(notifier, p.institution_side, _text("engage.note.disputed", p, reason=reason))


def _scores(p: Parties) -> Render:
    feedback = p.feedback
    assert feedback is not None

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        text = t(
            "engage.note.rated",
            reference=p.demand.reference,
            title=p.demand.title,
            overall=feedback.overall,
            quality=feedback.quality,
            timeliness=feedback.timeliness,
            professionalism=feedback.professionalism,
            outcome=t(f"rate.outcome.{feedback.outcome.value}"),
            comment=feedback.comment or "—",
        )
        return text, None

    return render


async def on_complaint_filed(notifier: TelegramNotifier, event: ComplaintFiled) -> None:
    """Every active admin gets the complaint with Uphold / Dismiss (Jiangsu art. 31)."""
    complaint = await complaints.complaint_with_parties(event.complaint_id)
    await _tell_all(notifier, await engagements.admins(), lambda: complaint_card(complaint))


# Event type -> coroutine function (notifier, event); bot/notifier.py calls each in turn.
HANDLERS: dict[type, Any] = {
    EngagementChanged: on_engagement_changed,
    ComplaintFiled: on_complaint_filed,
}
