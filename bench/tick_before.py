"""models/deliveries.py record and settle_stale as they were before fixes T1-T3 (PERFORMANCE.md):
models built for every row inserted, loaded back and checked. `python -m bench.tick URL
SCENARIO --before` records with these, so the fix is measured against them in the same run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from tortoise.expressions import Q

from models.reminder_entities import DeliveryState, ReminderDelivery
from models.reminders import Due

log = logging.getLogger(__name__)
ERROR_MAX = 200
S = DeliveryState


async def _existing(dues: Sequence[Due]) -> dict[tuple[str, int, str], ReminderDelivery]:
    """The rows already recorded for these items, by key (one query per rule)."""
    by_rule: dict[str, set[str]] = defaultdict(set)
    for item in dues:
        by_rule[item.rule].add(item.occurrence)
    found: dict[tuple[str, int, str], ReminderDelivery] = {}
    for rule, occurrences in by_rule.items():
        for row in await ReminderDelivery.filter(rule=rule, occurrence__in=sorted(occurrences)):
            found[(row.rule, row.recipient_id, row.occurrence)] = row
    return found


async def record(dues: Sequence[Due], now: datetime, grace: timedelta) -> list[int]:
    """Record the items not yet known; those past the grace window are recorded as skipped
    (and logged once). Returns the ids of the rows that may be sent now."""
    known = await _existing(dues)
    fresh: list[ReminderDelivery] = []
    missed: list[ReminderDelivery] = []
    for item in dues:
        if item.key in known:
            continue
        late = item.due_at < now - grace
        (missed if late else fresh).append(
            ReminderDelivery(
                rule=item.rule,
                recipient_id=item.recipient_id,
                occurrence=item.occurrence,
                due_at=item.due_at,
                params=item.params,
                state=S.SKIPPED if late else S.PENDING,
                error="missed by more than the grace window" if late else None,
            )
        )
    # Another process may record the same rows at the same moment: the unique key keeps one.
    if fresh or missed:
        await ReminderDelivery.bulk_create([*fresh, *missed], ignore_conflicts=True)
    for row in missed:
        log.warning(
            "reminder %s/%s to %s skipped: due %s, missed by more than the grace window",
            row.rule,
            row.occurrence,
            row.recipient_id,
            row.due_at.isoformat(),
        )
    sendable = [i for i in dues if i.due_at >= now - grace]
    rows = await _existing(sendable) if fresh else known
    return [
        rows[i.key].id
        for i in sendable
        if i.key in rows and rows[i.key].state not in (S.SENT, S.FAILED, S.UNREACHABLE, S.SKIPPED)
    ]


async def settle_stale(
    dues: Sequence[Due], now: datetime, since: datetime, grace: timedelta
) -> int:
    """Rows recorded but never sent that the rules no longer call for (the report came in, the
    demand was matched, the record was deleted) or that waited past the grace window (a long
    outage after they were recorded): marked skipped with the reason, and logged."""
    wanted = {item.key for item in dues}
    waiting = await ReminderDelivery.filter(
        Q(state__in=[S.PENDING, S.RETRY]) | Q(state=S.CLAIMED, lease_until__lt=now),
        due_at__gte=since,
        due_at__lte=now,
    )
    settled = 0
    for row in waiting:
        if row.due_at < now - grace:
            reason = "missed by more than the grace window"
        elif (row.rule, row.recipient_id, row.occurrence) not in wanted:
            reason = "no longer due"
        else:
            continue
        # Compare-and-set: a sender that claimed it meanwhile (a valid lease) keeps it.
        changed = await ReminderDelivery.filter(_claimable(now), id=row.id).update(
            state=S.SKIPPED, error=reason, lease_until=None
        )
        if changed:
            settled += 1
            log.warning(
                "reminder %s/%s to %s skipped: %s",
                row.rule,
                row.occurrence,
                row.recipient_id,
                reason,
            )
    return settled


def _claimable(now: datetime) -> Q:
    return (
        Q(state=S.PENDING)
        | Q(state=S.RETRY, lease_until__lte=now)
        | Q(state=S.CLAIMED, lease_until__lt=now)  # its sender died or stalled
    )
