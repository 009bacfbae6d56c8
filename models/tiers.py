"""Institution tiers (Shenyang art. 7): cultivating -> service -> voucher.

    cultivating -> service          at once (an admin promotes)
    service -> voucher              after a public notice (公示) of `notice_days` without an
                                    upheld objection; any active user may object meanwhile
    voucher -> service | cultivating, service -> cultivating   at once (an admin demotes)

Only an active institution changes tier, one step up at a time, and not while a notice of
its own is running. Every change is a compare-and-set on the stored tier (two admins
pressing at once change it once) and writes an audit row. The notice is closed by the daily
job (scheduler/daily.py) through `close_notices`, again compare-and-set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tortoise.transactions import in_transaction

from models import audit, permissions
from models.entities import InstitutionTier, Organization, OrgKind, OrgStatus, User
from models.errors import AlreadyDecided, InvalidTransition, NotFound, ValidationFailed
from models.events import (
    Event,
    NoticeOpened,
    NoticeSettled,
    ObjectionDecided,
    ObjectionFiled,
    TierChanged,
)
from models.institution_entities import (
    ObjectionStatus,
    PromotionStatus,
    TierObjection,
    TierPromotion,
)
from models.users import display_name

T = InstitutionTier
ORDER = (T.CULTIVATING, T.SERVICE, T.VOUCHER)
# Tiers reached only through a public notice (Shenyang art. 7: 公示后各方均无异议).
NOTICE_TIERS = frozenset({T.VOUCHER})
REASON_MIN = 5
REASON_MAX = 500


def tier_of(org: Organization) -> InstitutionTier:
    """The institution's tier; one registered before tiers existed counts as cultivating."""
    return org.tier or T.CULTIVATING


def targets(org: Organization) -> list[InstitutionTier]:
    """The tiers an admin may move this institution to now (one step up, any step down)."""
    if org.kind is not OrgKind.INSTITUTION or org.status is not OrgStatus.ACTIVE:
        return []
    rank = ORDER.index(tier_of(org))
    return [tier for i, tier in enumerate(ORDER) if i != rank and i <= rank + 1]


async def institution(org_id: int) -> Organization:
    """A service institution by id."""
    org = await Organization.get_or_none(id=org_id, kind=OrgKind.INSTITUTION)
    if org is None:
        raise NotFound("institution.not_found")
    return org


async def open_notice(org_id: int) -> TierPromotion | None:
    """The promotion of this institution under notice, if any."""
    return await TierPromotion.get_or_none(organization_id=org_id, status=PromotionStatus.NOTICE)


async def change_tier(
    admin: User, org_id: int, target: InstitutionTier, *, today: date, notice_days: int
) -> tuple[Organization, TierPromotion | None, list[Event]]:
    """Move an institution to `target`: at once, or under public notice for NOTICE_TIERS."""
    permissions.require("institution.tier", admin)
    async with in_transaction():
        org = await Organization.filter(id=org_id, kind=OrgKind.INSTITUTION).select_for_update()
        if not org:
            raise NotFound("institution.not_found")
        current = org[0]
        old = tier_of(current)
        if await open_notice(org_id) is not None:
            raise InvalidTransition("tier.under_notice", institution=current.name)
        if target not in targets(current):
            raise InvalidTransition(
                "tier.invalid", institution=current.name, tier=old.value, target=target.value
            )
        raised = ORDER.index(target) > ORDER.index(old)
        if raised and target in NOTICE_TIERS:
            promotion = await TierPromotion.create(
                organization_id=org_id,
                from_tier=old,
                to_tier=target,
                proposed_by=admin,
                notice_ends_on=today + timedelta(days=notice_days),
            )
            await audit.record(
                admin.id,
                "tier.notice_opened",
                "organization",
                org_id,
                before={"tier": old.value},
                after={
                    "promotion": promotion.id,
                    "to": target.value,
                    "until": promotion.notice_ends_on.isoformat(),
                },
            )
            return current, promotion, [NoticeOpened(promotion.id)]
        changed = await Organization.filter(
            id=org_id, tier=current.tier, status=OrgStatus.ACTIVE
        ).update(tier=target)
        if not changed:  # pragma: no cover - the row is locked above
            raise InvalidTransition(
                "tier.invalid", institution=current.name, tier=old.value, target=target.value
            )
        await audit.record(
            admin.id,
            "tier.changed",
            "organization",
            org_id,
            before={"tier": old.value},
            after={"tier": target.value},
        )
    return await institution(org_id), None, [TierChanged(org_id, target.value, raised)]


async def notices_open_to_objection(today: date) -> list[TierPromotion]:
    """Promotions whose notice still runs today, oldest first, with their institution."""
    return list(
        await TierPromotion.filter(status=PromotionStatus.NOTICE, notice_ends_on__gt=today)
        .order_by("id")
        .prefetch_related("organization")
    )


def check_reason(raw: str) -> str:
    """An objection's reason, 5 to 500 characters."""
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) < REASON_MIN:
        raise ValidationFailed("demand.too_short", min=REASON_MIN)
    if len(text) > REASON_MAX:
        raise ValidationFailed("demand.too_long", max=REASON_MAX, length=len(text))
    return text


async def object_to(
    user: User, promotion_id: int, reason: str, *, today: date
) -> tuple[TierObjection, list[Event]]:
    """Raise an objection to a promotion while its notice runs."""
    permissions.require("tier.object", user)
    text = check_reason(reason)
    promotion = await TierPromotion.get_or_none(id=promotion_id)
    if promotion is None:
        raise NotFound("objection.notice_not_found")
    if promotion.status is not PromotionStatus.NOTICE or promotion.notice_ends_on <= today:
        raise InvalidTransition("objection.closed", reference=promotion.reference)
    async with in_transaction():
        objection = await TierObjection.create(promotion=promotion, objector=user, reason=text)
        await audit.record(
            user.id, "objection.filed", "tier_promotion", promotion_id, after={"id": objection.id}
        )
    return objection, [ObjectionFiled(objection.id)]


async def decide(
    admin: User, objection_id: int, *, upheld: bool
) -> tuple[TierObjection, list[Event]]:
    """Uphold (the promotion is cancelled) or dismiss an objection; the first decision wins."""
    permissions.require("objection.decide", admin)
    objection = await objection_with_parties(objection_id)
    events: list[Event] = [ObjectionDecided(objection_id)]
    async with in_transaction():
        won = await TierObjection.filter(id=objection_id, status=ObjectionStatus.OPEN).update(
            status=ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED,
            decided_by_id=admin.id,
            decided_at=datetime.now(UTC),
        )
        if not won:
            decided = await objection_with_parties(objection_id)
            raise AlreadyDecided(
                "objection.already_decided",
                reference=objection.reference,
                by=display_name(decided.decided_by) if decided.decided_by else "",
            )
        await audit.record(
            admin.id,
            "objection.upheld" if upheld else "objection.dismissed",
            "tier_objection",
            objection_id,
        )
        if upheld and await _settle(objection.promotion, effective=False, actor_id=admin.id):
            events.append(NoticeSettled(objection.promotion_id))
    return await objection_with_parties(objection_id), events


async def _settle(promotion: TierPromotion, *, effective: bool, actor_id: int | None) -> bool:
    """Close a notice once (compare-and-set); call inside a transaction. False if already."""
    status = PromotionStatus.EFFECTIVE if effective else PromotionStatus.CANCELLED
    now = datetime.now(UTC)
    if effective:
        # The institution must still be active and at the tier the notice started from.
        moved = await Organization.filter(
            id=promotion.organization_id, tier=promotion.from_tier, status=OrgStatus.ACTIVE
        ).update(tier=promotion.to_tier)
        if not moved:
            status = PromotionStatus.CANCELLED
    closed = await TierPromotion.filter(id=promotion.id, status=PromotionStatus.NOTICE).update(
        status=status, settled_at=now
    )
    if not closed:
        return False
    await audit.record(
        actor_id,
        f"tier.notice_{status.value}",
        "organization",
        promotion.organization_id,
        before={"tier": promotion.from_tier.value},
        after={"promotion": promotion.id, "status": status.value},
    )
    return True


async def close_notices(today: date) -> list[Event]:
    """Daily: promotions whose notice has ended with every objection decided take effect
    (or are cancelled if the institution is no longer active at its tier). Run twice, or by
    two workers at once, each notice is closed once."""
    events: list[Event] = []
    due = await TierPromotion.filter(status=PromotionStatus.NOTICE, notice_ends_on__lte=today)
    for promotion in due:
        if await TierObjection.exists(promotion_id=promotion.id, status=ObjectionStatus.OPEN):
            continue  # an admin still has to decide: it closes on the day after they do
        async with in_transaction():
            locked = await TierPromotion.filter(id=promotion.id).select_for_update().first()
            if locked is None or locked.status is not PromotionStatus.NOTICE:
                continue
            if await _settle(locked, effective=True, actor_id=None):
                events.append(NoticeSettled(promotion.id))
    return events


async def cancel_notices_of(org_id: int, actor_id: int | None) -> list[Event]:
    """Cancel the notice of an institution that was revoked; call inside a transaction."""
    promotion = await open_notice(org_id)
    if promotion is not None and await _settle(promotion, effective=False, actor_id=actor_id):
        return [NoticeSettled(promotion.id)]
    return []


async def objection_with_parties(objection_id: int) -> TierObjection:
    """One objection with its objector, decider, promotion and institution loaded."""
    objection = await TierObjection.get_or_none(id=objection_id).prefetch_related(
        "objector", "decided_by", "promotion__organization"
    )
    if objection is None:
        raise NotFound("objection.not_found")
    return objection


async def promotion_with_org(promotion_id: int) -> TierPromotion:
    """One promotion with its institution loaded."""
    promotion = await TierPromotion.get_or_none(id=promotion_id).prefetch_related("organization")
    if promotion is None:
        raise NotFound("objection.notice_not_found")
    return promotion


async def find_institutions(query: str = "", limit: int = 30) -> list[Organization]:
    """Institutions by credit code or part of the name; every one (by name) without a query.
    Pending ones are left out: they have no tier to manage until their registration passes."""
    found = Organization.filter(kind=OrgKind.INSTITUTION).exclude(status=OrgStatus.PENDING)
    text = query.strip()
    if text:
        by_code = await found.filter(credit_code=text.upper())
        if by_code:
            return list(by_code)
        found = found.filter(name__icontains=text)
    return list(await found.order_by("name", "id").limit(limit))
