"""Complaints about institutions (Jiangsu art. 31): filed by users who dealt with them.

Admins uphold or dismiss each complaint once (compare-and-set); upheld complaints count in
the institution's annual evaluation (#5).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models import audit, permissions
from models.demand_entities import Complaint, ComplaintStatus, Demand, Intent
from models.entities import Organization, OrgKind, User, UserStatus
from models.errors import AlreadyDecided, NotFound, ValidationFailed
from models.events import ComplaintFiled, Event
from models.text import storable

TEXT_MIN = 10
TEXT_MAX = 1000


async def institutions_dealt_with(user: User) -> list[Organization]:
    """Institutions that offered help on, or were matched with, the user's own demands."""
    if user.status is not UserStatus.ACTIVE or user.organization_id is None:
        return []
    own = Demand.filter(owner_id=user.organization_id)
    demand_ids = await own.values_list("id", flat=True)
    offered = await Intent.filter(demand_id__in=list(demand_ids)).values_list(
        "institution_id", flat=True
    )
    matched = await own.exclude(matched_institution_id=None).values_list(
        "matched_institution_id", flat=True
    )
    ids = set(offered) | set(matched)
    return await Organization.filter(id__in=list(ids), kind=OrgKind.INSTITUTION).order_by("name")


def check_text(raw: str) -> str:
    """What happened, in 10 to 1,000 characters."""
    text = storable(raw).strip() if isinstance(raw, str) else ""
    if len(text) < TEXT_MIN:
        raise ValidationFailed("demand.too_short", min=TEXT_MIN)
    if len(text) > TEXT_MAX:
        raise ValidationFailed("demand.too_long", max=TEXT_MAX, length=len(text))
    return text


async def file(user: User, institution_id: int, text: str) -> tuple[Complaint, list[Event]]:
    """File a complaint about an institution the user dealt with."""
    dealt_with = {org.id for org in await institutions_dealt_with(user)}
    permissions.require("complaint.file", user, related=institution_id in dealt_with)
    body = check_text(text)
    async with in_transaction():
        complaint = await Complaint.create(
            complainant=user, institution_id=institution_id, text=body
        )
        await audit.record(user.id, "complaint.filed", "complaint", complaint.id)
    return complaint, [ComplaintFiled(complaint.id)]


async def decide(complaint_id: int, admin: User, *, upheld: bool) -> Complaint:
    """An admin upholds or dismisses a complaint; the first decision wins."""
    permissions.require("complaint.decide", admin)
    complaint = await Complaint.get_or_none(id=complaint_id)
    if complaint is None:
        raise NotFound("complaint.not_found")
    async with in_transaction():
        won = await Complaint.filter(id=complaint_id, status=ComplaintStatus.OPEN).update(
            status=ComplaintStatus.UPHELD if upheld else ComplaintStatus.DISMISSED,
            decided_by_id=admin.id,
            decided_at=datetime.now(UTC),
        )
        if not won:
            raise AlreadyDecided("complaint.already_decided", reference=complaint.reference)
        await audit.record(
            admin.id,
            "complaint.upheld" if upheld else "complaint.dismissed",
            "complaint",
            complaint_id,
        )
    return await Complaint.get(id=complaint_id)


async def open_complaints(limit: int = 20) -> list[Complaint]:
    """Complaints waiting for an admin, oldest first, with who and about whom."""
    return list(
        await Complaint.filter(status=ComplaintStatus.OPEN)
        .order_by("id")
        .limit(limit)
        .prefetch_related("complainant", "institution")
    )


async def complaint_with_parties(complaint_id: int) -> Complaint:
    """One complaint with its complainant and institution loaded."""
    complaint = await Complaint.get_or_none(id=complaint_id).prefetch_related(
        "complainant", "institution"
    )
    if complaint is None:
        raise NotFound("complaint.not_found")
    return complaint
