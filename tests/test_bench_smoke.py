"""The benchmark harness (bench/, issue #8) works: a tiny run of it, no figures judged.

Two simulated people play the echo bot and innobridge's registration and demand flows
through the emulator (each bot in its own process, on SQLite), and a reminder tick runs over
a handful of institutions. `make bench` runs the real sizes; this only proves the harness
still drives the bot to the end of every flow.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.databases import child, fresh_sqlite, seed
from bench.report import summarise
from bench.suite import Options, Suite

pytestmark = pytest.mark.bench_smoke

PEOPLE = 2
REGISTRATION_STEPS = 8
DEMAND_STEPS = 9


async def test_people_finish_every_flow_and_the_figures_are_reported(tmp_path: Path) -> None:
    options = Options(
        runs=1,
        users=PEOPLE,
        concurrency=PEOPLE,
        shipped_runs=0,
        sections=("a",),
        postgres_db=None,
        workdir=tmp_path,
    )
    results = await Suite(options).run()
    run = results["a"]["runs"][0]
    assert run["echo"]["failures"] == 0
    assert run["echo"]["updates"] == PEOPLE * 8
    flows = run["sqlite"]
    assert flows["registration"]["first_failure"] is None
    assert flows["registration"]["updates"] == PEOPLE * REGISTRATION_STEPS
    assert flows["demand"]["first_failure"] is None
    assert flows["demand"]["updates"] == PEOPLE * DEMAND_STEPS
    summary = summarise(results)
    row = summary["a"]["sqlite/registration"]
    assert row["rate_ratio"] > 0
    assert row["p99_ms"] > 0
    judged = {target["target"] for target in summary["targets"]}
    assert "sqlite/demand: updates/s ≥ 0.7× echo" in judged


async def test_a_tick_records_one_invitation_per_institution(tmp_path: Path) -> None:
    url = fresh_sqlite(tmp_path)
    await seed(url, "institutions", 5_000_000, 5)
    result = await child("bench.tick", url, "meeting")
    assert result["first"]["due"] == 5
    assert result["first"]["sendable"] == 5
    # The next tick finds them recorded: nothing new, the same five still to send.
    assert result["second"]["sendable"] == 5
    assert result["peak_rss_mb"] >= result["rss_before_mb"]
