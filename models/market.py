"""A demand on the market: review outcome, withdrawal, expiry, offers of help and acceptance.

Privacy (DESIGN §2, PIPL): an institution sees a published demand without the owner's name
or phone; contacts are exchanged only when the owner accepts its offer (`accept`).
Shenyang art. 7: institutions of the cultivating tier are shown but may not serve.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import audit, demands, lifecycle
from models.demand_entities import Demand, DemandStatus, Engagement, Intent, IntentStatus
from models.entities import InstitutionTier, Organization, OrgStatus, Role, User, UserStatus
from models.errors import AlreadyDecided, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.events import (
    DemandClosed,
    DemandMatched,
    DemandPublished,
    DemandRejected,
    Event,
    IntentDeclined,
    IntentReceived,
    ReviewDecided,
)

PROPOSAL_MAX = 500
QUOTE_MAX = Decimal("100000000")
SERVING_TIERS = (InstitutionTier.SERVICE, InstitutionTier.VOUCHER)


async def conclude_review(
    demand_id: int, approved: bool, reason: str | None, actor_id: int
) -> list[Event]:
    """The last review stage decided: publish, or reject so the owner can edit and resubmit."""
    demand = await demands.get(demand_id)
    if approved:
        await lifecycle.move(
            demand,
            DemandStatus.PUBLISHED,
            actor_id,
            only_from=frozenset({DemandStatus.SUBMITTED}),
            published_at=datetime.now(UTC),
        )
        return [DemandPublished(demand_id)]
    await lifecycle.move(demand, DemandStatus.REJECTED, actor_id)
    return [DemandRejected(demand_id, reason)]


async def withdraw(demand_id: int, user: User) -> list[Event]:
    """The owner takes an open demand back; waiting reviews and offers are closed."""
    demand = await demands.acting_owner(demand_id, user)
    async with in_transaction():
        await lifecycle.move(demand, DemandStatus.WITHDRAWN, user.id)
        reviews = await demands.cancel_pending_reviews(demand_id)
        closed = await _close_offers(demand_id)
    return [*(ReviewDecided(r) for r in reviews), DemandClosed(demand_id, closed)]


async def expire_due(today: date) -> list[Event]:
    """Published demands whose wanted-by date has passed without a match expire."""
    events: list[Event] = []
    for demand in await Demand.filter(status=DemandStatus.PUBLISHED, wanted_by__lt=today):
        try:
            async with in_transaction():
                await lifecycle.move(demand, DemandStatus.EXPIRED, None)
                closed = await _close_offers(demand.id)
        except InvalidTransition:
            continue  # matched or withdrawn meanwhile: nothing to expire
        events.append(DemandClosed(demand.id, closed))
    return events


async def _close_offers(demand_id: int, keep: int | None = None) -> tuple[int, ...]:
    query = Intent.filter(demand_id=demand_id, status=IntentStatus.PENDING)
    if keep is not None:
        query = query.exclude(id=keep)
    ids: list[int] = await query.values_list("id", flat=True)  # type: ignore[assignment]
    if ids:
        await Intent.filter(id__in=ids).update(status=IntentStatus.CLOSED)
    return tuple(ids)


async def serving_institution(user: User) -> Organization:
    """The institution this user represents, if it may serve now (active, not cultivating)."""
    if user.status is not UserStatus.ACTIVE or user.role is not Role.INSTITUTION:
        raise NotAllowed("intent.not_institution")
    org = await Organization.get_or_none(id=user.organization_id)
    if org is None or org.status is not OrgStatus.ACTIVE:
        raise NotAllowed("intent.institution_inactive")
    if org.tier not in SERVING_TIERS:
        raise NotAllowed("intent.cultivating")
    return org


def check_proposal(raw: str) -> str:
    """A short proposal: what the institution would do, at most 500 characters."""
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) < 5:
        raise ValidationFailed("demand.too_short", min=5)
    if len(text) > PROPOSAL_MAX:
        raise ValidationFailed("demand.too_long", max=PROPOSAL_MAX, length=len(text))
    return text


def check_quote(raw: str) -> Decimal:
    """A quote in yuan: a positive amount such as 12000 or 12,000.50."""
    try:
        amount = Decimal(raw.strip().replace(",", "").replace("，", "").removesuffix("元"))
    except (InvalidOperation, AttributeError):
        raise ValidationFailed("intent.quote_format") from None
    if not amount.is_finite() or amount <= 0 or amount >= QUOTE_MAX:
        raise ValidationFailed("intent.quote_format")
    return amount.quantize(Decimal("0.01"))


async def offer(demand_id: int, user: User, proposal: str, quote: Decimal | None) -> list[Event]:
    """An institution offers help on a published demand (once per institution)."""
    org = await serving_institution(user)
    demand = await demands.get(demand_id)
    if demand.status is not DemandStatus.PUBLISHED:
        raise InvalidTransition("intent.not_open", reference=demand.reference)
    text = check_proposal(proposal)
    try:
        async with in_transaction():
            intent = await Intent.create(
                demand_id=demand_id, institution=org, user=user, proposal=text, quote=quote
            )
            await audit.record(user.id, "intent.created", "intent", intent.id)
    except IntegrityError:
        raise AlreadyDecided("intent.already", reference=demand.reference) from None
    return [IntentReceived(intent.id)]


async def has_offered(demand_id: int, user: User) -> bool:
    """Whether this user's institution already offered help on the demand."""
    if user.organization_id is None:
        return False
    return await Intent.exists(demand_id=demand_id, institution_id=user.organization_id)


async def _owned_intent(intent_id: int, user: User) -> tuple[Intent, Demand]:
    intent = await Intent.get_or_none(id=intent_id)
    if intent is None:
        raise NotFound("intent.not_found")
    demand = await demands.acting_owner(intent.demand_id, user)
    return intent, demand


async def accept(intent_id: int, user: User) -> list[Event]:
    """The owner accepts one offer: the demand is matched once, whoever presses twice."""
    intent, demand = await _owned_intent(intent_id, user)
    async with in_transaction():
        taken = await Intent.filter(id=intent_id, status=IntentStatus.PENDING).update(
            status=IntentStatus.ACCEPTED
        )
        if not taken:
            raise InvalidTransition("intent.not_pending", reference=demand.reference)
        await lifecycle.move(
            demand,
            DemandStatus.MATCHED,
            user.id,
            only_from=frozenset({DemandStatus.PUBLISHED}),
            matched_institution_id=intent.institution_id,
        )
        await Engagement.create(demand_id=demand.id, institution_id=intent.institution_id)
        closed = await _close_offers(demand.id, keep=intent_id)
    return [DemandMatched(demand.id, intent_id, closed)]


async def decline(intent_id: int, user: User) -> list[Event]:
    """The owner declines one offer; the others stay open."""
    intent, demand = await _owned_intent(intent_id, user)
    async with in_transaction():
        moved = await Intent.filter(id=intent_id, status=IntentStatus.PENDING).update(
            status=IntentStatus.DECLINED
        )
        if not moved:
            raise InvalidTransition("intent.not_pending", reference=demand.reference)
        await audit.record(user.id, "intent.declined", "intent", intent_id)
    return [IntentDeclined(intent_id)]
