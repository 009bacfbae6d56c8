"""Platform statistics for admins (issue #5 item 5): demands by status, township, category
and month, the lifecycle funnel, and the median time from publication to the first offer.

Everything is counted by the database (COUNT ... GROUP BY); only the (published, first
offer) pair of each demand that got an offer comes back to Python, for the median, which
SQLite cannot compute. Months are counted in the platform's time zone: the month's bounds
are computed here with zoneinfo (so a zone with summer time is right too) and each month is
one indexed COUNT on a half-open range of created_at. That is portable, where bucketing in
SQL is not: SQLite's strftime knows only fixed offsets, PostgreSQL needs AT TIME ZONE.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.functions import Count, Min

from models import permissions
from models.demand_entities import Demand, Feedback
from models.entities import AuditLog, User

# The funnel in lifecycle order (DESIGN §2): each stage counts the demands that reached it.
FUNNEL = ("submitted", "published", "matched", "completed", "rated")


@dataclass(frozen=True)
class Statistics:
    """What /stats shows."""

    total: int
    by_status: dict[str, int]
    by_township: dict[str, int]
    by_category: dict[str, int]
    by_month: dict[str, int]  # "YYYY-MM" (platform time) -> demands created, oldest first
    funnel: dict[str, int]  # FUNNEL stage -> demands that reached it
    median_first_intent: timedelta | None  # None: no published demand got an offer yet
    measured: int  # how many demands the median is taken over


async def collect(user: User, *, timezone: str, months: int, today: date) -> Statistics:
    """The statistics, for an admin; `months` months of history up to `today`'s month."""
    permissions.require("stats.view", user)
    return await compute(timezone=timezone, months=months, today=today)


async def compute(*, timezone: str, months: int, today: date) -> Statistics:
    """The statistics without a permission check (the CLI and the tests)."""
    median, measured = await _median_first_intent()
    return Statistics(
        total=await Demand.all().count(),
        by_status=await _count_by("status"),
        by_township=await _count_by("township"),
        by_category=await _count_by("category"),
        by_month=await _by_month(ZoneInfo(timezone), months, today),
        funnel=await _funnel(),
        median_first_intent=median,
        measured=measured,
    )


async def _count_by(column: str) -> dict[str, int]:
    rows = (
        await Demand.annotate(n=Count("id"))
        .group_by(column)
        .order_by(column)
        .values_list(column, "n")
    )
    counts = {str(getattr(key, "value", key)): int(n) for key, n in rows}
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def month_starts(zone: ZoneInfo, months: int, today: date) -> list[datetime]:
    """The first instants (UTC) of the last `months` months and of the month after them."""
    index = today.year * 12 + today.month - 1
    firsts = [divmod(index + k, 12) for k in range(1 - months, 2)]
    return [datetime(y, m + 1, 1, tzinfo=zone).astimezone(UTC) for y, m in firsts]


async def _by_month(zone: ZoneInfo, months: int, today: date) -> dict[str, int]:
    bounds = month_starts(zone, months, today)
    counts: dict[str, int] = {}
    for start, end in zip(bounds, bounds[1:], strict=False):
        label = start.astimezone(zone).strftime("%Y-%m")
        counts[label] = await Demand.filter(created_at__gte=start, created_at__lt=end).count()
    return counts


async def _reached(action: str) -> int:
    """Demands whose audit trail has this move (lifecycle.move writes one row per move)."""
    rows: list[Any] = (
        await AuditLog.filter(subject_type="demand", action=action)
        .annotate(n=Count("subject_id", distinct=True))
        .values_list("n", flat=True)
    )
    return int(rows[0]) if rows else 0


async def _funnel() -> dict[str, int]:
    # Submitted: every demand starts so. Published and matched: from the audit trail, so a
    # demand that later expired or was withdrawn still counts as having got that far.
    # Completed is final (nothing leaves it); rated: one feedback per engagement per demand.
    return {
        "submitted": await Demand.all().count(),
        "published": await _reached("demand.published"),
        "matched": await _reached("demand.matched"),
        "completed": await Demand.filter(status="completed").count(),
        "rated": await Feedback.all().count(),
    }


async def _median_first_intent() -> tuple[timedelta | None, int]:
    rows = (
        await Demand.filter(published_at__isnull=False, intents__id__isnull=False)
        .annotate(first=Min("intents__created_at"))
        .group_by("id", "published_at")
        .values_list("published_at", "first")
    )
    waits = [
        max(0.0, (_aware(first) - _aware(published)).total_seconds())
        for published, first in rows
        if published is not None and first is not None
    ]
    if not waits:
        return None, 0
    return timedelta(seconds=statistics.median(waits)), len(waits)


def _aware(value: datetime | str) -> datetime:
    # An aggregate comes back from SQLite as text, without the field's conversion.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
