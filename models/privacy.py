"""Personal data (PIPL art. 44-47; Telegram's bot developer terms): what /mydata exports and
what stands in the way of /forget (the anonymisation itself is in models/forget.py).

The export is the person's own data, unmasked: they asked for it, and each export is an
audit row (`privacy.exported`), which also spaces exports a minute apart across workers.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import audit, matching
from models import demands as demand_rules
from models.demand_entities import (
    Complaint,
    Demand,
    DemandStatus,
    Engagement,
    Feedback,
    Intent,
)
from models.entities import AuditLog, Organization, Registration, Role, User, UserStatus
from models.errors import NotAllowed
from models.reminder_entities import MeetingRsvp, Report

EXPORT_ACTION = "privacy.exported"
EXPORT_INTERVAL = timedelta(minutes=1)
# A demand in these states still needs someone to speak for its owner: an institution may
# offer, accept, file, deliver or dispute, and waits for an answer.
OWNER_OPEN = frozenset(
    {
        DemandStatus.SUBMITTED,
        DemandStatus.PUBLISHED,
        DemandStatus.MATCHED,
        DemandStatus.CONTRACTED,
        DemandStatus.DELIVERED,
        DemandStatus.DISPUTED,
    }
)
# An engagement in these states still needs someone on the institution side.
SERVING = frozenset(
    {DemandStatus.MATCHED, DemandStatus.CONTRACTED, DemandStatus.DELIVERED, DemandStatus.DISPUTED}
)


def plain(value: Any) -> Any:
    """A stored value as JSON has it: times in ISO 8601, amounts as text, enums by value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row(record: Model, *, hide: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every stored column of a record, by its column name."""
    columns = record._meta.fields_db_projection
    return {name: plain(getattr(record, name)) for name in columns if name not in hide}


async def claim_export(user_id: int) -> None:
    """Record an export now, or refuse when the last one was less than a minute ago."""
    async with in_transaction():
        # The user's row is the lock: two /mydata at once on two workers export once.
        await User.select_for_update().get(id=user_id)
        last = (
            await AuditLog.filter(actor_id=user_id, action=EXPORT_ACTION)
            .order_by("-created_at")
            .first()
        )
        now = datetime.now(UTC)
        if last is not None and now - last.created_at < EXPORT_INTERVAL:
            wait = EXPORT_INTERVAL - (now - last.created_at)
            raise NotAllowed("privacy.mydata_wait", seconds=max(1, int(wait.total_seconds())))
        await audit.record(user_id, EXPORT_ACTION, "user", user_id)


async def export(user_id: int) -> dict[str, Any]:
    """Everything the platform holds about this person, as one JSON-ready document."""
    user = await User.get(id=user_id)
    org = await Organization.get_or_none(id=user.organization_id) if user.organization_id else None
    owned = Q(submitted_by_id=user.id)
    if org is not None and user.role is Role.ENTERPRISE:
        owned |= Q(owner_id=org.id)
    demands = await Demand.filter(owned).order_by("id")
    demand_ids = [d.id for d in demands]
    engagements = await Engagement.filter(
        Q(demand_id__in=demand_ids) | Q(filed_by_id=user.id)
    ).order_by("id")
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "user": row(user),
        "organization": row(org) if org else None,
        "registrations": [row(r) for r in await Registration.filter(user_id=user.id)],
        # A colleague's Telegram id is theirs, not this person's: only "by you" is said.
        "demands": [_own(row(d), "submitted_by_id", user.id) for d in demands],
        "intents": [row(i) for i in await Intent.filter(user_id=user.id).order_by("id")],
        "engagements": [_own(row(e), "filed_by_id", user.id) for e in engagements],
        "feedback": [row(f) for f in await Feedback.filter(user_id=user.id).order_by("id")],
        "complaints": [
            row(c, hide=("decided_by_id",))
            for c in await Complaint.filter(complainant_id=user.id).order_by("id")
        ],
        "meeting_rsvps": [row(r) for r in await MeetingRsvp.filter(user_id=user.id)],
        "reports": [row(r) for r in await Report.filter(submitted_by_id=user.id).order_by("id")],
        "audit": [row(a) for a in await AuditLog.filter(actor_id=user.id).order_by("id")],
    }


def _own(data: dict[str, Any], column: str, user_id: int) -> dict[str, Any]:
    by = data.pop(column, None)
    data[column.removesuffix("_id") + "_you"] = by == user_id
    return data


def export_file(data: dict[str, Any]) -> bytes:
    """The export as a pretty-printed UTF-8 JSON file."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


async def forget_blockers(user: User) -> list[str]:
    """References of the records that would be left with nobody to answer for their side.

    Owner side: demands still open whose owner has no other active enterprise user (nor a
    relaying assistant). Institution side: engagements in progress of an institution with no
    other active representative. A staff member leaves nothing behind.
    """
    if user.status is not UserStatus.ACTIVE:
        return []
    references: list[str] = []
    mine = Q(submitted_by_id=user.id)
    if user.role is Role.ENTERPRISE and user.organization_id is not None:
        mine |= Q(owner_id=user.organization_id)
    for demand in await Demand.filter(mine, status__in=list(OWNER_OPEN)).order_by("id"):
        if not demand_rules.is_owner_side(user, demand):
            continue
        others = [p for p in await demand_rules.owner_side(demand) if p.id != user.id]
        if not others:
            references.append(demand.reference)
    if user.role in (Role.INSTITUTION, Role.RESEARCH) and user.organization_id is not None:
        colleagues = [p for p in await matching.contacts(user.organization_id) if p.id != user.id]
        if not colleagues:
            serving = await Demand.filter(
                matched_institution_id=user.organization_id, status__in=list(SERVING)
            ).order_by("id")
            references += [d.reference for d in serving if d.reference not in references]
    return references
