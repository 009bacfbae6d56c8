"""A prototype of the fix for models/deliveries.py record and settle_stale at 100k recipients.

The profile (docs/bench/profile-tick-*.txt) shows the tick's time in Tortoise building model
instances: 100k ReminderDelivery objects to insert, 100k more loaded back by _existing (four
datetime and a JSON column parsed per row), 100k more loaded by settle_stale. Here the same
decisions are taken on plain tuples: keys and ids read with values_list, new rows inserted by
one executemany with ON CONFLICT DO NOTHING, the rows past the grace window skipped by one
UPDATE. `python -m bench.tick URL SCENARIO --prototype` measures it; nothing in the product
uses it. Differences from the product code: the skipped rows are logged as one count, not one
line each, and the compare-and-set of settle_stale is done per batch of ids, not per row.
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
S = DeliveryState
Key = tuple[str, int, str]
CHUNK = 5000


async def existing(dues: Sequence[Due]) -> dict[Key, tuple[int, str]]:
    """(id, state) of the rows already recorded for these items, one query per rule."""
    by_rule: dict[str, set[str]] = defaultdict(set)
    for item in dues:
        by_rule[item.rule].add(item.occurrence)
    found: dict[Key, tuple[int, str]] = {}
    for rule, occurrences in by_rule.items():
        rows = await ReminderDelivery.filter(
            rule=rule, occurrence__in=sorted(occurrences)
        ).values_list("id", "recipient_id", "occurrence", "state")
        for row_id, recipient, occurrence, state in rows:
            found[(rule, recipient, occurrence)] = (row_id, state)
    return found


def _insert_sql(dialect: str, columns: list[str]) -> str:
    marks = (
        ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        if dialect == "postgres"
        else ", ".join("?" for _ in columns)
    )
    names = ", ".join(f'"{c}"' for c in columns)
    return (
        f'INSERT INTO "reminder_deliveries" ({names}) VALUES ({marks}) '
        'ON CONFLICT ("rule", "recipient_id", "occurrence") DO NOTHING'
    )


async def insert(items: Sequence[Due], now: datetime, grace: timedelta) -> int:
    """Insert the items as rows (skipped when past the grace window); returns how many late."""
    fields = ReminderDelivery._meta.fields_map
    connection = connections.get("default")
    columns = ["rule", "recipient_id", "occurrence", "due_at", "state", "params", "error"]
    columns += ["attempts", "created_at"]
    sql = _insert_sql(connection.capabilities.dialect, columns)
    created = fields["created_at"].to_db_value(datetime.now(UTC), ReminderDelivery)
    late = 0
    params_cache: dict[int, Any] = {}
    rows: list[list[Any]] = []
    for item in items:
        skipped = item.due_at < now - grace
        late += skipped
        encoded = params_cache.get(id(item.params))
        if encoded is None:  # a fan-out shares one params dict: encode it once
            encoded = params_cache[id(item.params)] = fields["params"].to_db_value(
                item.params, ReminderDelivery
            )
        rows.append(
            [
                item.rule,
                item.recipient_id,
                item.occurrence,
                fields["due_at"].to_db_value(item.due_at, ReminderDelivery),
                (S.SKIPPED if skipped else S.PENDING).value,
                encoded,
                "missed by more than the grace window" if skipped else None,
                0,
                created,
            ]
        )
    for start in range(0, len(rows), CHUNK):
        await connection.execute_many(sql, rows[start : start + CHUNK])
    return late


async def record(dues: Sequence[Due], now: datetime, grace: timedelta) -> list[int]:
    """What models/deliveries.record decides, on tuples."""
    known = await existing(dues)
    fresh = [item for item in dues if item.key not in known]
    if fresh:
        late = await insert(fresh, now, grace)
        if late:
            log.warning("%d reminders skipped: missed by more than the grace window", late)
        known = await existing(dues)
    closed = (S.SENT, S.FAILED, S.UNREACHABLE, S.SKIPPED)
    return [
        known[item.key][0]
        for item in dues
        if item.due_at >= now - grace and item.key in known and known[item.key][1] not in closed
    ]


async def settle_stale(
    dues: Sequence[Due], now: datetime, since: datetime, grace: timedelta
) -> int:
    """What models/deliveries.settle_stale decides, with the grace check done in SQL."""
    waiting = Q(state__in=[S.PENDING, S.RETRY]) | Q(state=S.CLAIMED, lease_until__lt=now)
    late = await ReminderDelivery.filter(
        waiting, due_at__gte=since, due_at__lt=now - grace
    ).update(state=S.SKIPPED, error="missed by more than the grace window", lease_until=None)
    wanted = {item.key for item in dues}
    rows = await ReminderDelivery.filter(
        waiting, due_at__gte=now - grace, due_at__lte=now
    ).values_list("id", "rule", "recipient_id", "occurrence")
    gone = [row[0] for row in rows if (row[1], row[2], row[3]) not in wanted]
    settled = late
    for start in range(0, len(gone), CHUNK):
        settled += await ReminderDelivery.filter(
            waiting, id__in=gone[start : start + CHUNK]
        ).update(state=S.SKIPPED, error="no longer due", lease_until=None)
    if settled:
        log.warning("%d reminders skipped (no longer due or past the grace window)", settled)
    return settled
