"""A demand on the market: review outcome, withdrawal, expiry, offers of help and acceptance.

Privacy (DESIGN §2, PIPL): an institution sees a published demand without the owner's name
or phone; contacts are exchanged only when the owner accepts its offer (`accept`).
Shenyang art. 7: institutions of the cultivating tier are shown but may not serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import audit, demands, lifecycle, permissions
from models.demand_entities import Demand, DemandStatus, Engagement, Intent, IntentStatus
from models.entities import (
    PROVIDER_ROLES,
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Role,
    User,
    UserStatus,
)
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
from models.money import CENT, parse_yuan
from models.text import storable

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
        # Reviews before the demand, in the order review.decide takes them (review, then
        # demand): the other order deadlocked with a reviewer approving at that moment on
        # PostgreSQL. A decision that won meanwhile published the demand, which is then
        # withdrawn from the market; the second pass closes a stage it opened.
        reviews = await demands.cancel_pending_reviews(demand_id)
        await lifecycle.move(demand, DemandStatus.WITHDRAWN, user.id)
        reviews += await demands.cancel_pending_reviews(demand_id)
        closed = await _close_offers(demand_id)
    events: list[Event] = [ReviewDecided(r) for r in dict.fromkeys(reviews)]
    return [*events, DemandClosed(demand_id, closed)]


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
    if not ids:
        return ()
    # Still pending: an offer declined meanwhile keeps its own answer.
    await Intent.filter(id__in=ids, status=IntentStatus.PENDING).update(status=IntentStatus.CLOSED)
    closed: list[int] = await Intent.filter(  # type: ignore[assignment]
        id__in=ids, status=IntentStatus.CLOSED
    ).values_list("id", flat=True)
    return tuple(sorted(closed))


async def serving_institution(user: User) -> Organization:
    """The institution or research team this user represents, if it may serve now: active,
    and for an institution not of the cultivating tier (research teams have no tier)."""
    permissions.require("intent.offer", user)
    org = await Organization.get_or_none(id=user.organization_id)
    if org is None or org.status is not OrgStatus.ACTIVE:
        raise NotAllowed("intent.institution_inactive")
    if org.kind is OrgKind.INSTITUTION and org.tier not in SERVING_TIERS:
        raise NotAllowed("intent.cultivating")
    return org


def check_proposal(raw: str) -> str:
    """A short proposal: what the institution would do, at most 500 characters."""
    text = storable(raw).strip() if isinstance(raw, str) else ""
    if len(text) < 5:
        raise ValidationFailed("demand.too_short", min=5)
    if len(text) > PROPOSAL_MAX:
        raise ValidationFailed("demand.too_long", max=PROPOSAL_MAX, length=len(text))
    return text


def check_quote(raw: str) -> Decimal:
    """A quote in yuan: a positive amount such as 12000 or 12,000.50."""
    return parse_yuan(raw, minimum=CENT, below=QUOTE_MAX, message_id="intent.quote_format")


async def offer(demand_id: int, user: User, proposal: str, quote: Decimal | None) -> list[Event]:
    """An institution offers help on a published demand (once per institution)."""
    org = await serving_institution(user)
    demand = await demands.get(demand_id)
    if demand.status is not DemandStatus.PUBLISHED:
        raise InvalidTransition("intent.not_open", reference=demand.reference)
    text = check_proposal(proposal)
    try:
        async with in_transaction():
            # Hold the demand row while the offer is added, so an accept, withdrawal or
            # expiry (which move that row first) either sees this offer and closes it or
            # finished before and this finds the demand gone. SQLite serialises anyway.
            # (.first(), not .exists(): Tortoise drops FOR UPDATE from an EXISTS query.)
            locked = (
                await Demand.filter(id=demand_id, status=DemandStatus.PUBLISHED)
                .select_for_update()
                .first()
            )
            if locked is None:
                raise InvalidTransition("intent.not_open", reference=demand.reference)
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
    provider = await Organization.get(id=intent.institution_id)
    if provider.status is not OrgStatus.ACTIVE:
        # Suspended or revoked since it offered (Rugao art. 21): it may not be engaged.
        raise InvalidTransition("intent.provider_inactive", reference=demand.reference)
    async with in_transaction():
        # The demand row first, as withdraw and expire_due do: two accepts at once queue on
        # it and the loser finds it matched. Taking the intent row first deadlocked on
        # PostgreSQL (each side then waited for the other's intent while closing offers).
        await lifecycle.move(
            demand,
            DemandStatus.MATCHED,
            user.id,
            only_from=frozenset({DemandStatus.PUBLISHED}),
            matched_institution_id=intent.institution_id,
        )
        taken = await Intent.filter(id=intent_id, status=IntentStatus.PENDING).update(
            status=IntentStatus.ACCEPTED
        )
        if not taken:
            raise InvalidTransition("intent.not_pending", reference=demand.reference)
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


# --- what each user sees of the market (DESIGN §2, PIPL) -------------------------------------


class View(StrEnum):
    """How much of a demand a user may see."""

    OWNER = "owner"  # the owner side: everything
    STAFF = "staff"  # reviewers, publishers and admins: everything
    MATCHED = "matched"  # the accepted institution: contacts were exchanged
    PUBLIC = "public"  # institutions and research teams: no name, organisation or phone


STAFF_VIEWERS = frozenset({Role.REVIEWER, Role.PUBLISHER, Role.ADMIN})
MY_LIMIT = 20


def may_browse(user: User) -> None:
    """Active institutions and research teams browse the published demands."""
    permissions.require("demand.browse", user)


async def browse(
    category: str | None, township: str | None, *, offset: int, limit: int
) -> tuple[list[Demand], int]:
    """A page of published demands, newest first, and how many match the filters."""
    query = Demand.filter(status=DemandStatus.PUBLISHED)
    if category:
        query = query.filter(category=category)
    if township:
        query = query.filter(township=township)
    total = await query.count()
    page = await query.order_by("-published_at", "-id").offset(offset).limit(limit)
    return page, total


async def view_of(demand_id: int, user: User) -> tuple[Demand, View]:
    """The demand and how much of it this user sees; NotFound when they may not see it at all.

    NotFound, not NotAllowed: a refusal would tell a stranger that the reference exists.
    """
    demand = await Demand.get_or_none(id=demand_id)
    if demand is None or user.status is not UserStatus.ACTIVE:
        raise NotFound("demand.not_found")
    if demands.is_owner_side(user, demand):
        return demand, View.OWNER
    if user.role in STAFF_VIEWERS:
        return demand, View.STAFF
    org_id = user.organization_id
    if user.role in PROVIDER_ROLES and org_id is not None:
        if demand.matched_institution_id == org_id:
            return demand, View.MATCHED
        if demand.status is DemandStatus.PUBLISHED or await Intent.exists(
            demand_id=demand_id, institution_id=org_id
        ):
            return demand, View.PUBLIC
    raise NotFound("demand.not_found")


@dataclass(frozen=True)
class Mine:
    """One line of /my: the demand, the user's institution's offer on it, offers waiting."""

    demand: Demand
    intent: Intent | None
    pending_offers: int


async def my_demands(user: User) -> tuple[list[Mine], int]:
    """The user's demands, newest first (at most MY_LIMIT), and how many there are.

    The owner side sees its organisation's demands (an assistant: those they submitted);
    an institution sees the demands it offered help on or was matched with.
    """
    if user.status is not UserStatus.ACTIVE:
        return [], 0
    org_id = user.organization_id
    if user.role is Role.ENTERPRISE and org_id is not None:
        query = Demand.filter(owner_id=org_id)
    elif user.role is Role.ASSISTANT:
        query = Demand.filter(submitted_by_id=user.id)
    elif user.role in PROVIDER_ROLES and org_id is not None:
        query = Demand.filter(
            Q(matched_institution_id=org_id) | Q(intents__institution_id=org_id)
        ).distinct()
    else:
        return [], 0
    total = await query.count()
    rows = await query.order_by("-id").limit(MY_LIMIT)
    ids = [d.id for d in rows]
    offers = await Intent.filter(demand_id__in=ids)
    mine = {i.demand_id: i for i in offers if org_id is not None and i.institution_id == org_id}
    waiting: dict[int, int] = {}
    for item in offers:
        if item.status is IntentStatus.PENDING:
            waiting[item.demand_id] = waiting.get(item.demand_id, 0) + 1
    owner_side = user.role in (Role.ENTERPRISE, Role.ASSISTANT)
    return [
        Mine(d, mine.get(d.id), waiting.get(d.id, 0) if owner_side else 0) for d in rows
    ], total


async def pending_offers(demand_id: int, user: User) -> tuple[Demand, list[Intent]]:
    """The offers still waiting on the owner's demand, oldest first."""
    demand = await demands.acting_owner(demand_id, user)
    waiting = await Intent.filter(demand_id=demand_id, status=IntentStatus.PENDING).order_by("id")
    return demand, waiting


async def check_withdrawable(demand_id: int, user: User) -> Demand:
    """The owner's demand, if it is still open (before a contract binds both sides)."""
    demand = await demands.acting_owner(demand_id, user)
    if demand.status not in lifecycle.OPEN_STATES:
        raise InvalidTransition(
            "demand.invalid_transition",
            reference=demand.reference,
            status=demand.status.value,
            target=DemandStatus.WITHDRAWN.value,
        )
    return demand


async def owner_side(demand: Demand) -> list[User]:
    """Who speaks for the owner and can be written to: its active enterprise users and the
    assistant who relayed it (while they are its submitter)."""
    people = await User.filter(
        organization_id=demand.owner_id, role=Role.ENTERPRISE, status=UserStatus.ACTIVE
    ).order_by("id")
    submitter = await User.get_or_none(id=demand.submitted_by_id)
    if submitter is not None and all(p.id != submitter.id for p in people):
        people.append(submitter)
    return [p for p in people if p.reachable and demands.is_owner_side(p, demand)]


async def open_for_offers(demand_id: int, user: User) -> Demand:
    """The demand this institution is about to offer help on, if it may (checked again on
    `offer`). A demand that was never published stays unknown to institutions."""
    await serving_institution(user)
    demand = await Demand.get_or_none(id=demand_id)
    if demand is None or demand.published_at is None:
        raise NotFound("demand.not_found")
    if demand.status is not DemandStatus.PUBLISHED:
        raise InvalidTransition("intent.not_open", reference=demand.reference)
    if await has_offered(demand_id, user):
        raise AlreadyDecided("intent.already", reference=demand.reference)
    return demand


@dataclass(frozen=True)
class Parties:
    """Who is behind a demand: the owner, the person who submitted it, the matched institution."""

    owner: Organization | None
    submitter: User | None
    matched: Organization | None


async def parties(demand: Demand) -> Parties:
    """The demand's owner, submitter and matched institution (for views allowed to see them)."""
    matched = demand.matched_institution_id
    return Parties(
        await Organization.get_or_none(id=demand.owner_id),
        await User.get_or_none(id=demand.submitted_by_id),
        await Organization.get_or_none(id=matched) if matched is not None else None,
    )


async def intents_of(ids: tuple[int, ...]) -> list[Intent]:
    """These offers (to tell their institutions what became of them)."""
    return await Intent.filter(id__in=list(ids)).order_by("id") if ids else []
