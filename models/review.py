"""Review decisions: who may decide which stage, first decision wins (Rugao art. 15-16).

The decision is a compare-and-set (`UPDATE … WHERE status = 'pending'`) that returns the
row count, so two reviewers pressing at once cannot both win, on SQLite and PostgreSQL
alike (Tortoise's select_for_update does nothing on SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models import (
    audit,
    engagements,
    listings,
    market,
    permissions,
    registration,
    voucher_decisions,
    vouchers,
)
from models import demands as demand_rules
from models.demand_entities import Demand, Engagement
from models.entities import (
    Organization,
    Registration,
    Review,
    ReviewCard,
    ReviewStatus,
    Role,
    User,
    UserStatus,
)
from models.errors import AlreadyDecided, NotAllowed, NotFound, ValidationFailed
from models.events import Event, ReviewDecided, ReviewRequested
from models.listing_entities import Listing
from models.platform import PlatformConfig
from models.text import storable
from models.users import display_name

REASON_MAX = 300

# Rugao art. 15: before a demand is published the reviewer attests, item by item, that it
# holds no classified content, is true and current, and complies with law and policy.
CHECKLIST = ("no_secret", "true_current", "compliant")
CHECKLIST_SUBJECTS = frozenset({demand_rules.SUBJECT, listings.SUBJECT})

# What the last stage's decision does to the record under review.
CONCLUDE = {
    registration.SUBJECT: registration.conclude,
    demand_rules.SUBJECT: market.conclude_review,
    engagements.CONTRACT_SUBJECT: engagements.conclude_contract_review,
    vouchers.APPLICATION: voucher_decisions.conclude_application,
    vouchers.REDEMPTION: voucher_decisions.conclude_redemption,
    listings.SUBJECT: listings.conclude_review,
}

# Which roles may decide at which stage: models/permissions.py, "review.<stage>".
STAGE_ROLES: dict[str, frozenset[Role]] = {
    stage: permissions.stage_roles(stage) for stage in ("reviewer", "publisher")
}


def stages_of(user: User) -> list[str]:
    """The stages this user may decide; none unless active staff."""
    if user.status is not UserStatus.ACTIVE or user.role is None:
        return []
    return [stage for stage, roles in STAGE_ROLES.items() if user.role in roles]


def check_reason(raw: str) -> str:
    """A rejection reason: required, on a few lines, not an essay."""
    reason = storable(raw).strip()
    if not reason:
        raise ValidationFailed("review.reason_required")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("review.reason_length", max=REASON_MAX)
    return reason


async def authorised_review(review_id: int, user_id: int) -> Review:
    """The review, if this user may decide it (checked against the database on every press)."""
    user = await User.get_or_none(id=user_id)
    review = await Review.get_or_none(id=review_id)
    if review is None:
        raise NotFound("review.not_found")
    if user is None or review.stage not in stages_of(user):
        raise NotAllowed("review.not_allowed")
    return review


async def decide(
    review_id: int,
    actor_id: int,
    *,
    approve: bool,
    reason: str | None,
    platform: PlatformConfig,
    checklist: list[str] | None = None,
) -> list[Event]:
    """Decide a pending review; raise AlreadyDecided naming who was first. The publishing
    checklist (Rugao art. 15) is the one ticked on this reviewer's chat card, unless the
    caller brings its own (the dashboard's form)."""
    review = await authorised_review(review_id, actor_id)
    # A late presser hears who decided (or that it was withdrawn), not "tick the checklist".
    await ensure_pending(review)
    ticked: list[str] = []
    if not approve:
        reason = check_reason(reason or "")
    elif review.subject_type in CHECKLIST_SUBJECTS:
        given = checklist if checklist is not None else await _ticked(review_id, actor_id)
        ticked = [item for item in CHECKLIST if item in given]
        if set(ticked) != set(CHECKLIST):
            raise ValidationFailed("review.checklist_incomplete")
    async with in_transaction():
        won = await Review.filter(id=review_id, status=ReviewStatus.PENDING).update(
            status=ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED,
            decided_by_id=actor_id,
            reason=reason,
            decided_at=datetime.now(UTC),
            checklist=ticked,
        )
        if not won:
            raise await _already_decided(review_id)
        await audit.record(
            actor_id,
            "review.approved" if approve else "review.rejected",
            "review",
            review_id,
            after={"stage": review.stage, "reason": reason, "checklist": ticked},
        )
        events: list[Event] = [ReviewDecided(review_id)]
        next_stage = _next_stage(review, platform) if approve else None
        if next_stage is not None:
            follow_up = await Review.create(
                subject_type=review.subject_type,
                subject_id=review.subject_id,
                stage=next_stage,
                round=review.round,
            )
            events.append(ReviewRequested(follow_up.id))
        else:
            conclude = CONCLUDE[review.subject_type]
            events += await conclude(review.subject_id, approve, reason, actor_id)
    return events


async def _ticked(review_id: int, reviewer_id: int) -> list[str]:
    copy = await ReviewCard.get_or_none(review_id=review_id, reviewer_id=reviewer_id)
    return list(copy.checklist) if copy else []


async def tick(review_id: int, actor_id: int, item: str) -> list[str]:
    """Tick or untick one checklist item on this reviewer's own copy; the items now ticked."""
    review = await authorised_review(review_id, actor_id)
    if review.subject_type not in CHECKLIST_SUBJECTS or item not in CHECKLIST:
        raise NotFound("review.not_found")
    await ensure_pending(review)
    copy = await ReviewCard.get_or_none(review_id=review_id, reviewer_id=actor_id)
    if copy is None:
        raise NotFound("review.not_found")
    ticked = [i for i in copy.checklist if i != item]
    if item not in copy.checklist:
        ticked.append(item)
    ordered = [i for i in CHECKLIST if i in ticked]
    await ReviewCard.filter(id=copy.id).update(checklist=ordered)
    return ordered


def _next_stage(review: Review, platform: PlatformConfig) -> str | None:
    stages = platform.review.stages_for(review.subject_type)
    position = stages.index(review.stage) if review.stage in stages else len(stages)
    return stages[position + 1] if position + 1 < len(stages) else None


async def ensure_pending(review: Review) -> None:
    """Raise AlreadyDecided (naming who decided) unless the review still waits."""
    if review.status is not ReviewStatus.PENDING:
        raise await _already_decided(review.id)


async def _already_decided(review_id: int) -> AlreadyDecided:
    review = await Review.get(id=review_id).prefetch_related("decided_by")
    decider = review.decided_by
    return AlreadyDecided(
        "review.already_decided",
        by=display_name(decider) if decider else "?",
        approved=review.status is ReviewStatus.APPROVED,
        # Nobody decided: the owner withdrew the record while it waited.
        withdrawn=review.status is ReviewStatus.CANCELLED,
    )


@dataclass(frozen=True)
class RegistrationCard:
    """What a reviewer sees of an application: the phone masked (PIPL, DESIGN §2)."""

    review: Review
    registration: Registration
    decided_by: str | None

    @property
    def reference(self) -> str:
        """The application's reference code."""
        return self.registration.reference


@dataclass(frozen=True)
class DemandCard:
    """What a reviewer sees of a demand, with the checklist as ticked on their own copy."""

    review: Review
    demand: Demand
    owner_name: str
    relayed_by: str | None  # the township assistant who submitted it for the enterprise
    decided_by: str | None
    ticked: tuple[str, ...]

    @property
    def reference(self) -> str:
        """The demand's reference code."""
        return self.demand.reference


@dataclass(frozen=True)
class ContractCard:
    """What a reviewer sees of a contract filing (subject: the engagement)."""

    review: Review
    engagement: Engagement
    demand: Demand
    institution_name: str
    decided_by: str | None

    @property
    def reference(self) -> str:
        """The reference of the demand the contract belongs to."""
        return self.demand.reference


@dataclass(frozen=True)
class ListingCard:
    """What a reviewer sees of a listing, or of the edit of a published one (issue 9)."""

    review: Review
    listing: Listing
    owner_name: str
    decided_by: str | None
    ticked: tuple[str, ...]

    @property
    def reference(self) -> str:
        """The listing's reference code."""
        return self.listing.reference


Card = RegistrationCard | DemandCard | ContractCard | voucher_decisions.VoucherCard | ListingCard


async def card(review_id: int, viewer_id: int | None = None) -> Card:
    """The data of one review card, as `viewer_id` sees it (their own checklist ticks)."""
    review = await Review.get_or_none(id=review_id).prefetch_related("decided_by")
    if review is None:
        raise NotFound("review.not_found")
    decider = display_name(review.decided_by) if review.decided_by else None
    if review.subject_type == registration.SUBJECT:
        application = await Registration.get(id=review.subject_id)
        return RegistrationCard(review, application, decider)
    if review.subject_type == demand_rules.SUBJECT:
        demand = await Demand.get(id=review.subject_id)
        owner = await Organization.get(id=demand.owner_id)
        submitter = await User.get_or_none(id=demand.submitted_by_id)
        relayed = submitter is not None and submitter.role is Role.ASSISTANT
        ticked = await _ticked(review_id, viewer_id) if viewer_id is not None else []
        return DemandCard(
            review,
            demand,
            owner.name,
            display_name(submitter) if relayed and submitter else None,
            decider,
            tuple(ticked),
        )
    if review.subject_type == engagements.CONTRACT_SUBJECT:
        engagement = await Engagement.get(id=review.subject_id)
        demand = await Demand.get(id=engagement.demand_id)
        institution = await Organization.get(id=engagement.institution_id)
        return ContractCard(review, engagement, demand, institution.name, decider)
    if review.subject_type in vouchers.SUBJECTS:
        return await voucher_decisions.card(review, decider)
    if review.subject_type == listings.SUBJECT:
        listing = await Listing.get(id=review.subject_id)
        owner = await Organization.get(id=listing.owner_id)
        ticked = await _ticked(review_id, viewer_id) if viewer_id is not None else []
        return ListingCard(review, listing, owner.name, decider, tuple(ticked))
    raise NotFound("review.not_found")


async def pending_for(user: User, *, offset: int, limit: int) -> tuple[list[Review], int]:
    """A page of reviews waiting at the stages this user decides, oldest first, and the total."""
    query = Review.filter(status=ReviewStatus.PENDING, stage__in=stages_of(user))
    total = await query.count()
    page = await query.order_by("created_at", "id").offset(offset).limit(limit)
    return page, total


async def reviewers_for(stage: str) -> list[User]:
    """Every active user who decides this stage and can be written to now."""
    return await User.filter(
        status=UserStatus.ACTIVE, role__in=list(STAGE_ROLES[stage]), reachable=True
    )


async def undelivered_cards(user: User) -> list[int]:
    """Pending reviews this reviewer has no card for yet (e.g. they had not started the bot)."""
    stages = stages_of(user)
    if not stages:
        return []
    delivered = await ReviewCard.filter(reviewer_id=user.id).values_list("review_id", flat=True)
    waiting = Review.filter(status=ReviewStatus.PENDING, stage__in=stages, id__not_in=delivered)
    ids: list[int] = await waiting.order_by("id").values_list("id", flat=True)  # type: ignore[assignment]
    return ids


async def remember_card(review_id: int, reviewer_id: int, message_id: int) -> None:
    """Record where a card was sent, so a decision can edit every copy."""
    await ReviewCard.update_or_create(
        review_id=review_id, reviewer_id=reviewer_id, defaults={"message_id": message_id}
    )


async def cards_of(review_id: int) -> list[ReviewCard]:
    """Every copy of a review's card."""
    return await ReviewCard.filter(review_id=review_id)


async def latest_reason(registration_id: int) -> str | None:
    """The reason given when an application was last rejected."""
    last = (
        await Review.filter(
            subject_type=registration.SUBJECT,
            subject_id=registration_id,
            status=ReviewStatus.REJECTED,
        )
        .order_by("-id")
        .first()
    )
    return last.reason if last else None
