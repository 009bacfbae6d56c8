"""Where the time goes with webhook workers: py-spy on each worker, SQL statements counted.

`python -m bench.profile_workers [--users 60] [--concurrency 20] [--parallel] [--out DIR]`
plays (f)'s flows once with 1 and once with 2 webhook workers behind the proxy
(bench/workers.py, PostgreSQL), samples every worker with py-spy during each flow and counts
the statements Tortoise ran in each (bench/bot_process.py BENCH_QUERY_LOG). Reports go to
DIR/profile-webhook{1,2}.txt (default docs/bench/two-workers). py-spy and Tortoise's debug
log cost CPU themselves: the figures of (f) are from runs without them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.databases import fresh_postgres
from bench.emulated import EmulatorServer, make_emulator
from bench.processes import ROOT, TOKEN, BotProcess
from bench.profile import RATE, _spy, digest
from bench.suite import LIFTED_RATE
from bench.throughput import Extra, Ids, Load
from bench.workers import webhook_workers

OUT = ROOT / "docs" / "bench" / "two-workers"


class Spied:
    """py-spy on every worker and their SQL counts, per measured flow."""

    def __init__(self, workers: list[BotProcess], workdir: Path, name: str) -> None:
        self.workers = workers
        self.workdir = workdir
        self.name = name
        self.flow = 0
        self.spies: list[subprocess.Popen[bytes]] = []
        self.reports: list[str] = []
        self.counts: list[Counter[str]] = []

    def _queries(self) -> None:
        """Each worker appends its counts so far to its file."""
        for worker in self.workers:
            os.kill(worker.pid, signal.SIGUSR1)

    def _read(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for worker in self.workers:
            lines = (self.workdir / f"queries-{worker.pid}.jsonl").read_text().splitlines()
            total.update(json.loads(lines[-1]))
        return total

    async def before(self) -> None:
        """Start sampling; note the statement counts so far."""
        self.flow += 1
        self._queries()
        await asyncio.sleep(0.3)
        self.counts = [self._read()]
        self.spies = [
            _spy(w.pid, self.workdir / f"{self.name}-{self.flow}-{w.pid}.raw")
            for w in self.workers
        ]
        await asyncio.sleep(1.0)  # py-spy attaches

    async def after(self, updates: int, seconds: float) -> dict[str, Any]:
        """Stop sampling; digest each worker's samples and the statements of the flow."""
        for spy in self.spies:
            spy.send_signal(signal.SIGINT)
        for spy in self.spies:
            await asyncio.to_thread(spy.wait, 60)
        self._queries()
        await asyncio.sleep(0.5)
        during = self._read() - self.counts[0]
        total = sum(during.values())
        text = [
            f"## flow {self.flow}: {updates} updates in {seconds:.1f} s; SQL statements "
            f"(all workers): {total / max(updates, 1):.2f} per update",
            "",
        ]
        text += [f"{n / max(updates, 1):6.2f}  {shape}" for shape, n in during.most_common(20)]
        for number, worker in enumerate(self.workers, 1):
            raw = self.workdir / f"{self.name}-{self.flow}-{worker.pid}.raw"
            if raw.exists():
                title = f"worker {number} of {len(self.workers)}, flow {self.flow}"
                # per update of all workers: a worker's share of the whole
                text += ["", digest(raw, title, updates, top=20)]
        self.reports.append("\n".join(text))
        return {"sql_per_update": round(total / max(updates, 1), 2)}


async def profile(users: int, concurrency: int, parallel: bool, database: str, out: Path) -> None:
    """Profile (f)'s webhook setups with 1 and 2 workers."""
    workdir = Path(tempfile.mkdtemp(prefix="innobridge-profile-workers-"))
    emulator = make_emulator(rate_limits=False)
    emulator.add_bot(TOKEN, username="innobridge_bench_bot")
    server = EmulatorServer(emulator)
    await server.start()
    ids, load = Ids(), Load(users, concurrency)
    made: dict[str, Spied] = {}

    def spied(name: str, started: list[BotProcess]) -> list[Extra]:
        made[name] = Spied(started, workdir, name)
        return [made[name]]

    try:
        for workers in (1, 2):
            url = fresh_postgres(database)
            assert url is not None, "PostgreSQL is needed"
            name = f"webhook{workers}{'p' if parallel else ''}"
            figures = await webhook_workers(
                server,
                workdir,
                url,
                load,
                ids,
                workers=workers,
                rate=LIFTED_RATE,
                parallel=parallel,
                extra_env={"BENCH_QUERY_LOG": str(workdir / "queries-{pid}.jsonl")},
                more_extras=functools.partial(spied, name),
            )
            head = [
                f"# {name}: {workers} webhook worker(s) behind the proxy, PostgreSQL, "
                f"{users} people, {concurrency} at a time; py-spy at {RATE} Hz on each worker",
                "",
                "Flow 1 is registration, flow 2 demand submission. Figures of this run "
                "(slowed by the sampling and the query log):",
                "",
                json.dumps(figures, ensure_ascii=False, indent=1),
                "",
            ]
            body = "\n\n".join(made[name].reports) if name in made else ""
            (out / f"profile-{name}.txt").write_text("\n".join(head) + body + "\n")
            print(f"profile: {out / f'profile-{name}.txt'}")
    finally:
        await server.stop()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile_workers", description=__doc__)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--parallel", action="store_true", help="parallel webhook delivery")
    parser.add_argument("--postgres-db", default="innobridge_bench")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(profile(args.users, args.concurrency, args.parallel, args.postgres_db, args.out))


if __name__ == "__main__":
    main()
