"""Notifications of the market area: recommendations, offers, acceptance, closing.

PIPL (DESIGN §2): a recommendation carries no owner name, organisation or phone; contacts go
both ways only on DemandMatched, i.e. after the owner accepted the institution's offer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers import market_views as views
from locales.i18n import current_locale, t
from models import market, matching
from models.demand_entities import Demand, DemandStatus, Intent
from models.entities import Organization, UserStatus
from models.events import (
    DemandClosed,
    DemandMatched,
    DemandPublished,
    IntentDeclined,
    IntentReceived,
)

if TYPE_CHECKING:
    from bot.notifier import TelegramNotifier


async def _tell_institutions(
    notifier: TelegramNotifier, org_ids: list[int], message_id: str, demand: Demand
) -> None:
    for person in await matching.representatives(org_ids):
        await notifier.tell(
            person.id,
            lambda: (t(message_id, reference=demand.reference, title=demand.title), None),
        )


async def on_published(notifier: TelegramNotifier, event: DemandPublished) -> None:
    """Recommend the demand to the best-fitting institutions (Rugao art. 11)."""
    demand = await Demand.get_or_none(id=event.demand_id)
    if demand is None or demand.status is not DemandStatus.PUBLISHED:
        return
    chosen = await matching.recommend(demand, notifier.platform.demands.recommend_max)
    for person in await matching.representatives([org.id for org in chosen]):
        await notifier.tell(
            person.id, lambda: views.recommendation(demand, notifier.platform, current_locale())
        )


async def on_intent(notifier: TelegramNotifier, event: IntentReceived) -> None:
    """The owner side gets the institution's profile with Accept / Decline."""
    intent = await Intent.get_or_none(id=event.intent_id)
    if intent is None:
        return
    demand = await Demand.get(id=intent.demand_id)
    profile = await matching.profile(intent.institution_id)
    for person in await market.owner_side(demand):
        await notifier.tell(person.id, lambda: views.offer_card(intent, demand, profile))


async def on_declined(notifier: TelegramNotifier, event: IntentDeclined) -> None:
    """The institution learns, politely, that its offer was declined."""
    intent = await Intent.get_or_none(id=event.intent_id)
    if intent is None:
        return
    demand = await Demand.get(id=intent.demand_id)
    await _tell_institutions(notifier, [intent.institution_id], "market.declined", demand)


def _file_contract(demand_id: int) -> InlineKeyboardMarkup:
    """Either side files the signed contract from the match notice (or with /contract)."""
    label = t("engage.button.contract")
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"en:c:{demand_id}")]])


async def on_matched(notifier: TelegramNotifier, event: DemandMatched) -> None:
    """Contacts both ways; the institutions not chosen are told politely."""
    demand = await Demand.get(id=event.demand_id)
    intent = await Intent.get(id=event.intent_id)
    institution = await Organization.get(id=intent.institution_id)
    people = await matching.contacts(institution.id)
    parties = await market.parties(demand)
    owner_side = await market.owner_side(demand)
    # The person who wrote the demand, unless they have left (/forget): then one who speaks
    # for the owner now.
    contact = parties.submitter
    if contact is None or contact.status is not UserStatus.ACTIVE:
        contact = owner_side[0] if owner_side else None
    for person in owner_side:
        await notifier.tell(
            person.id,
            lambda: (
                views.contacts_for_owner(demand, institution, people),
                _file_contract(demand.id),
            ),
        )
    owner = parties.owner
    if owner is not None:
        for person in await matching.representatives([institution.id]):
            await notifier.tell(
                person.id,
                lambda: (
                    views.contacts_for_institution(demand, owner, contact),
                    _file_contract(demand.id),
                ),
            )
    others = [i.institution_id for i in await market.intents_of(event.closed_intent_ids)]
    await _tell_institutions(notifier, others, "market.closed.chosen_other", demand)


async def on_closed(notifier: TelegramNotifier, event: DemandClosed) -> None:
    """Withdrawn or expired: whoever offered help is told; on expiry, the owner side too."""
    demand = await Demand.get(id=event.demand_id)
    offered = [i.institution_id for i in await market.intents_of(event.intent_ids)]
    if demand.status is DemandStatus.EXPIRED:
        await _tell_institutions(notifier, offered, "market.closed.expired", demand)
        for person in await market.owner_side(demand):
            await notifier.tell(
                person.id,
                lambda: (
                    t("market.expired.owner", reference=demand.reference, title=demand.title),
                    None,
                ),
            )
        return
    if demand.matched_institution_id is not None:
        # Withdrawn after a match (before any contract): the matched institution must know.
        offered.append(demand.matched_institution_id)
    await _tell_institutions(notifier, offered, "market.closed.withdrawn", demand)


# Event type -> coroutine function (notifier, event); bot/notifier.py calls each in turn.
HANDLERS: dict[type, Any] = {
    DemandPublished: on_published,
    IntentReceived: on_intent,
    IntentDeclined: on_declined,
    DemandMatched: on_matched,
    DemandClosed: on_closed,
}
