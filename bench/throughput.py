"""(a) Updates per second and reply latency: the echo bot, then innobridge's flows.

Each measurement starts its bot process, warms it up with a few chats that are not counted,
plays the scripts of `users` people (at most `concurrency` at once), and notes the bot's
CPU time, so a figure can be read as "CPU per update" too when the machine is busy.
"""

from __future__ import annotations

import itertools
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bench.databases import seed
from bench.emulated import EmulatorServer
from bench.processes import ADMIN_ID, start_echo, start_innobridge
from bench.stats import load_average
from bench.users import (
    Script,
    demand_script,
    echo_script,
    play_all,
    registration_script,
    summary,
)

ECHO_STEPS = 8  # as many updates per person as a registration
WARM_UP_PEOPLE = 2


@dataclass(frozen=True)
class Load:
    """How many simulated people, and how many of them act at once."""

    users: int
    concurrency: int


class Ids:
    """Fresh Telegram user ids, so no two runs share a person."""

    def __init__(self, start: int = 1_000_000) -> None:
        self._next = itertools.count(start, 100_000)

    def block(self) -> int:
        """The first id of a block of 100,000."""
        return next(self._next)


def today() -> date:
    """The platform's today (Asia/Shanghai), as the handlers judge dates."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class Watched(Protocol):
    """What is measured of the bot: one process, or several workers summed."""

    def cpu(self) -> float:
        """CPU seconds used so far."""
        ...

    def memory(self) -> dict[str, float]:
        """RSS, MB."""
        ...


class Extra(Protocol):
    """More figures of a measurement (other processes' CPU, the proxy's counts)."""

    async def before(self) -> None:
        """Take the readings at the start."""

    async def after(self, updates: int, seconds: float) -> dict[str, Any]:
        """The figures since `before`."""
        ...


async def _measure(
    server: EmulatorServer,
    bot: Watched,
    scripts: list[Script],
    concurrency: int,
    extras: Sequence[Extra] = (),
) -> dict[str, Any]:
    server.forget_history()
    for extra in extras:
        await extra.before()
    calls = sum(n for m, n in server.observer.calls.items() if m != "getupdates")
    bot_cpu = bot.cpu()
    own = resource.getrusage(resource.RUSAGE_SELF)
    busy, total = _machine_busy()
    result = await play_all(server, scripts, concurrency)
    after = resource.getrusage(resource.RUSAGE_SELF)
    busy2, total2 = _machine_busy()
    figures = summary(result)
    updates = max(result.updates, 1)
    figures["bot_cpu_ms_per_update"] = round((bot.cpu() - bot_cpu) * 1000 / updates, 2)
    driver = (after.ru_utime + after.ru_stime) - (own.ru_utime + own.ru_stime)
    figures["driver_cpu_ms_per_update"] = round(driver * 1000 / updates, 2)
    made = sum(n for m, n in server.observer.calls.items() if m != "getupdates") - calls
    figures["api_calls_per_update"] = round(made / updates, 2)
    figures["machine_busy_pct"] = round(100 * (busy2 - busy) / max(total2 - total, 1), 1)
    figures["bot_rss_mb"] = bot.memory()["rss_mb"]
    figures["load_average"] = round(load_average(), 2)
    for extra in extras:
        figures.update(await extra.after(updates, result.seconds))
    return figures


async def echo(server: EmulatorServer, workdir: Path, load: Load, ids: Ids) -> dict[str, Any]:
    """The bare PTB echo bot: the floor no bot on this stack can beat."""
    bot = await start_echo(server, workdir / "echo.log")
    try:
        warm = ids.block()
        await play_all(server, [echo_script(warm + n, 3) for n in range(WARM_UP_PEOPLE)], 2)
        first = ids.block()
        scripts = [echo_script(first + n, ECHO_STEPS) for n in range(load.users)]
        return await _measure(server, bot, scripts, load.concurrency)
    finally:
        await bot.stop()


def start_admin_chat(server: EmulatorServer) -> None:
    """The admin (a reviewer too) has started the bot, so review cards reach them."""
    emulator = server.emulator
    info = emulator.user(ADMIN_ID, first_name="刘管理", language_code="zh-CN").info
    emulator.bot().chat(info).started = True


async def innobridge(
    server: EmulatorServer,
    workdir: Path,
    database_url: str,
    load: Load,
    ids: Ids,
    *,
    rate: int | None,
    flows: tuple[str, ...] = ("registration", "demand"),
    experiments: str = "",
    extras: Sequence[Extra] = (),
) -> dict[str, dict[str, Any]]:
    """innobridge playing each flow in turn on one database; figures per flow."""
    members = ids.block()
    if "demand" in flows:
        await seed(database_url, "members", members, load.users + WARM_UP_PEOPLE)
    start_admin_chat(server)
    tag = ("lifted" if rate else "shipped") + (f"-{experiments}" if experiments else "")
    bot = await start_innobridge(
        server,
        database_url,
        workdir / f"innobridge-{tag}.log",
        rate=rate,
        extra_env={"BENCH_EXPERIMENTS": experiments} if experiments else None,
    )
    try:
        return await play_flows(server, bot, load, ids, members, flows, extras)
    finally:
        await bot.stop()


async def play_flows(
    server: EmulatorServer,
    bot: Watched,
    load: Load,
    ids: Ids,
    members: int,
    flows: tuple[str, ...] = ("registration", "demand"),
    extras: Sequence[Extra] = (),
) -> dict[str, dict[str, Any]]:
    """Warm the running bot up, then measure each flow; `members` were seeded for demand."""
    warm = ids.block()
    warm_up = [registration_script(warm + n) for n in range(WARM_UP_PEOPLE)]
    if "demand" in flows:
        warm_up.append(demand_script(members + load.users, today()))
    await play_all(server, warm_up, len(warm_up))
    figures: dict[str, dict[str, Any]] = {}
    if "registration" in flows:
        first = ids.block()
        scripts = [registration_script(first + n) for n in range(load.users)]
        figures["registration"] = await _measure(server, bot, scripts, load.concurrency, extras)
    if "demand" in flows:
        day = today()
        scripts = [demand_script(members + n, day) for n in range(load.users)]
        figures["demand"] = await _measure(server, bot, scripts, load.concurrency, extras)
    return figures
