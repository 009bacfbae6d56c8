"""The benchmark harness (bench/, issue #8) works: a tiny run of it, no figures judged.

Two simulated people play the echo bot and innobridge's registration and demand flows
through the emulator (each bot in its own process, on SQLite), and a reminder tick runs over
a handful of institutions; on PostgreSQL, the same people play 1 and 2 webhook worker
processes behind the bench's round-robin proxy. `make bench` runs the real sizes; this only
proves the harness still drives the bot to the end of every flow.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

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


@pytest.mark.postgres
async def test_webhook_workers_behind_the_proxy_finish_every_flow(tmp_path: Path) -> None:
    """(f): long polling, then 1 and 2 webhook workers behind the round-robin proxy."""
    url = os.environ.get("INNOBRIDGE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL not available (make test provides it)")
    options = Options(
        runs=1,
        users=PEOPLE,
        concurrency=PEOPLE,
        sections=("f",),
        postgres_db=f"{urlsplit(url).path.lstrip('/')}_bench",
        parallel_delivery=False,
        workdir=tmp_path,
    )
    results = await Suite(options).run()
    run = results["f"]["runs"][0]
    assert set(run) == {"polling", "webhook1", "webhook2"}
    for setup, flows in run.items():
        assert flows["registration"]["updates"] == PEOPLE * REGISTRATION_STEPS, setup
        assert flows["demand"]["updates"] == PEOPLE * DEMAND_STEPS, setup
    assert run["webhook2"]["registration"]["deliveries_per_worker"] == [PEOPLE * 4] * 2
    summary = summarise(results)
    assert summary["f"]["ratios"]["demand"]["webhook2_vs_webhook1"] > 0
    judged = {target["target"] for target in summary["targets"]}
    assert "postgres/demand: 2 webhook workers ≥ 1.6× one" in judged
