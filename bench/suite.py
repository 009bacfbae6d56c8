"""The whole suite: sections (a)-(f) of issue #8, (a)-(e) each on SQLite and PostgreSQL.

One emulator serves every bot process of the run. Raw figures of every repetition are kept;
bench/report.py turns them into medians and ratios.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench.databases import child, fresh_postgres, fresh_sqlite, seed
from bench.emulated import EmulatorServer, make_emulator
from bench.machine import describe
from bench.memory import conversations
from bench.processes import TOKEN
from bench.startup import echo_start, innobridge_start
from bench.stats import load_average
from bench.throughput import Ids, Load, echo, innobridge
from bench.workers import CpuOf, database_of, postgres_pids, webhook_workers

LIFTED_RATE = 1_000_000  # AIORateLimiter rate when measuring the software, not the limit
SECTIONS = ("a", "b", "c", "d", "e", "f")
# (f): the baseline (long polling, one process), then webhook workers behind the proxy, with
# the emulator's one-at-a-time delivery, and (label ending in "p") with Telegram's parallel.
WORKER_SETUPS = (
    ("polling", 0, False),
    ("webhook1", 1, False),
    ("webhook2", 2, False),
    ("webhook1p", 1, True),
    ("webhook2p", 2, True),
)


@dataclass
class Options:
    """What to run and how big."""

    runs: int = 3
    users: int = 60
    concurrency: int = 20
    shipped_runs: int = 1  # runs with the limits as shipped (28 messages/s overall)
    # Fixes undone (bench/experiments.py), measured as extra rows of (a): the baseline.
    experiments: tuple[str, ...] = ()
    tick_recipients: int = 100_000
    tick_runs: int = 3
    fanout: int = 10_000
    conversations: int = 10_000
    returning: int = 1_000
    startup_runs: int = 3
    parallel_delivery: bool = True  # (f): also rows with Telegram-like parallel delivery
    sections: tuple[str, ...] = SECTIONS
    postgres_db: str | None = "innobridge_bench"
    workdir: Path | None = None
    quick: bool = False
    notes: list[str] = field(default_factory=list)

    @classmethod
    def quick_defaults(cls, **changes: Any) -> Options:
        """`--quick`: the same measures, smaller (fan-out of 1,000, fewer people)."""
        values: dict[str, Any] = dict(
            users=30, concurrency=10, fanout=1_000, tick_runs=1, returning=300, quick=True
        )
        values.update(changes)
        return cls(**values)


def _progress(message: str) -> None:
    print(f"bench: {message} (load {load_average():.2f})", flush=True)


class Suite:
    """One run of the benchmarks."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.workdir = options.workdir or Path(tempfile.mkdtemp(prefix="innobridge-bench-"))
        self.ids = Ids()
        self.results: dict[str, Any] = {"options": _plain(asdict(options))}
        emulator = make_emulator(rate_limits=False)
        emulator.add_bot(TOKEN, username="innobridge_bench_bot")
        self.server = EmulatorServer(emulator)

    def _pg(self) -> str | None:
        return fresh_postgres(self.options.postgres_db) if self.options.postgres_db else None

    def databases(self) -> list[tuple[str, str | None]]:
        """(name, fresh URL or None when unavailable) for each database; call per use."""
        return [("sqlite", fresh_sqlite(self.workdir)), ("postgres", self._pg())]

    async def run(self) -> dict[str, Any]:
        """Every section asked for; the raw results."""
        pg_probe = fresh_postgres(self.options.postgres_db) if self.options.postgres_db else None
        self.results["machine"] = describe(pg_probe)
        await self.server.start()
        try:
            for section in self.options.sections:
                _progress(f"section {section}")
                await getattr(self, f"section_{section}")()
        finally:
            await self.server.stop()
        self.results["machine"]["load_average_at_end"] = round(load_average(), 2)
        if self.options.workdir is None:  # databases and logs of a run that went well
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.results

    async def section_a(self) -> None:
        """Updates/s and latency: echo, then innobridge on each database, per repetition."""
        opts = self.options
        load = Load(opts.users, opts.concurrency)
        runs: list[dict[str, Any]] = []
        for number in range(opts.runs):
            _progress(f"(a) run {number + 1}/{opts.runs}: echo")
            entry: dict[str, Any] = {"echo": await echo(self.server, self.workdir, load, self.ids)}
            for name, url in self.databases():
                if url is None:
                    continue
                _progress(f"(a) run {number + 1}/{opts.runs}: innobridge on {name}")
                entry[name] = await innobridge(
                    self.server, self.workdir, url, load, self.ids, rate=LIFTED_RATE
                )
                for experiment in opts.experiments:
                    again = fresh_sqlite(self.workdir) if name == "sqlite" else self._pg()
                    if again is None:
                        continue
                    _progress(f"(a) run {number + 1}/{opts.runs}: {experiment} on {name}")
                    entry[f"{name}+{experiment}"] = await innobridge(
                        self.server,
                        self.workdir,
                        again,
                        load,
                        self.ids,
                        rate=LIFTED_RATE,
                        experiments=experiment,
                    )
            runs.append(entry)
        shipped: list[dict[str, Any]] = []
        for number in range(opts.shipped_runs):
            entry = {"echo": await echo(self.server, self.workdir, load, self.ids)}
            for name, url in self.databases():
                if url is None:
                    continue
                _progress(f"(a) shipped limiter {number + 1}: innobridge on {name}")
                entry[name] = await innobridge(
                    self.server, self.workdir, url, load, self.ids, rate=None
                )
            shipped.append(entry)
        self.results["a"] = {"runs": runs, "shipped": shipped}

    async def section_b(self) -> None:
        """One tick over many institutions, each database seeded once."""
        opts = self.options
        found: dict[str, Any] = {}
        for name, url in self.databases():
            if url is None:
                continue
            _progress(f"(b) seeding {opts.tick_recipients} institutions on {name}")
            seeded = await seed(url, "institutions", 5_000_000, opts.tick_recipients)
            entry: dict[str, Any] = {"seed_s": seeded["seconds"]}
            plan = (
                ("meeting", opts.tick_runs, ()),
                ("annual", 1, ()),
                ("meeting_before", opts.tick_runs, ("--before",)),
            )
            for key, repeat, flags in plan:
                entry[key] = []
                for number in range(repeat):
                    _progress(f"(b) {key} tick {number + 1}/{repeat} on {name}")
                    log = self.workdir / f"tick-{name}.log"
                    scenario = key.removesuffix("_before")
                    entry[key].append(
                        await child("bench.tick", url, scenario, "--reset", *flags, log=log)
                    )
            found[name] = entry
        self.results["b"] = found

    async def section_c(self) -> None:
        """The fan-out, on SQLite (the emulator's limits, not the database, set its pace)."""
        url = fresh_sqlite(self.workdir)
        _progress(f"(c) fan-out of {self.options.fanout} (about {self.options.fanout // 25} s)")
        log = self.workdir / "fanout.log"
        self.results["c"] = await child("bench.fanout", url, self.options.fanout, log=log)

    async def section_d(self) -> None:
        """RSS with stored conversations, on each database."""
        found: dict[str, Any] = {}
        for name, url in self.databases():
            if url is None:
                continue
            _progress(f"(d) {self.options.conversations} conversations on {name}")
            found[name] = await conversations(
                self.server,
                self.workdir,
                url,
                self.ids,
                total=self.options.conversations,
                returning=self.options.returning,
                rate=LIFTED_RATE,
            )
        self.results["d"] = found

    async def section_e(self) -> None:
        """Start-up to first poll (fresh and migrated database), idle RSS; echo as baseline."""
        found: dict[str, Any] = {"echo": []}
        for number in range(self.options.startup_runs):
            _progress(f"(e) start-up run {number + 1}/{self.options.startup_runs}")
            found["echo"].append(await echo_start(self.server, self.workdir))
            for name, url in self.databases():
                if url is None:
                    continue
                runs = found.setdefault(name, {"fresh": [], "migrated": []})
                runs["fresh"].append(
                    await innobridge_start(self.server, self.workdir, url, idle=True)
                )
                runs["migrated"].append(
                    await innobridge_start(self.server, self.workdir, url, idle=True)
                )
        self.results["e"] = found

    async def section_f(self) -> None:
        """PostgreSQL: one polling process, then 1 and 2 webhook workers, per repetition.

        The order of the three turns each repetition, so a change of the machine's load
        during a repetition does not always fall on the same setup.
        """
        opts = self.options
        if not opts.postgres_db:
            self.results["f"] = {"runs": [], "skipped": "no PostgreSQL (--postgres-db none)"}
            return
        load = Load(opts.users, opts.concurrency)
        runs: list[dict[str, Any]] = []
        for number in range(opts.runs):
            entry: dict[str, Any] = {}
            setups = [s for s in WORKER_SETUPS if opts.parallel_delivery or not s[2]]
            turn = number % len(setups)
            for label, workers, parallel in setups[turn:] + setups[:turn]:
                url = self._pg()
                if url is None:
                    continue
                _progress(f"(f) run {number + 1}/{opts.runs}: {label}")
                if workers == 0:
                    entry[label] = await innobridge(
                        self.server,
                        self.workdir,
                        url,
                        load,
                        self.ids,
                        rate=LIFTED_RATE,
                        extras=[CpuOf("postgres", partial(postgres_pids, database_of(url)))],
                    )
                else:
                    entry[label] = await webhook_workers(
                        self.server,
                        self.workdir,
                        url,
                        load,
                        self.ids,
                        workers=workers,
                        rate=LIFTED_RATE,
                        parallel=parallel,
                    )
            runs.append(entry)
        self.results["f"] = {"runs": runs}


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
