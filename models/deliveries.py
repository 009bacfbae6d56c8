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
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import Q

from models.reminder_entities import DeliveryState, ReminderDelivery
from models.reminders import Due

log = logging.getLogger(__name__)
ERROR_MAX = 200
S = DeliveryState
# Rows its domain writes when the thing is confirmed (models/broadcasts.py), not computed by
# the rules at each tick: `settle_stale` leaves them to that domain.
BROADCAST = "broadcast"


Key = tuple[str, int, str]
LATE = "missed by more than the grace window"
GONE = "no longer due"
CHUNK = 5000  # rows per statement: under PostgreSQL's 32,767 arguments, SQLite's too
LOG_ROWS = 20  # skipped rows logged one by one; past that, a count (a 100k fan-out)
CLOSED = (S.SENT, S.FAILED, S.UNREACHABLE, S.SKIPPED)


def on_postgres() -> bool:
    """Whether the default connection speaks PostgreSQL (else SQLite)."""
    return bool(connections.get("default").capabilities.dialect == "postgres")


def marks(count: int, first: int = 1) -> list[str]:
    """Placeholders of a statement: $first, $first+1 … on PostgreSQL, ? on SQLite."""
    if on_postgres():
        return [f"${n}" for n in range(first, first + count)]
    return ["?"] * count


async def select_rows(sql: str, values: Sequence[Any]) -> list[Any]:
    """Rows of a plain SELECT as the driver returns them. At 100k rows Tortoise's conversion
    of each value (datetimes parsed, states made enums) was most of a tick: reads that only
    compare keys skip it."""
    _, rows = await connections.get("default").execute_query(sql, list(values))
    return list(rows)


def db_time(value: datetime) -> Any:
    """A time as the column stores it: UTC (SQLite compares the text Tortoise writes)."""
    field = ReminderDelivery._meta.fields_map["due_at"]
    return field.to_db_value(value.astimezone(UTC), ReminderDelivery)


async def _existing(dues: Sequence[Due]) -> dict[Key, tuple[int, str]]:
    """(id, state) of the rows already recorded for these items, by key (one query per rule).
    Tuples, not models: at 100k recipients building models was most of a tick."""
    by_rule: dict[str, set[str]] = defaultdict(set)
    for item in dues:
        by_rule[item.rule].add(item.occurrence)
    found: dict[Key, tuple[int, str]] = {}
    for rule, occurrences in by_rule.items():
        wanted = sorted(occurrences)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            sql = (
                'SELECT "id", "recipient_id", "occurrence", "state" FROM "reminder_deliveries" '
                f'WHERE "rule" = {marks(1)[0]} '
                f'AND "occurrence" IN ({", ".join(marks(len(chunk), 2))})'
            )
            for row_id, recipient, occurrence, state in await select_rows(sql, [rule, *chunk]):
                found[(rule, int(recipient), occurrence)] = (int(row_id), str(state))
    return found


def _insert_sql(columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return (
        f'INSERT INTO "reminder_deliveries" ({names}) VALUES ({", ".join(marks(len(columns)))}) '
        'ON CONFLICT ("rule", "recipient_id", "occurrence") DO NOTHING'
    )


async def _insert(items: Sequence[Due], now: datetime, grace: timedelta) -> list[Due]:
    """Insert the items as rows, skipped when past the grace window; returns the late ones.
    Another process may insert the same rows at once: the unique key keeps one."""
    fields = ReminderDelivery._meta.fields_map
    connection = connections.get("default")
    columns = ("rule", "recipient_id", "occurrence", "due_at", "state", "params", "error")
    sql = _insert_sql((*columns, "attempts", "created_at"))
    created = fields["created_at"].to_db_value(datetime.now(UTC), ReminderDelivery)
    encoded: dict[int, Any] = {}  # a fan-out shares one params dict: encode it once
    late: list[Due] = []
    rows: list[list[Any]] = []
    for item in items:
        skipped = item.due_at < now - grace
        if skipped:
            late.append(item)
        if id(item.params) not in encoded:
            encoded[id(item.params)] = fields["params"].to_db_value(item.params, ReminderDelivery)
        rows.append(
            [
                item.rule,
                item.recipient_id,
                item.occurrence,
                db_time(item.due_at),
                (S.SKIPPED if skipped else S.PENDING).value,
                encoded[id(item.params)],
                LATE if skipped else None,
                0,
                created,
            ]
        )
    for start in range(0, len(rows), CHUNK):
        await connection.execute_many(sql, rows[start : start + CHUNK])
    return late


def log_skipped(keys: Sequence[Key], reason: str, due: Sequence[datetime] = ()) -> None:
    for n, (rule, recipient, occurrence) in enumerate(keys[:LOG_ROWS]):
        when = f": due {due[n].isoformat()}" if due else ""
        log.warning(
            "reminder %s/%s to %s skipped%s, %s", rule, occurrence, recipient, when, reason
        )
    if len(keys) > LOG_ROWS:
        log.warning("... and %d more reminders skipped, %s", len(keys) - LOG_ROWS, reason)


async def record(dues: Sequence[Due], now: datetime, grace: timedelta) -> list[int]:
    """Record the items not yet known; those past the grace window are recorded as skipped
    (and logged). Returns the ids of the rows that may be sent now."""
    known = await _existing(dues)
    fresh = [item for item in dues if item.key not in known]
    if fresh:
        late = await _insert(fresh, now, grace)
        log_skipped([i.key for i in late], LATE, [i.due_at for i in late])
        known = await _existing(dues)
    return [
        known[item.key][0]
        for item in dues
        if item.due_at >= now - grace and item.key in known and known[item.key][1] not in CLOSED
    ]


async def settle_stale(
    dues: Sequence[Due],
    now: datetime,
    since: datetime,
    grace: timedelta,
    fanned: frozenset[tuple[str, str]] = frozenset(),
) -> int:
    """Rows recorded but never sent that the rules no longer call for (the report came in, the
    demand was matched, the record was deleted) or that waited past the grace window (a long
    outage after they were recorded): marked skipped with the reason, and logged. Rows of a
    fan-out still called for, `fanned` (rule, occurrence), are left to fan_deliveries.settle."""
    pairs = sorted(fanned)
    p = marks(8 + 2 * len(pairs))
    # Broadcasts are no rule's: models/broadcasts.py settles its own rows. Whether a row is
    # late is asked of the database: no 100k times parsed back to compare. A fan-out's rows
    # are read only when late (its audience settles the rest: 100k rows not read each tick).
    fan_rows = " OR ".join(
        f'("rule" = {p[8 + 2 * n]} AND "occurrence" = {p[9 + 2 * n]})' for n in range(len(pairs))
    )
    sql = (
        'SELECT "id", "rule", "recipient_id", "occurrence", '
        f'CASE WHEN "due_at" < {p[0]} THEN 1 ELSE 0 END FROM "reminder_deliveries" '
        f'WHERE ("state" IN ({p[1]}, {p[2]}) OR ("state" = {p[3]} AND "lease_until" < {p[4]})) '
        f'AND "due_at" >= {p[5]} AND "due_at" <= {p[6]} AND "rule" <> \'{BROADCAST}\''
        + (f' AND ("due_at" < {p[7]} OR NOT ({fan_rows}))' if pairs else "")
    )
    values = [db_time(now - grace), S.PENDING.value, S.RETRY.value, S.CLAIMED.value, db_time(now)]
    values += [db_time(since), db_time(now)]
    if pairs:
        values += [db_time(now - grace), *(part for pair in pairs for part in pair)]
    rows = [
        (int(row_id), rule, int(recipient), occurrence, bool(late))
        for row_id, rule, recipient, occurrence, late in await select_rows(sql, values)
    ]
    wanted = {item.key for item in dues}
    late = [row for row in rows if row[4]]
    gone = [
        row
        for row in rows
        if not row[4] and row[1:4] not in wanted and (row[1], row[3]) not in fanned
    ]
    settled = await skip([(row[0], row[1:4]) for row in late], LATE, now)
    return settled + await skip([(row[0], row[1:4]) for row in gone], GONE, now)


async def skip(rows: Sequence[tuple[int, Key]], reason: str, now: datetime) -> int:
    """Mark these waiting rows skipped with the reason, and log them; how many changed."""
    ids = [row_id for row_id, _ in rows]
    changed = 0
    for start in range(0, len(ids), CHUNK):
        # Compare-and-set: a sender that claimed one meanwhile (a valid lease) keeps it.
        changed += await ReminderDelivery.filter(
            claimable(now), id__in=ids[start : start + CHUNK]
        ).update(state=S.SKIPPED, error=reason, lease_until=None)
    if changed:
        log_skipped([key for _, key in rows], reason)
    return changed


def claimable(now: datetime) -> Q:
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
    await ReminderDelivery.filter(claimable(now), id__in=list(ids)).update(
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
