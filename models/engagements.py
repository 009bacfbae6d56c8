"""After the match: contract filing, delivery, completion or dispute, and the owner's feedback.

Keqiao 1(4): the filing report is due one month after signing; the date is stored for the
scheduler. Rugao art. 12(4): the feedback is the basis of the institution's evaluation.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import audit, demands, lifecycle, permissions
from models.demand_entities import Demand, DemandStatus, Engagement, Feedback, Outcome
from models.entities import (
    PROVIDER_ROLES,
    AuditLog,
    InstitutionTier,
    Organization,
    Review,
    ReviewStatus,
    Role,
    User,
    UserStatus,
)
from models.errors import AlreadyDecided, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.events import EngagementChanged, Event, ReviewRequested
from models.money import parse_yuan
from models.platform import PlatformConfig
from models.review_rounds import open_round
from models.text import storable

CONTRACT_SUBJECT = "contract"
CONTRACT_KINDS = ("application/pdf", "image/jpeg", "image/png", "photo")
COMMENT_MAX = 500
DISPUTE_MIN = 2
SCORES = ("overall", "quality", "timeliness", "professionalism")


def one_month_after(day: date) -> date:
    """The same day next month, or its last day (31 Jan -> 28/29 Feb)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_institution_side(user: User, engagement: Engagement) -> bool:
    """Active representatives of the matched institution (or research team)."""
    return (
        user.status is UserStatus.ACTIVE
        and user.role in PROVIDER_ROLES
        and user.organization_id == engagement.institution_id
    )


async def engagement_of(demand_id: int) -> tuple[Demand, Engagement]:
    """The demand and its engagement, or NotFound before the match."""
    demand = await demands.get(demand_id)
    engagement = await Engagement.get_or_none(demand_id=demand_id)
    if engagement is None:
        raise NotFound("engagement.not_found", reference=demand.reference)
    return demand, engagement


async def _party(demand_id: int, user: User) -> tuple[Demand, Engagement, str]:
    demand, engagement = await engagement_of(demand_id)
    side = (
        "owner"
        if demands.is_owner_side(user, demand)
        else "institution"
        if is_institution_side(user, engagement)
        else None
    )
    permissions.require("engagement.act", user, related=side is not None)
    assert side is not None
    return demand, engagement, side


def check_amount(raw: str) -> Decimal:
    """A contract amount in yuan (0 allowed for free services)."""
    return parse_yuan(
        raw, minimum=Decimal(0), below=Decimal("1000000000"), message_id="contract.amount_format"
    )


def check_signed_on(raw: str, today: date) -> date:
    """A signing date: YYYY-MM-DD, not in the future, not before last year."""
    try:
        day = date.fromisoformat(raw.strip())
    except (ValueError, AttributeError):
        raise ValidationFailed("demand.date_format") from None
    if day > today:
        raise ValidationFailed("contract.date_future")
    if day.year < today.year - 1:
        raise ValidationFailed("contract.date_old")
    return day


def check_contract_file(kind: str, size: int | None) -> None:
    """A contract is a PDF or an image a bot can download (at most 20 MB)."""
    if kind not in CONTRACT_KINDS:
        raise ValidationFailed("contract.file_kind")
    demands.check_file_size(size)


async def check_voucher(engagement: Engagement) -> None:
    """Only institutions of the voucher tier may accept innovation vouchers (Shenyang art. 7)."""
    institution = await Organization.get(id=engagement.institution_id)
    if institution.tier is not InstitutionTier.VOUCHER:
        raise ValidationFailed("contract.voucher_tier", institution=institution.name)


async def may_use_voucher(demand_id: int) -> None:
    """Checked when the voucher answer is given, before the summary."""
    _, engagement = await engagement_of(demand_id)
    await check_voucher(engagement)


async def file_contract(
    demand_id: int,
    user: User,
    *,
    file_id: str,
    kind: str = "document",
    sha256: str,
    amount: Decimal,
    signed_on: date,
    voucher: bool,
    platform: PlatformConfig,
) -> list[Event]:
    """Either side files the signed contract; a reviewer acknowledges it."""
    demand, engagement, _ = await _party(demand_id, user)
    if len(sha256) != 64:
        raise ValidationFailed("contract.file_kind")
    if voucher:
        await check_voucher(engagement)
    async with in_transaction():
        # Only from matched: a disputed demand also moves to contracted, but by an admin.
        await lifecycle.move(
            demand, DemandStatus.CONTRACTED, user.id, only_from=frozenset({DemandStatus.MATCHED})
        )
        await Engagement.filter(id=engagement.id).update(
            contract_file_id=file_id,
            contract_sha256=sha256,
            contract_kind="photo" if kind == "photo" else "document",
            amount=amount,
            signed_on=signed_on,
            voucher=voucher,
            filing_due=one_month_after(signed_on),
            filed_by_id=user.id,
            filed_at=datetime.now(UTC),
        )
        # Reviews are unique per (subject, stage, round): a filing refused and filed again is
        # acknowledged in a new round, the refusal stays as history.
        review = await open_round(
            CONTRACT_SUBJECT, engagement.id, platform.review.stages_for(CONTRACT_SUBJECT)[0]
        )
    # The other party hears of the filing before the reviewers get their card.
    return [EngagementChanged(demand_id, "contract_filed", user.id), ReviewRequested(review.id)]


async def conclude_contract_review(
    engagement_id: int, approved: bool, reason: str | None, actor_id: int
) -> list[Event]:
    """A reviewer acknowledged the filing, or refused it (the parties file again)."""
    engagement = await Engagement.get(id=engagement_id)
    demand = await Demand.get(id=engagement.demand_id)
    if approved:
        await audit.record(actor_id, "contract.acknowledged", CONTRACT_SUBJECT, engagement_id)
        return [EngagementChanged(demand.id, "contract_acknowledged", actor_id)]
    # Only while contracted: once delivered the refusal is refused and the review still waits.
    await lifecycle.move(
        demand, DemandStatus.MATCHED, actor_id, only_from=frozenset({DemandStatus.CONTRACTED})
    )
    await Engagement.filter(id=engagement_id).update(
        contract_file_id=None,
        contract_sha256=None,
        contract_kind=None,
        filed_at=None,
        filing_due=None,
    )
    return [EngagementChanged(demand.id, "contract_refused", actor_id)]


async def mark_delivered(demand_id: int, user: User) -> list[Event]:
    """The institution says the service is delivered; the owner confirms or disputes."""
    demand, engagement, side = await _party(demand_id, user)
    permissions.require("engagement.deliver", user, related=side == "institution")
    async with in_transaction():
        await lifecycle.move(demand, DemandStatus.DELIVERED, user.id)
        # Checked after `move` has locked the demand: a reviewer refusing the filing at this
        # moment either committed first (the demand is matched again, `move` refused) or
        # waits for the lock and finds the demand delivered (its refusal is refused).
        if await Review.exists(
            subject_type=CONTRACT_SUBJECT, subject_id=engagement.id, status=ReviewStatus.PENDING
        ):
            raise NotAllowed("engagement.filing_unacknowledged", reference=demand.reference)
        await Engagement.filter(id=engagement.id).update(delivered_at=datetime.now(UTC))
    return [EngagementChanged(demand_id, "delivered", user.id)]


async def confirm_completion(demand_id: int, user: User) -> list[Event]:
    """The owner confirms the service is complete; the feedback is asked for next."""
    demand, engagement, side = await _party(demand_id, user)
    permissions.require("engagement.complete", user, related=side == "owner")
    async with in_transaction():
        await lifecycle.move(
            demand, DemandStatus.COMPLETED, user.id, only_from=frozenset({DemandStatus.DELIVERED})
        )
        await Engagement.filter(id=engagement.id).update(completed_at=datetime.now(UTC))
    return [EngagementChanged(demand_id, "completed", user.id)]


async def dispute(demand_id: int, user: User, reason: str) -> list[Event]:
    """The owner disputes the delivery; admins decide."""
    demand, _, side = await _party(demand_id, user)
    permissions.require("engagement.dispute", user, related=side == "owner")
    text = " ".join(storable(reason or "").split())
    if len(text) < DISPUTE_MIN:
        raise ValidationFailed("demand.too_short", min=DISPUTE_MIN)
    if len(text) > COMMENT_MAX:
        raise ValidationFailed("demand.too_long", max=COMMENT_MAX, length=len(text))
    async with in_transaction():
        await lifecycle.move(demand, DemandStatus.DISPUTED, user.id)
        await audit.record(
            user.id, "demand.dispute_reason", "demand", demand_id, after={"reason": text}
        )
    return [EngagementChanged(demand_id, "disputed", user.id)]


async def resolve_dispute(demand_id: int, admin: User, *, completed: bool) -> list[Event]:
    """An admin closes a dispute: the service counts as complete, or goes back to work."""
    permissions.require("dispute.resolve", admin)
    demand, engagement = await engagement_of(demand_id)
    target = DemandStatus.COMPLETED if completed else DemandStatus.CONTRACTED
    async with in_transaction():
        await lifecycle.move(
            demand, target, admin.id, only_from=frozenset({DemandStatus.DISPUTED})
        )
        if completed:
            await Engagement.filter(id=engagement.id).update(completed_at=datetime.now(UTC))
    return [
        EngagementChanged(
            demand_id, "resolved_completed" if completed else "resolved_reopened", admin.id
        )
    ]


def check_feedback(scores: dict[str, int], outcome: str, comment: str | None) -> None:
    """Four scores of 1-5, a known outcome, an optional short comment."""
    if set(scores) != set(SCORES) or any(
        type(v) is not int or not 1 <= v <= 5
        for v in scores.values()  # True is not a score
    ):
        raise ValidationFailed("feedback.score_range")
    if outcome not in {o.value for o in Outcome}:
        raise ValidationFailed("feedback.outcome_unknown")
    if comment is not None and len(comment) > COMMENT_MAX:
        raise ValidationFailed("demand.too_long", max=COMMENT_MAX, length=len(comment))


async def give_feedback(
    demand_id: int, user: User, scores: dict[str, int], outcome: str, comment: str | None
) -> list[Event]:
    """The owner rates a completed engagement, once."""
    demand, engagement, side = await _party(demand_id, user)
    permissions.require("feedback.give", user, related=side == "owner")
    if demand.status is not DemandStatus.COMPLETED:
        raise NotAllowed("feedback.not_completed", reference=demand.reference)
    check_feedback(scores, outcome, comment)
    try:
        async with in_transaction():
            await Feedback.create(
                engagement=engagement,
                user_id=user.id,
                outcome=Outcome(outcome),
                comment=comment or None,
                overall=scores["overall"],
                quality=scores["quality"],
                timeliness=scores["timeliness"],
                professionalism=scores["professionalism"],
            )
            await audit.record(
                user.id,
                "feedback.given",
                "demand",
                demand_id,
                after={**scores, "outcome": outcome},
            )
    except IntegrityError:
        raise AlreadyDecided("feedback.already", reference=demand.reference) from None
    return [EngagementChanged(demand_id, "rated", user.id)]


def _expect(demand: Demand, status: DemandStatus, target: DemandStatus) -> None:
    if demand.status is not status:
        raise InvalidTransition(
            "demand.invalid_transition",
            reference=demand.reference,
            status=demand.status.value,
            target=target.value,
        )


async def may_file_contract(demand_id: int, user: User) -> Demand:
    """The demand, if this user may file its contract now (before asking for the file)."""
    demand, _, _ = await _party(demand_id, user)
    _expect(demand, DemandStatus.MATCHED, DemandStatus.CONTRACTED)
    return demand


async def may_dispute(demand_id: int, user: User) -> Demand:
    """The demand, if this user may dispute its delivery now (before asking for a reason)."""
    demand, _, side = await _party(demand_id, user)
    permissions.require("engagement.dispute", user, related=side == "owner")
    _expect(demand, DemandStatus.DELIVERED, DemandStatus.DISPUTED)
    return demand


async def may_rate(demand_id: int, user: User) -> Demand:
    """The demand, if this user may rate it now: the owner side, completed, not yet rated."""
    demand, engagement, side = await _party(demand_id, user)
    permissions.require("feedback.give", user, related=side == "owner")
    if demand.status is not DemandStatus.COMPLETED:
        raise NotAllowed("feedback.not_completed", reference=demand.reference)
    if await Feedback.exists(engagement_id=engagement.id):
        raise AlreadyDecided("feedback.already", reference=demand.reference)
    return demand


@dataclass(frozen=True)
class Parties:
    """Who is told about an engagement: both sides, with what the messages quote."""

    demand: Demand
    engagement: Engagement
    owner: Organization
    institution: Organization
    owner_side: list[User]
    institution_side: list[User]
    feedback: Feedback | None


async def owner_side_users(demand: Demand) -> list[User]:
    """Reachable users acting for the owner: its enterprise users and the relaying assistant."""
    members = await User.filter(
        organization_id=demand.owner_id,
        role=Role.ENTERPRISE,
        status=UserStatus.ACTIVE,
        reachable=True,
    ).order_by("id")
    relay = await User.get_or_none(
        id=demand.submitted_by_id, role=Role.ASSISTANT, status=UserStatus.ACTIVE, reachable=True
    )
    return [*members, relay] if relay else list(members)


async def parties(demand_id: int) -> Parties:
    """The engagement of a demand and everyone on either side of it."""
    demand, engagement = await engagement_of(demand_id)
    return Parties(
        demand=demand,
        engagement=engagement,
        owner=await Organization.get(id=demand.owner_id),
        institution=await Organization.get(id=engagement.institution_id),
        owner_side=await owner_side_users(demand),
        institution_side=list(
            await User.filter(
                organization_id=engagement.institution_id,
                role__in=PROVIDER_ROLES,
                status=UserStatus.ACTIVE,
                reachable=True,
            ).order_by("id")
        ),
        feedback=await Feedback.get_or_none(engagement_id=engagement.id),
    )


async def dispute_reason(demand_id: int) -> str | None:
    """What the owner said when disputing the delivery last."""
    row = (
        await AuditLog.filter(
            action="demand.dispute_reason", subject_type="demand", subject_id=str(demand_id)
        )
        .order_by("-id")
        .first()
    )
    return str(row.after.get("reason")) if row and row.after else None


async def contract_refusal_reason(engagement_id: int) -> str | None:
    """The reason the reviewer gave when refusing the contract filing last."""
    last = (
        await Review.filter(
            subject_type=CONTRACT_SUBJECT,
            subject_id=engagement_id,
            status=ReviewStatus.REJECTED,
        )
        .order_by("-id")
        .first()
    )
    return last.reason if last else None


async def admins() -> list[User]:
    """Active, reachable admins: they resolve disputes and decide complaints."""
    return list(
        await User.filter(role=Role.ADMIN, status=UserStatus.ACTIVE, reachable=True).order_by("id")
    )
