"""Reviewers decide vouchers: grant an amount within the yearly caps, refuse, and decide the
redemption (Shenyang art. 7, Jiangsu art. 30, Rugao art. 12(4)).

`grant` is the Grant button's typed amount; Refuse and the redemption's decisions go through
models/review.decide, which calls `conclude_application` / `conclude_redemption` inside its
transaction after its own compare-and-set on the review row. Lock order as in
models/vouchers.py: the review row, then the organisations, then the voucher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from models import audit, permissions
from models.demand_entities import Demand, Engagement
from models.entities import Organization, Review, ReviewStatus, User
from models.errors import AlreadyDecided, NotAllowed, NotFound, ValidationFailed
from models.events import Event, ReviewDecided, VoucherChanged
from models.platform import VoucherConfig
from models.users import display_name
from models.voucher_entities import Voucher
from models.vouchers import (
    APPLICATION,
    REDEMPTION,
    V,
    check_amount,
    check_institution,
    get,
    move,
    room,
    yuan,
)

# --- reviewers --------------------------------------------------------------------------


async def pending_review(voucher: Voucher, subject: str) -> Review | None:
    """The review of this voucher that waits for a decision, if any."""
    return await Review.get_or_none(
        subject_type=subject, subject_id=voucher.id, status=ReviewStatus.PENDING
    )


async def _late(review_id: int) -> AlreadyDecided:
    decided = await Review.get(id=review_id).prefetch_related("decided_by")
    return AlreadyDecided(
        "review.already_decided",
        by=display_name(decided.decided_by) if decided.decided_by else "?",
        approved=decided.status is ReviewStatus.APPROVED,
        withdrawn=decided.status is ReviewStatus.CANCELLED,
    )


async def grant(
    user: User, voucher_id: int, amount: object | None, config: VoucherConfig
) -> tuple[Voucher, list[Event]]:
    """A reviewer grants an amount (the requested one by default); the first decision wins."""
    permissions.require("voucher.decide", user)
    voucher = await get(voucher_id)
    review = (
        await Review.filter(subject_type=APPLICATION, subject_id=voucher.id)
        .order_by("-id")
        .first()
    )
    if review is None:
        raise NotFound("voucher.not_found")
    if review.status is not ReviewStatus.PENDING:
        raise await _late(review.id)
    value = voucher.amount_requested if amount is None else check_amount(amount, None)
    if value > voucher.amount_requested:
        raise ValidationFailed(
            "voucher.over_requested",
            reference=voucher.reference,
            requested=yuan(voucher.amount_requested),
        )
    async with in_transaction():
        won = await Review.filter(id=review.id, status=ReviewStatus.PENDING).update(
            status=ReviewStatus.APPROVED, decided_by_id=user.id, decided_at=datetime.now(UTC)
        )
        if not won:
            raise await _late(review.id)
        await audit.record(user.id, "review.approved", "review", review.id)
        await _grant(voucher.id, value, user.id, config)
    return await get(voucher_id), [
        ReviewDecided(review.id),
        VoucherChanged(voucher.id, "granted", user.id),
    ]


async def _grant(voucher_id: int, amount: Decimal, actor_id: int, config: VoucherConfig) -> None:
    """Inside the decision's transaction: the institution still qualifies, the caps hold."""
    voucher = await get(voucher_id)
    await check_institution(voucher.institution_id)
    # Both organisations locked: two grants for the same enterprise are counted one by one.
    ids = sorted({voucher.enterprise_id, voucher.institution_id})
    await Organization.filter(id__in=ids).select_for_update()
    for org_id, cap, key in (
        (voucher.enterprise_id, config.enterprise_cap_per_year, "voucher.over_enterprise_cap"),
        (voucher.institution_id, config.institution_cap_per_year, "voucher.over_institution_cap"),
    ):
        left = await room(org_id, voucher.year, cap)
        if amount > left:
            org = await Organization.get(id=org_id)
            raise ValidationFailed(
                key,
                reference=voucher.reference,
                name=org.name,
                year=voucher.year,
                cap=yuan(cap),
                room=yuan(left),
            )
    await move(
        voucher,
        V.GRANTED,
        actor_id,
        "voucher.granted",
        amount_granted=amount,
        decided_by_id=actor_id,
        decided_at=datetime.now(UTC),
        reason=None,
    )


async def conclude_application(
    voucher_id: int, approved: bool, reason: str | None, actor_id: int
) -> list[Event]:
    """The review machinery decided an application (Refuse, with its reason)."""
    if approved:
        # A grant needs its amount and the caps: only `grant` does it (no such button here).
        raise NotAllowed("button.forged")
    voucher = await get(voucher_id)
    await move(
        voucher,
        V.REFUSED,
        actor_id,
        "voucher.refused",
        decided_by_id=actor_id,
        decided_at=datetime.now(UTC),
        reason=reason,
    )
    return [VoucherChanged(voucher_id, "refused", actor_id)]


async def conclude_redemption(
    voucher_id: int, approved: bool, reason: str | None, actor_id: int
) -> list[Event]:
    """The review machinery decided a redemption: redeemed, or back to granted with a reason."""
    voucher = await get(voucher_id)
    if approved:
        await move(
            voucher, V.REDEEMED, actor_id, "voucher.redeemed", redeemed_at=datetime.now(UTC)
        )
        return [VoucherChanged(voucher_id, "redeemed", actor_id)]
    await move(voucher, V.GRANTED, actor_id, "voucher.redemption_refused", reason=reason)
    return [VoucherChanged(voucher_id, "redemption_refused", actor_id)]


@dataclass(frozen=True)
class VoucherCard:
    """What a reviewer sees of a voucher application or redemption (models/review.card)."""

    review: Review
    voucher: Voucher
    demand: Demand
    contract_amount: Decimal | None
    enterprise_name: str
    institution_name: str
    decided_by: str | None

    @property
    def reference(self) -> str:
        """The voucher's reference code."""
        return self.voucher.reference

    @property
    def redemption(self) -> bool:
        """A redemption (else an application)."""
        return self.review.subject_type == REDEMPTION


async def card(review: Review, decided_by: str | None) -> VoucherCard:
    """The data of a voucher review card."""
    voucher = await get(review.subject_id)
    engagement = await Engagement.get(id=voucher.engagement_id)
    return VoucherCard(
        review,
        voucher,
        await Demand.get(id=engagement.demand_id),
        engagement.amount,
        (await Organization.get(id=voucher.enterprise_id)).name,
        (await Organization.get(id=voucher.institution_id)).name,
        decided_by,
    )
