"""Where the time goes: py-spy on the bot during flows, pyinstrument on a reminder tick.

`python -m bench.profile flows [sqlite|postgres]` starts innobridge (limiter lifted) and the
echo bot in turn, warms each up, and samples it with py-spy while simulated people play the
registration and demand flows; `python -m bench.profile tick [sqlite|postgres] [N]` seeds N
institutions and runs bench/tick.py under pyinstrument. Reports go to docs/bench/profile-*.txt:
for py-spy, the share of samples per area (library or package) and the heaviest functions,
inclusive and self. Needs the `bench` extra (py-spy, pyinstrument).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.databases import fresh_postgres, fresh_sqlite, seed
from bench.emulated import EmulatorServer, make_emulator
from bench.processes import ROOT, TOKEN, BotProcess, start_echo, start_innobridge
from bench.suite import LIFTED_RATE
from bench.throughput import Ids, Load, start_admin_chat, today
from bench.users import (
    LoadResult,
    demand_script,
    echo_script,
    play_all,
    registration_script,
    summary,
)

OUT = ROOT / "docs" / "bench"
PY_SPY = Path(sys.executable).with_name("py-spy")
RATE = 200
PG_DATABASE = os.environ.get("BENCH_POSTGRES_DB", "innobridge_bench")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:]*)(?::\d+)?\)$")
AREAS = (
    ("tortoise/", "tortoise"),
    ("pypika", "pypika"),
    ("aiosqlite/", "aiosqlite"),
    ("sqlite3/", "sqlite3"),
    ("asyncpg/", "asyncpg"),
    ("telegram/", "telegram (PTB)"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpcore"),
    ("anyio/", "anyio"),
    ("h11/", "h11"),
    ("aiolimiter/", "aiolimiter"),
    ("babel/", "babel"),
    ("pydantic", "pydantic"),
    ("apscheduler/", "apscheduler"),
    ("asyncio/", "asyncio"),
    ("logging/", "logging"),
    ("json/", "json"),
    ("handlers/", "innobridge handlers/"),
    ("models/", "innobridge models/"),
    ("locales/", "innobridge locales/"),
    ("bot/", "innobridge bot/"),
    ("scheduler/", "innobridge scheduler/"),
)
SQLITE_THREAD = "_connection_worker_thread"
# Spans of work a sample may be inside of (counted once per sample, whatever the depth).
SPANS: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("Bot API calls (PTB request, httpx)", lambda fn, fl: fn == "HTTPXRequest.do_request"),
    ("SQLite thread (C code, fsync)", lambda fn, fl: fn.endswith(SQLITE_THREAD)),
    ("database on the event loop (tortoise)", lambda fn, fl: fl.startswith("tortoise/")),
    ("innobridge handlers/", lambda fn, fl: fl.startswith("handlers/")),
    ("reading updates (PTB Update.de_json)", lambda fn, fl: fn == "Update.de_json"),
)


def area(function: str, file: str, stack: str) -> str:
    """What a sample was doing: the SQLite thread, the idle loop, or a library's code."""
    if SQLITE_THREAD in stack:
        return "SQLite thread (aiosqlite: SQLite's C code, fsync)"
    if function == "EpollSelector.select":
        return "event loop waiting (epoll)"
    for prefix, name in AREAS:
        if file.startswith(prefix):
            return name
    return "other"


def digest(raw: Path, title: str, updates: int, top: int = 25) -> str:
    """A text report of py-spy's collapsed stacks: areas by self samples, then functions."""
    self_area: Counter[str] = Counter()
    spans: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [f for f in stack.split(";") if f]
        names = []
        for frame in frames:
            match = _FRAME.match(frame)
            names.append((match["function"], match["file"]) if match else (frame, frame))
        function, file = names[-1]
        self_area[area(function, file, stack)] += samples
        for span, test in SPANS:
            if any(test(fn, fl) for fn, fl in names):
                spans[span] += samples
        own[f"{function} ({_short(file)})"] += samples
        for seen in {f"{fn} ({_short(fl)})" for fn, fl in names}:
            inclusive[seen] += samples
    per_update = total / max(updates, 1) * 1000 / RATE
    lines = [
        f"# {title}",
        f"{total} samples at {RATE} Hz over {updates} updates: "
        f"{per_update:.1f} ms of sampled time per update",
        "",
        "## self samples by area",
    ]
    lines += [f"{100 * n / total:5.1f} %  {name}" for name, n in self_area.most_common()]
    lines += ["", "## where the time goes, inclusive (ms per update)"]
    per = 1000 / RATE / max(updates, 1)
    lines += [
        f"{100 * spans[name] / total:5.1f} %  {spans[name] * per:5.2f} ms  {name}"
        for name, _ in SPANS
    ]
    lines += ["", f"## top {top} functions, inclusive (on the stack)"]
    lines += [f"{100 * n / total:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", f"## top {top} functions, self"]
    lines += [f"{100 * n / total:5.1f} %  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines) + "\n"


def query_digest(path: Path, updates: int, top: int = 25) -> str:
    """Statements per update between the two SIGUSR1 dumps, by shape."""
    before, after = (Counter(json.loads(line)) for line in path.read_text().splitlines()[:2])
    during = after - before
    total = sum(during.values())
    lines = [
        "",
        f"## SQL statements: {total} for {updates} updates = "
        f"{total / max(updates, 1):.1f} per update; top {top} shapes (count per update)",
    ]
    lines += [f"{n / max(updates, 1):6.2f}  {shape}" for shape, n in during.most_common(top)]
    return "\n".join(lines) + "\n"


def _short(file: str) -> str:
    for marker in ("site-packages/", "/wt-d/", "/lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def _spy(pid: int, raw: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(RATE),
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _sampled(bot: BotProcess, raw: Path, play: asyncio.Future[LoadResult]) -> None:
    spy = _spy(bot.pid, raw)
    await asyncio.sleep(1.0)  # py-spy attaches
    try:
        await play
    finally:
        spy.send_signal(signal.SIGINT)
        await asyncio.to_thread(spy.wait, 60)


async def flows(database: str, users: int = 60, concurrency: int = 20) -> None:
    """Profile innobridge's flows and the echo bot under the same load."""
    workdir = Path(tempfile.mkdtemp(prefix="innobridge-profile-"))
    emulator = make_emulator(rate_limits=False)
    emulator.add_bot(TOKEN, username="innobridge_bench_bot")
    server = EmulatorServer(emulator)
    await server.start()
    ids, load = Ids(), Load(users, concurrency)
    url = fresh_sqlite(workdir) if database == "sqlite" else fresh_postgres(PG_DATABASE)
    assert url is not None
    try:
        members = ids.block()
        await seed(url, "members", members, users + 1)
        start_admin_chat(server)
        queries = workdir / "queries.jsonl"
        bot = await start_innobridge(
            server,
            url,
            workdir / "bot.log",
            rate=LIFTED_RATE,
            extra_env={"BENCH_QUERY_LOG": str(queries)},
        )
        try:
            await play_all(
                server,
                [registration_script(ids.block()), demand_script(members + users, today())],
                2,
            )
            first = ids.block()
            scripts = [registration_script(first + n) for n in range(users)]
            scripts += [demand_script(members + n, today()) for n in range(users)]
            raw = workdir / "flows.raw"
            os.kill(bot.pid, signal.SIGUSR1)
            play = asyncio.ensure_future(play_all(server, scripts, load.concurrency))
            await _sampled(bot, raw, play)
            os.kill(bot.pid, signal.SIGUSR1)
            await asyncio.sleep(0.5)
            played = play.result()
            print("flows under py-spy:", summary(played))
            report = digest(raw, f"innobridge flows on {database} (py-spy)", played.updates)
            report += query_digest(queries, played.updates)
            (OUT / f"profile-flows-{database}.txt").write_text(report)
        finally:
            await bot.stop()
        echo = await start_echo(server, workdir / "echo.log")
        try:
            await play_all(server, [echo_script(ids.block(), 3)], 1)
            first = ids.block()
            raw = workdir / "echo.raw"
            play = asyncio.ensure_future(
                play_all(server, [echo_script(first + n, 16) for n in range(users)], concurrency)
            )
            await _sampled(echo, raw, play)
            played = play.result()
            print("echo under py-spy:", summary(played))
            (OUT / "profile-echo.txt").write_text(digest(raw, "echo bot (py-spy)", played.updates))
        finally:
            await echo.stop()
    finally:
        await server.stop()


async def tick(database: str, recipients: int) -> None:
    """pyinstrument over bench/tick.py (meeting scenario) after seeding."""
    workdir = Path(tempfile.mkdtemp(prefix="innobridge-profile-"))
    url = fresh_sqlite(workdir) if database == "sqlite" else fresh_postgres(PG_DATABASE)
    assert url is not None
    await seed(url, "institutions", 5_000_000, recipients)
    session = workdir / "tick.pyisession"
    await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "pyinstrument",
            "-r",
            "pyisession",
            "-o",
            str(session),
            "-m",
            "bench.tick",
            url,
            "meeting",
        ],
        cwd=ROOT,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    # Library frames shown one level deep under the application's, small ones left out.
    await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "pyinstrument",
            "--load",
            str(session),
            "-r",
            "text",
            "--no-color",
            "-p",
            "processor_options.filter_threshold=0.01",
            "-o",
            str(OUT / f"profile-tick-{database}.txt"),
        ],
        cwd=ROOT,
        check=True,
    )


def main(argv: list[str]) -> None:
    """Command line: flows|tick [sqlite|postgres] [N]."""
    what = argv[0] if argv else "flows"
    database = argv[1] if len(argv) > 1 else "sqlite"
    OUT.mkdir(parents=True, exist_ok=True)
    if what == "flows":
        asyncio.run(flows(database))
    else:
        asyncio.run(tick(database, int(argv[2]) if len(argv) > 2 else 100_000))


if __name__ == "__main__":
    main(sys.argv[1:])
