"""What the dashboard's admin pages list (issue #6 item 4): institutions with tier and latest
published grade, reminders upcoming and failed, the audit log; each a page at a time.

Personal data stays out: the audit page names the actor and the record, never the before /
after values (which may hold a phone); reminders show their rule and state, not the chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import deliveries, evaluation, permissions
from models.entities import AuditLog, Organization, OrgKind, User
from models.reminder_entities import DeliveryState, ReminderDelivery
from models.users import display_name

ADMIN_ACTION = "stats.view"


@dataclass(frozen=True)
class InstitutionRow:
    name: str
    tier: str | None
    status: str
    grade: str | None  # the grade of the latest published evaluation
    year: int | None


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str | None  # None: the system
    action: str
    subject: str


async def institutions(user: User, *, offset: int, limit: int) -> tuple[list[InstitutionRow], int]:
    """A page of institutions and research teams by name, and how many there are."""
    permissions.require(ADMIN_ACTION, user)
    query = Organization.filter(kind__in=[OrgKind.INSTITUTION, OrgKind.RESEARCH])
    total = await query.count()
    page = await query.order_by("name", "id").offset(offset).limit(limit)
    latest = await evaluation.latest_published([o.id for o in page])
    rows = []
    for org in page:
        result = latest.get(org.id)
        grade, year = (str(result.grade), result.year) if result else (None, None)
        rows.append(
            InstitutionRow(
                org.name, str(org.tier) if org.tier else None, str(org.status), grade, year
            )
        )
    return rows, total


async def reminders(
    user: User, *, limit: int
) -> tuple[dict[str, int], list[ReminderDelivery], list[ReminderDelivery]]:
    """Counts by state, the next deliveries due, and the latest sent or failed."""
    permissions.require(ADMIN_ACTION, user)
    upcoming = (
        await ReminderDelivery.filter(state__in=[DeliveryState.PENDING, DeliveryState.RETRY])
        .order_by("due_at", "id")
        .limit(limit)
    )
    return await deliveries.counts(), list(upcoming), await deliveries.recent(limit)


async def audit_log(user: User, *, offset: int, limit: int) -> tuple[list[AuditRow], int]:
    """A page of the audit trail, newest first."""
    permissions.require(ADMIN_ACTION, user)
    total = await AuditLog.all().count()
    page = await AuditLog.all().order_by("-id").offset(offset).limit(limit)
    actor_ids = {row.actor_id for row in page if row.actor_id is not None}
    names = {u.id: display_name(u) for u in await User.filter(id__in=list(actor_ids))}
    rows = [
        AuditRow(
            row.created_at,
            names.get(row.actor_id, "?") if row.actor_id is not None else None,
            row.action,
            f"{row.subject_type} {row.subject_id}",
        )
        for row in page
    ]
    return rows, total
