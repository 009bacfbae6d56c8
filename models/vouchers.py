"""Innovation vouchers (创新券; Shenyang art. 7, Jiangsu art. 22 and 30, Rugao art. 12(4)).

    applied -> granted (an amount) | refused (a reason)     a reviewer decides the application
    granted -> redeem_requested                             the institution, after completion
                                                            and feedback (Rugao art. 12(4))
    redeem_requested -> redeemed | granted (a reason)       a reviewer decides the redemption
    applied | granted -> withdrawn                          the enterprise

Each decision is also a Review row (subject "voucher" or "voucher_redemption"), so reviewers
get the usual cards, /pending lists them and every copy is edited once decided. Lock order,
everywhere: the review row, then the organisations, then the voucher (no deadlock on
PostgreSQL). Caps (Jiangsu art. 30: at most 500,000 yuan per legal entity and year) count
granted, redeem_requested and redeemed vouchers of the budget year.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import audit, demands, permissions, tiers
from models.demand_entities import Demand, DemandStatus, Engagement, Feedback
from models.engagements import engagement_of, is_institution_side
from models.entities import InstitutionTier, Organization, OrgStatus, Review, ReviewStatus, User
from models.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.events import Event, ReviewDecided, ReviewRequested, VoucherChanged
from models.money import CENT, parse_yuan
from models.platform import VoucherConfig
from models.review_rounds import open_round
from models.text import storable
from models.voucher_entities import Voucher, VoucherStatus

APPLICATION = "voucher"
REDEMPTION = "voucher_redemption"
SUBJECTS = (APPLICATION, REDEMPTION)
STAGE = "reviewer"
PURPOSE_MIN, PURPOSE_MAX = 5, 500
AMOUNT_BELOW = Decimal("1000000000")
V = VoucherStatus
TRANSITIONS: dict[VoucherStatus, frozenset[VoucherStatus]] = {
    V.APPLIED: frozenset({V.GRANTED, V.REFUSED, V.WITHDRAWN}),
    V.GRANTED: frozenset({V.REDEEM_REQUESTED, V.WITHDRAWN}),
    V.REDEEM_REQUESTED: frozenset({V.REDEEMED, V.GRANTED}),
    V.REFUSED: frozenset(),
    V.REDEEMED: frozenset(),
    V.WITHDRAWN: frozenset(),
}
# A refused or withdrawn voucher leaves room for a new application on the same engagement.
LIVE = (V.APPLIED, V.GRANTED, V.REDEEM_REQUESTED, V.REDEEMED)
# What counts against the yearly caps.
COUNTED = (V.GRANTED, V.REDEEM_REQUESTED, V.REDEEMED)


async def get(voucher_id: int) -> Voucher:
    """The voucher, or NotFound."""
    voucher = await Voucher.get_or_none(id=voucher_id)
    if voucher is None:
        raise NotFound("voucher.not_found")
    return voucher


def yuan(amount: Decimal) -> str:
    """An amount as the messages quote it (the views format it per locale)."""
    return f"{amount.quantize(CENT):,}"


def limit_of(engagement: Engagement, config: VoucherConfig) -> Decimal | None:
    """The most a voucher may cover: the contract amount times the subsidy ratio, if filed."""
    if engagement.amount is None:
        return None
    return (Decimal(engagement.amount) * config.subsidy_ratio).quantize(CENT)


def check_amount(raw: object, limit: Decimal | None) -> Decimal:
    """An amount in yuan, above zero and within the limit when there is one."""
    amount = parse_yuan(raw, minimum=CENT, below=AMOUNT_BELOW, message_id="voucher.amount_format")
    if limit is not None and amount > limit:
        raise ValidationFailed("voucher.over_limit", limit=yuan(limit))
    return amount


def check_purpose(raw: object) -> str:
    """What the voucher pays for: 5 to 500 characters."""
    text = " ".join(storable(raw).split()) if isinstance(raw, str) else ""
    if len(text) < PURPOSE_MIN:
        raise ValidationFailed("demand.too_short", min=PURPOSE_MIN)
    if len(text) > PURPOSE_MAX:
        raise ValidationFailed("demand.too_long", max=PURPOSE_MAX, length=len(text))
    return text


async def check_institution(institution_id: int) -> Organization:
    """Only an active institution of the voucher tier takes vouchers (Shenyang art. 7)."""
    org = await Organization.get(id=institution_id)
    if org.status is not OrgStatus.ACTIVE:
        raise NotAllowed("voucher.institution_inactive", institution=org.name)
    if tiers.tier_of(org) is not InstitutionTier.VOUCHER:
        raise NotAllowed("voucher.institution_tier", institution=org.name)
    return org


async def move(
    voucher: Voucher, target: VoucherStatus, actor_id: int | None, action: str, **changes: Any
) -> None:
    """Compare-and-set from the status read; call inside a transaction. Audited."""
    if target not in TRANSITIONS[voucher.status]:
        raise _invalid(voucher, voucher.status, target)
    moved = await Voucher.filter(id=voucher.id, status=voucher.status).update(
        status=target, **changes
    )
    if not moved:
        raise _invalid(voucher, (await get(voucher.id)).status, target)
    plain = {k: str(v) if v is not None else None for k, v in changes.items()}
    await audit.record(
        actor_id,
        action,
        "voucher",
        voucher.id,
        before={"status": voucher.status.value},
        after={"status": target.value, **plain},
    )


def _invalid(voucher: Voucher, status: VoucherStatus, target: VoucherStatus) -> Exception:
    return InvalidTransition(
        "voucher.invalid_transition",
        reference=voucher.reference,
        status=status.value,
        target=target.value,
    )


# --- the enterprise ---------------------------------------------------------------------


async def eligible(user: User) -> list[tuple[Demand, Engagement]]:
    """Engagements this enterprise user may apply for now: their enterprise's, with an active
    voucher-tier institution, and no live voucher."""
    if not permissions.allowed("voucher.apply", user, related=True) or not user.organization_id:
        return []
    found = await Engagement.filter(
        demand__owner_id=user.organization_id,
        institution__status=OrgStatus.ACTIVE,
        institution__tier=InstitutionTier.VOUCHER,
    ).order_by("id")
    live = set(
        await Voucher.filter(
            engagement_id__in=[e.id for e in found], status__in=list(LIVE)
        ).values_list("engagement_id", flat=True)
    )
    return [(await Demand.get(id=e.demand_id), e) for e in found if e.id not in live]


async def may_apply(
    user: User, demand_id: int, config: VoucherConfig
) -> tuple[Demand, Decimal | None]:
    """The demand and the amount limit, if this user may apply for its engagement now."""
    demand, engagement = await engagement_of(demand_id)
    permissions.require("voucher.apply", user, related=demands.is_owner_side(user, demand))
    await check_institution(engagement.institution_id)
    live = await Voucher.get_or_none(engagement_id=engagement.id, status__in=list(LIVE))
    if live is not None:
        raise InvalidTransition("voucher.already_live", reference=live.reference)
    return demand, limit_of(engagement, config)


async def apply(
    user: User,
    demand_id: int,
    amount: object,
    purpose: object,
    *,
    today: date,
    config: VoucherConfig,
) -> tuple[Voucher, list[Event]]:
    """An enterprise asks for a voucher for one engagement; a reviewer gets a card."""
    demand, limit = await may_apply(user, demand_id, config)
    value = check_amount(amount, limit)
    text = check_purpose(purpose)
    async with in_transaction():
        engagement = await Engagement.filter(demand_id=demand.id).select_for_update().first()
        assert engagement is not None
        live = await Voucher.get_or_none(engagement_id=engagement.id, status__in=list(LIVE))
        if live is not None:  # two Confirms at once, or another user of the enterprise
            raise InvalidTransition("voucher.already_live", reference=live.reference)
        voucher = await Voucher.create(
            engagement_id=engagement.id,
            enterprise_id=demand.owner_id,
            institution_id=engagement.institution_id,
            year=today.year,
            applicant_id=user.id,
            purpose=text,
            amount_requested=value,
        )
        review = await Review.create(
            subject_type=APPLICATION, subject_id=voucher.id, stage=STAGE, round=1
        )
        await audit.record(
            user.id, "voucher.applied", "voucher", voucher.id, after={"amount": str(value)}
        )
    return voucher, [VoucherChanged(voucher.id, "applied", user.id), ReviewRequested(review.id)]


def _is_applicant_side(user: User, voucher: Voucher) -> bool:
    return user.organization_id == voucher.enterprise_id


async def withdraw(user: User, voucher_id: int) -> list[Event]:
    """The enterprise withdraws its voucher before the redemption is asked for."""
    voucher = await get(voucher_id)
    permissions.require("voucher.withdraw", user, related=_is_applicant_side(user, voucher))
    async with in_transaction():
        # The pending application review first: the same lock order as a reviewer deciding.
        pending = await Review.filter(
            subject_type=APPLICATION, subject_id=voucher.id, status=ReviewStatus.PENDING
        ).first()
        if pending is not None:
            await Review.filter(id=pending.id, status=ReviewStatus.PENDING).update(
                status=ReviewStatus.CANCELLED, decided_at=datetime.now(UTC)
            )
        voucher = await get(voucher_id)
        await move(voucher, V.WITHDRAWN, user.id, "voucher.withdrawn")
    events: list[Event] = [VoucherChanged(voucher.id, "withdrawn", user.id)]
    return [ReviewDecided(pending.id), *events] if pending else events


# --- the institution --------------------------------------------------------------------


async def request_redemption(user: User, voucher_id: int) -> list[Event]:
    """The institution asks to redeem a granted voucher, once the service is complete and the
    enterprise has given its feedback (Rugao art. 12(4))."""
    voucher = await get(voucher_id)
    engagement = await Engagement.get(id=voucher.engagement_id)
    permissions.require("voucher.redeem", user, related=is_institution_side(user, engagement))
    if voucher.status is not V.GRANTED:
        raise _invalid(voucher, voucher.status, V.REDEEM_REQUESTED)
    org = await Organization.get(id=voucher.institution_id)
    if org.status is not OrgStatus.ACTIVE:
        raise NotAllowed("voucher.institution_inactive", institution=org.name)
    demand = await Demand.get(id=engagement.demand_id)
    if engagement.completed_at is None or demand.status is not DemandStatus.COMPLETED:
        raise NotAllowed("voucher.not_completed", reference=voucher.reference)
    if not await Feedback.exists(engagement_id=engagement.id):
        raise NotAllowed("voucher.no_feedback", reference=voucher.reference)
    async with in_transaction():
        await move(
            voucher,
            V.REDEEM_REQUESTED,
            user.id,
            "voucher.redeem_requested",
            redeem_requested_at=datetime.now(UTC),
        )
        review = await open_round(REDEMPTION, voucher.id, STAGE)
    return [VoucherChanged(voucher.id, "redeem_requested", user.id), ReviewRequested(review.id)]


async def redeemable(user: User) -> list[Voucher]:
    """Granted vouchers of this institution whose engagement is completed and rated."""
    if not permissions.allowed("voucher.redeem", user, related=True) or not user.organization_id:
        return []
    return list(
        await Voucher.filter(
            institution_id=user.organization_id,
            status=V.GRANTED,
            engagement__completed_at__isnull=False,
            engagement__demand__status=DemandStatus.COMPLETED,
            engagement__feedback__id__isnull=False,
        ).order_by("id")
    )


async def room(org_id: int, year: int, cap: Decimal) -> Decimal:
    """What is left of an organisation's yearly cap (either side of the voucher)."""
    rows = await Voucher.filter(
        Q(enterprise_id=org_id) | Q(institution_id=org_id), year=year, status__in=list(COUNTED)
    ).values_list("amount_granted", flat=True)
    used = sum((Decimal(str(a or 0)) for a in rows), Decimal(0))
    return max(cap - used, Decimal(0))


# --- the ledger -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reward:
    """Jiangsu art. 30 for an institution: its voucher service total of the year and the
    most it may be rewarded for it (the province decides, with the evaluation)."""

    service_total: Decimal
    ceiling: Decimal


@dataclass(frozen=True)
class Ledger:
    """One organisation's vouchers of one year: count and total per status, and the cap."""

    organization_id: int
    year: int
    totals: dict[VoucherStatus, tuple[int, Decimal]]
    cap: Decimal
    reward: Reward | None = None  # institutions only

    @property
    def used(self) -> Decimal:
        """What counts against the cap."""
        return sum((self.totals[s][1] for s in COUNTED), Decimal(0))

    @property
    def room(self) -> Decimal:
        """What is left of the cap."""
        return max(self.cap - self.used, Decimal(0))


async def ledger(org_id: int, year: int, cap: Decimal) -> Ledger:
    """Totals by status of an organisation's vouchers of a year, on whichever side it is."""
    totals = {status: (0, Decimal(0)) for status in V}
    rows = await Voucher.filter(Q(enterprise_id=org_id) | Q(institution_id=org_id), year=year)
    for row in rows:
        count, total = totals[row.status]
        amount = row.amount_granted if row.amount_granted is not None else row.amount_requested
        totals[row.status] = (count + 1, total + Decimal(amount))
    return Ledger(org_id, year, totals, cap)


async def own_ledger(user: User, year: int, config: VoucherConfig) -> Ledger:
    """The ledger of the user's own enterprise or institution."""
    permissions.require("voucher.ledger", user, related=bool(user.organization_id))
    assert user.organization_id is not None
    org = await Organization.get(id=user.organization_id)
    enterprise = org.kind.value == "enterprise"
    cap = config.enterprise_cap_per_year if enterprise else config.institution_cap_per_year
    book = await ledger(org.id, year, cap)
    if enterprise:
        return book
    return replace(book, reward=await reward(org.id, year, config))


async def reward(org_id: int, year: int, config: VoucherConfig) -> Reward:
    """The institution's actual voucher service total of a year (the contract amounts of the
    engagements whose voucher of that year was redeemed) and its Jiangsu art. 30 ceiling."""
    amounts = await Voucher.filter(
        institution_id=org_id, year=year, status=V.REDEEMED
    ).values_list("engagement__amount", flat=True)
    total = sum((Decimal(str(a)) for a in amounts if a is not None), Decimal(0))
    ceiling = min(total * config.reward_ratio, config.reward_cap_per_year)
    return Reward(total, ceiling.quantize(Decimal("0.01")))


async def of_organization(org_id: int) -> list[Voucher]:
    """Every voucher of an organisation, either side, newest first."""
    found = Voucher.filter(Q(enterprise_id=org_id) | Q(institution_id=org_id))
    return list(await found.order_by("-id"))
