"""Once-only delivery of reminders: record what is due, claim it, say how the send went.

Each (rule, recipient, occurrence) is one row, unique in the database. A sender claims rows
with a compare-and-set that names its token and a lease; before each message it renews the
lease under the same condition, so a row taken over by another process after its lease ran
out is never sent by both. The window for a repeat is one send: between Telegram accepting
the message and `mark_sent` recording it.
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


async def claim(
    ids: Sequence[int], token: str, now: datetime, lease: timedelta
) -> list[ReminderDelivery]:
    """Claim those of these rows nobody holds; the rows this token now holds, in id order."""
    if not ids:
        return []
    await ReminderDelivery.filter(_claimable(now), id__in=list(ids)).update(
        state=S.CLAIMED, claimed_by=token, lease_until=now + lease
    )
    return list(
        await ReminderDelivery.filter(
            id__in=list(ids), claimed_by=token, state=S.CLAIMED
        ).order_by("id")
    )


async def hold(row_id: int, token: str, now: datetime, lease: timedelta) -> bool:
    """Renew the lease just before sending; False if the row is no longer this sender's."""
    renewed = await ReminderDelivery.filter(id=row_id, claimed_by=token, state=S.CLAIMED).update(
        lease_until=now + lease
    )
    return renewed == 1


async def mark_sent(row_id: int, token: str, now: datetime) -> None:
    await ReminderDelivery.filter(id=row_id, claimed_by=token).update(
        state=S.SENT, sent_at=now, lease_until=None, error=None
    )


async def mark_retry(
    row: ReminderDelivery, token: str, at: datetime, error: str, max_attempts: int
) -> None:
    """Try again from `at`, or give up after the configured number of attempts."""
    attempts = row.attempts + 1
    final = attempts >= max_attempts
    await ReminderDelivery.filter(id=row.id, claimed_by=token).update(
        state=S.FAILED if final else S.RETRY,
        attempts=attempts,
        lease_until=None if final else at,
        error=error[:ERROR_MAX],
    )
    log.warning(
        "reminder %s/%s to %s failed (attempt %d%s): %s",
        row.rule,
        row.occurrence,
        row.recipient_id,
        attempts,
        ", giving up" if final else "",
        error,
    )


async def mark_final(row: ReminderDelivery, token: str, state: DeliveryState, error: str) -> None:
    """The message cannot arrive (blocked, no such chat, no such user): stop trying."""
    await ReminderDelivery.filter(id=row.id, claimed_by=token).update(
        state=state, attempts=row.attempts + 1, lease_until=None, error=error[:ERROR_MAX]
    )
    log.info(
        "reminder %s/%s to %s not sent: %s", row.rule, row.occurrence, row.recipient_id, error
    )


async def recent(limit: int = 15) -> list[ReminderDelivery]:
    """The latest deliveries that were sent or failed, newest first (for /reminders)."""
    return list(
        await ReminderDelivery.filter(
            state__in=[S.SENT, S.FAILED, S.UNREACHABLE, S.SKIPPED, S.RETRY]
        )
        .order_by("-id")
        .limit(limit)
    )


async def counts() -> dict[str, int]:
    """How many deliveries are in each state."""
    result: dict[str, int] = {}
    for state in DeliveryState:
        result[state.value] = await ReminderDelivery.filter(state=state).count()
    return result
