"""Notifications of institution tiers and sanctions (Shenyang art. 7, Rugao art. 21).

Representatives hear of their institution's tier, notice and status; admins get the notices,
every objection with Uphold / Dismiss, and the open engagements of a suspended or revoked
institution in one message. Each message is rendered in its recipient's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup

from handlers.institutions_views import objection_card, reason_label, tier_label
from locales.i18n import t
from models import matching, revocation, tiers
from models.entities import Organization, Role, User, UserStatus
from models.events import (
    InstitutionSanctioned,
    NoticeOpened,
    NoticeSettled,
    ObjectionDecided,
    ObjectionFiled,
    TierChanged,
)
from models.institution_entities import PromotionStatus

if TYPE_CHECKING:
    from bot.notifier import TelegramNotifier

Render = Callable[[], tuple[str, InlineKeyboardMarkup | None]]


def _text(key: str, **params: Any) -> Render:
    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return t(key, **params), None

    return render


async def _admins() -> list[User]:
    return await User.filter(role=Role.ADMIN, status=UserStatus.ACTIVE).order_by("id")


async def _tell_all(notifier: TelegramNotifier, users: Iterable[User], render: Render) -> None:
    for user in users:
        await notifier.tell(user.id, render)


async def on_tier_changed(notifier: TelegramNotifier, event: TierChanged) -> None:
    """The representatives learn their new tier."""
    org = await Organization.get(id=event.organization_id)
    key = "inst.told.raised" if event.raised else "inst.told.lowered"

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return t(key, institution=org.name, tier=tier_label(event.tier)), None

    await _tell_all(notifier, await matching.contacts(org.id), render)


async def on_notice_opened(notifier: TelegramNotifier, event: NoticeOpened) -> None:
    """The representatives and the admins learn of the public notice and its last day."""
    promotion = await tiers.promotion_with_org(event.promotion_id)

    def render(key: str) -> Render:
        def inner() -> tuple[str, InlineKeyboardMarkup | None]:
            text = t(
                key,
                reference=promotion.reference,
                institution=promotion.organization.name,
                tier=tier_label(promotion.to_tier),
                until=promotion.notice_ends_on.isoformat(),
            )
            return text, None

        return inner

    await _tell_all(
        notifier, await matching.contacts(promotion.organization_id), render("notice.told_rep")
    )
    await _tell_all(notifier, await _admins(), render("notice.told_admin"))


async def on_notice_settled(notifier: TelegramNotifier, event: NoticeSettled) -> None:
    """The representatives learn whether the promotion took effect or was cancelled."""
    promotion = await tiers.promotion_with_org(event.promotion_id)
    effective = promotion.status is PromotionStatus.EFFECTIVE
    key = "notice.effective" if effective else "notice.cancelled"

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        text = t(
            key,
            reference=promotion.reference,
            institution=promotion.organization.name,
            tier=tier_label(promotion.to_tier),
        )
        return text, None

    await _tell_all(notifier, await matching.contacts(promotion.organization_id), render)


async def on_objection_filed(notifier: TelegramNotifier, event: ObjectionFiled) -> None:
    """Every admin gets the objection with Uphold / Dismiss."""
    objection = await tiers.objection_with_parties(event.objection_id)
    await _tell_all(notifier, await _admins(), lambda: objection_card(objection))


async def on_objection_decided(notifier: TelegramNotifier, event: ObjectionDecided) -> None:
    """The objector learns the decision."""
    objection = await tiers.objection_with_parties(event.objection_id)
    key = f"objection.outcome.{objection.status.value}"
    await notifier.tell(
        objection.objector_id,
        _text(
            key,
            reference=objection.reference,
            institution=objection.promotion.organization.name,
        ),
    )


async def on_sanctioned(notifier: TelegramNotifier, event: InstitutionSanctioned) -> None:
    """The representatives are told; the admins get the open engagements in one message."""
    org = await Organization.get(id=event.organization_id)
    last = await revocation.latest(org.id)

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        reason = reason_label(last.reason_code, last.reason) if last else ""
        note = last.note if last else ""
        return t(f"inst.told.{event.kind}", institution=org.name, reason=reason, note=note), None

    await _tell_all(notifier, await matching.contacts(org.id), render)
    if event.open_references:
        await _tell_all(
            notifier,
            await _admins(),
            _text(
                "inst.open_engagements",
                institution=org.name,
                count=len(event.open_references),
                references=", ".join(event.open_references),
            ),
        )


HANDLERS: dict[type, Any] = {
    TierChanged: on_tier_changed,
    NoticeOpened: on_notice_opened,
    NoticeSettled: on_notice_settled,
    ObjectionFiled: on_objection_filed,
    ObjectionDecided: on_objection_decided,
    InstitutionSanctioned: on_sanctioned,
}
