"""Fan-outs recorded by the database (issue #8, T5): one `INSERT … SELECT` from the
audience's query per occurrence, instead of a row built in Python per person.

The same once-only rows as models/deliveries.py (unique per rule, recipient, occurrence):
an occurrence is recorded again each tick while it is in the window, which inserts only
the people who joined the audience since; those who left it (a report came in, the
institution was revoked) are settled as "no longer due" by `settle`, the way
`deliveries.settle_stale` settles single items.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections

from models.deliveries import (
    CLOSED,
    GONE,
    LATE,
    db_time,
    log_skipped,
    marks,
    on_postgres,
    select_rows,
    skip,
)
from models.reminder_audience import Fan, sql_of
from models.reminder_entities import DeliveryState, ReminderDelivery

log = logging.getLogger(__name__)
S = DeliveryState
# PostgreSQL does not infer the types of parameters in a SELECT list from the INSERT's
# columns: each gets its column's type.
COLUMNS = (
    ("rule", "varchar"),
    ("occurrence", "varchar"),
    ("due_at", "timestamptz"),
    ("state", "varchar"),
    ("params", "jsonb"),
    ("error", "varchar"),
    ("attempts", "int"),
    ("created_at", "timestamptz"),
)


def _renumbered(sql: str, params: list[Any], first: int) -> str:
    """The audience's PostgreSQL placeholders $1…$n moved to start at $first (in one pass:
    replacing $1 after $10 would touch it again)."""
    assert sql.count("$") == len(params), "one placeholder a parameter"
    return re.sub(r"\$(\d+)", lambda found: f"${int(found.group(1)) + first - 1}", sql)


async def record(fan: Fan, now: datetime, grace: timedelta) -> None:
    """Rows for everyone of the audience not yet recorded for this occurrence; past the
    grace window they are recorded as skipped, and logged."""
    late = fan.due_at < now - grace
    fields = ReminderDelivery._meta.fields_map
    mine = [
        fan.rule,
        fan.occurrence,
        db_time(fan.due_at),
        (S.SKIPPED if late else S.PENDING).value,
        fields["params"].to_db_value(fan.params, ReminderDelivery),
        LATE if late else None,
        0,
        db_time(datetime.now(UTC)),
    ]
    audience, audience_params = sql_of(fan.audience)
    placeholders = marks(len(COLUMNS))
    if on_postgres():
        placeholders = [f"{m}::{kind}" for m, (_, kind) in zip(placeholders, COLUMNS, strict=True)]
        audience = _renumbered(audience, audience_params, len(mine) + 1)
    names = ", ".join(f'"{name}"' for name, _ in COLUMNS)
    # SQLite needs the WHERE to tell the upsert's ON from a join's.
    sql = (
        f'INSERT INTO "reminder_deliveries" ({names}, "recipient_id") '
        f'SELECT {", ".join(placeholders)}, "audience"."0" '
        f'FROM ({audience}) AS "audience" WHERE 1 = 1 '
        'ON CONFLICT ("rule", "recipient_id", "occurrence") DO NOTHING'
    )
    last = await _last_id() if late else 0
    await connections.get("default").execute_query(sql, [*mine, *audience_params])
    if late:  # logged once, when recorded: the occurrence stays in the window for days
        await _log_recorded_late(fan, last)


async def _last_id() -> int:
    newest = await ReminderDelivery.all().order_by("-id").first()
    return newest.id if newest is not None else 0


async def _log_recorded_late(fan: Fan, after_id: int) -> None:
    rows = await ReminderDelivery.filter(
        rule=fan.rule, occurrence=fan.occurrence, error=LATE, id__gt=after_id
    ).values_list("recipient_id", flat=True)
    keys = [(fan.rule, int(r), fan.occurrence) for r in rows]  # type: ignore[call-overload]
    log_skipped(keys, LATE, [fan.due_at] * len(keys))


async def sendable(fans: Sequence[Fan], now: datetime, grace: timedelta) -> list[int]:
    """Ids of the fan-outs' rows that may be sent now, in id order."""
    ids: list[int] = []
    first, second, *closed = marks(2 + len(CLOSED))
    for fan in fans:
        if fan.due_at < now - grace:
            continue
        sql = (
            'SELECT "id" FROM "reminder_deliveries" WHERE "rule" = '
            f'{first} AND "occurrence" = {second} AND "state" NOT IN ({", ".join(closed)}) '
            'ORDER BY "id"'
        )
        values = [fan.rule, fan.occurrence, *(s.value for s in CLOSED)]
        ids += [int(row[0]) for row in await select_rows(sql, values)]
    return ids


async def settle(fans: Sequence[Fan], now: datetime) -> int:
    """Rows of these occurrences still waiting for people who have left the audience since
    they were recorded: skipped, and logged."""
    settled = 0
    for fan in fans:
        audience, audience_params = sql_of(fan.audience)
        p = marks(6)
        if on_postgres():
            audience = _renumbered(audience, audience_params, 7)
        sql = (
            'SELECT "id", "recipient_id" FROM "reminder_deliveries" '
            f'WHERE "rule" = {p[0]} AND "occurrence" = {p[1]} '
            f'AND ("state" IN ({p[2]}, {p[3]}) '
            f'OR ("state" = {p[4]} AND "lease_until" < {p[5]})) '
            f'AND "recipient_id" NOT IN (SELECT "audience"."0" FROM ({audience}) AS "audience")'
        )
        values = [
            fan.rule, fan.occurrence, S.PENDING.value, S.RETRY.value, S.CLAIMED.value, db_time(now)
        ]  # fmt: skip
        gone = await select_rows(sql, [*values, *audience_params])
        keyed = [(int(row[0]), (fan.rule, int(row[1]), fan.occurrence)) for row in gone]
        settled += await skip(keyed, GONE, now)
    return settled
