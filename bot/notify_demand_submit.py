"""Notifications of the demand_submit area: what the owner side hears about its demand.

DemandRelayed: the enterprise's registered users learn an assistant wrote for them and may
take it over (Rugao art. 11(3)). DemandRejected: the reason, with Edit and resubmit.
DemandPublished: only the owner's message; bot/notify_market.py recommends it to institutions.
People the bot cannot write to (never started it, or blocked it) are skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.demand_submit_views import published_message, rejected_message, relayed_message
from handlers.review_views import reason_text
from locales.i18n import current_locale
from models import demands
from models.entities import User
from models.events import DemandPublished, DemandRejected, DemandRelayed
from models.users import display_name

if TYPE_CHECKING:
    from bot.notifier import TelegramNotifier


def _reachable(people: list[User]) -> list[User]:
    return [person for person in people if person.reachable]


async def _relayed(notifier: TelegramNotifier, event: DemandRelayed) -> None:
    demand = await demands.get(event.demand_id)
    assistant = await User.get_or_none(id=demand.submitted_by_id)
    name = display_name(assistant) if assistant else "?"
    for person in _reachable(await demands.enterprise_members(demand.owner_id)):
        await notifier.tell(person.id, lambda: relayed_message(demand, name))


async def _rejected(notifier: TelegramNotifier, event: DemandRejected) -> None:
    demand = await demands.get(event.demand_id)
    for person in _reachable(await demands.owner_side(demand)):
        await notifier.tell(
            person.id,
            lambda: rejected_message(
                demand, reason_text(event.reason, notifier.platform, current_locale())
            ),
        )


async def _published(notifier: TelegramNotifier, event: DemandPublished) -> None:
    demand = await demands.get(event.demand_id)
    for person in _reachable(await demands.owner_side(demand)):
        await notifier.tell(person.id, lambda: published_message(demand))


# Event type -> coroutine function (notifier, event); bot/notifier.py calls each in turn.
HANDLERS: dict[type, Any] = {
    DemandRelayed: _relayed,
    DemandRejected: _rejected,
    DemandPublished: _published,
}
