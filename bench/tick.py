"""(b) One reminder tick over many recipients: the due set computed and recorded.

`python -m bench.tick DATABASE_URL SCENARIO [--tracemalloc]` runs, in a fresh process, what
scheduler/engine.py ReminderEngine._tick does before it sends: models/reminders.due_between
over the engine's window, models/deliveries.record, models/deliveries.settle_stale; then
the same again, as the next tick a minute later does while the occurrence is still in its
window. It prints one JSON line: seconds per part, RSS before and at peak (VmHWM), and with
--tracemalloc the peak of Python allocations (slower: timings of that run are not quoted).

Scenarios (the clock is set to the moment the rule's messages fall due, 09:00:30 local, on a
day of next year when no other rule sends to the same people):
- meeting: the quarterly service meeting invitation, 7 days ahead, to every institution;
- annual: the annual report's first notice, 30 days before 03-31, to institutions owing it.

--reset deletes every recorded delivery first (untimed), so runs can repeat on one seed;
--before records with bench/tick_before.py (the code before fixes T1-T3) instead of
models/deliveries.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench import tick_before
from bench.stats import memory_mb
from bot.config import load_platform
from models import deliveries, fan_deliveries, reminders
from models.db import close_database, open_database
from models.reminder_config import ReminderConfig, on_day
from models.reminder_entities import ReminderDelivery
from scheduler.engine import LOOKBACK

ZONE = ZoneInfo("Asia/Shanghai")


def scenario_clock(config: ReminderConfig, scenario: str, today: date) -> datetime:
    """The UTC moment one rule's messages fall due next year, when no other rule's do."""
    year = today.year + 1
    if scenario == "meeting":
        # The March meeting: the annual report's overdue notices of the year before have
        # stopped at its end, and its notices of this year begin after the invitation.
        rule = config.service_meeting
        lead = max(rule.lead_days)
        start = datetime(year, 1, 1, tzinfo=ZONE)
        meeting = reminders.meetings(config, ZONE, start, start + timedelta(days=366))[0]
        day, send_at = meeting.date() - timedelta(days=lead), rule.send_at
    elif scenario == "annual":
        # The first notice of the annual report (lead 30 days: 03-01), before any meeting's.
        report = config.annual_report
        day = on_day(year, report.due) - timedelta(days=max(report.lead_days))
        send_at = report.send_at
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    return datetime.combine(day, send_at, ZONE) + timedelta(seconds=30)


async def _tick(config: ReminderConfig, now: datetime, store: Any = deliveries) -> dict[str, Any]:
    """The engine's tick up to the sending, timed part by part (`store`: models/deliveries.py
    as scheduler/engine.py uses it, or bench/tick_before.py, the code before T1-T3 and T5)."""
    grace = timedelta(hours=config.grace_hours)
    since = now - grace - LOOKBACK
    started = time.perf_counter()
    if store is not deliveries:
        due = await reminders.due_between(config, ZONE, since, now)
        computed = time.perf_counter()
        ids = await store.record(due, now, grace)
        recorded = time.perf_counter()
        await store.settle_stale(due, now, since, grace)
        count = len(due)
    else:  # as ReminderEngine._tick: fan-outs recorded by the database (T5)
        items, fans = await reminders.plan_between(config, ZONE, since, now)
        computed = time.perf_counter()
        for fan in fans:
            await fan_deliveries.record(fan, now, grace)
        ids = await deliveries.record(items, now, grace)
        ids += await fan_deliveries.sendable(fans, now, grace)
        recorded = time.perf_counter()
        fanned = frozenset(fan.pair for fan in fans)
        await deliveries.settle_stale(items, now, since, grace, fanned)
        await fan_deliveries.settle(fans, now)
        count = len(ids)
    settled = time.perf_counter()
    return {
        "due": count,
        "sendable": len(ids),
        "due_s": round(computed - started, 3),
        "record_s": round(recorded - computed, 3),
        "settle_s": round(settled - recorded, 3),
        "total_s": round(settled - started, 3),
    }


async def measure(
    database_url: str, scenario: str, trace: bool, reset: bool, old_code: bool
) -> dict[str, Any]:
    """Open the database, run two ticks, report times and memory."""
    store: Any = tick_before if old_code else deliveries
    config = load_platform(None).reminders
    now = scenario_clock(config, scenario, datetime.now(ZONE).date())
    await open_database(database_url)
    try:
        if reset:
            await ReminderDelivery.all().delete()
        before = memory_mb()
        if trace:
            tracemalloc.start()
        try:
            first = await _tick(config, now, store)
        except Exception as failure:  # noqa: BLE001 — a failing tick is a finding, reported
            return {"scenario": scenario, "clock": now.isoformat(), "error": repr(failure)[:300]}
        peak_first = memory_mb()["peak_rss_mb"]
        second = await _tick(config, now + timedelta(minutes=1), store)
        traced = tracemalloc.get_traced_memory()[1] / 1e6 if trace else None
    finally:
        await close_database()
    return {
        "scenario": scenario,
        "old_code": old_code,
        "clock": now.isoformat(),
        "first": first,
        "second": second,
        "rss_before_mb": before["rss_mb"],
        "peak_rss_first_mb": peak_first,
        "peak_rss_mb": memory_mb()["peak_rss_mb"],
        "tracemalloc_peak_mb": round(traced, 1) if traced is not None else None,
    }


def main(argv: list[str]) -> None:
    """Command line: DATABASE_URL SCENARIO [--tracemalloc] [--reset] [--before]."""
    flags = set(argv[2:])
    result = asyncio.run(
        measure(
            argv[0], argv[1], "--tracemalloc" in flags, "--reset" in flags, "--before" in flags
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
