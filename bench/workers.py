"""(f) innobridge on PostgreSQL with 1 and 2 webhook worker processes behind a proxy.

Telegram posts every update to the one URL a bot set with setWebhook, so several workers
need a proxy in front (nginx in docs/DEPLOY.md). Here `bench/proxy.py`, in its own process,
passes the emulator's deliveries round robin to the workers. Each worker is `innobridge
run` (bench/bot_process.py, the limiter lifted as in (a)) with INNOBRIDGE_WEBHOOK_URL the
proxy's URL and the same secret: every worker calls setWebhook with it at start, which
replaces the same settings with the same settings (the emulator, like Telegram, keeps one
webhook per bot). Workers start one after the other, so the first migrates the fresh
database and the second finds it migrated (DEPLOY.md: migrate before starting workers).

Besides (a)'s figures, each measurement reads the CPU time of every process involved
(each worker, the proxy, PostgreSQL's server processes, the bench process itself) from
/proc, so it shows where the two cores went.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.databases import seed
from bench.delivery import parallel_delivery
from bench.emulated import EmulatorServer
from bench.processes import (
    START_TIMEOUT,
    BotProcess,
    free_port,
    innobridge_env,
    spawn,
    tail_of,
)
from bench.stats import cpu_seconds
from bench.throughput import WARM_UP_PEOPLE, Extra, Ids, Load, play_flows, start_admin_chat

SECRET = "bench-two-workers-secret"
HOOK_PATH = "/telegram/webhook"


class Workers:
    """Several worker processes measured as one bot: CPU and RSS summed."""

    def __init__(self, processes: list[BotProcess]) -> None:
        self.processes = processes

    def cpu(self) -> float:
        """CPU seconds of all workers so far."""
        return sum(p.cpu() for p in self.processes)

    def memory(self) -> dict[str, float]:
        """RSS of all workers, MB."""
        return {"rss_mb": round(sum(p.memory()["rss_mb"] for p in self.processes), 1)}


def postgres_pids(database: str | None = None) -> list[int]:
    """PostgreSQL's server processes: the postmaster and its helpers, and the backends of
    `database` (all backends if None; other sessions' test databases are left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # a backend is titled "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE"
        words = title.split()
        host = next((i for i, w in enumerate(words) if w.endswith(")") or w == "[local]"), 0)
        if database is None or host < 2 or words[host - 1] == database:
            found.append(int(entry.name))
    return found


def database_of(url: str) -> str:
    """The database name of a postgres:// URL."""
    return urlsplit(url).path.lstrip("/")


class CpuOf:
    """The CPU ms per update of a set of processes (found anew at the start and the end)."""

    def __init__(self, name: str, pids: Callable[[], list[int]]) -> None:
        self.name = name
        self.pids = pids
        self._before: dict[int, float] = {}

    def _read(self) -> dict[int, float]:
        found = {}
        for pid in self.pids():
            try:
                found[pid] = cpu_seconds(pid)
            except (OSError, IndexError, ValueError):
                continue
        return found

    async def before(self) -> None:
        """CPU seconds of each process now."""
        self._before = self._read()

    async def after(self, updates: int, seconds: float) -> dict[str, Any]:
        """`{name}_cpu_ms_per_update` (a process that started meanwhile counts from 0)."""
        now = self._read()
        used = sum(cpu - self._before.get(pid, 0.0) for pid, cpu in now.items())
        return {f"{self.name}_cpu_ms_per_update": round(used * 1000 / max(updates, 1), 2)}


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 — our own proxy
        found: dict[str, Any] = json.loads(answer.read())
        return found


class ProxyStats:
    """The proxy's counts over a measurement (GET /bench-proxy/stats resets them)."""

    def __init__(self, url: str) -> None:
        self.url = f"{url}/bench-proxy/stats"

    async def before(self) -> None:
        """Start the counts afresh."""
        await asyncio.to_thread(_get_json, self.url)

    async def after(self, updates: int, seconds: float) -> dict[str, Any]:
        """Deliveries per worker, retries, and how much of the time a delivery was in hand
        (over 100 % when several are in flight at once, as with parallel delivery)."""
        found = await asyncio.to_thread(_get_json, self.url)
        return {
            "deliveries_per_worker": found["requests"],
            "proxy_retries": found["retries"],
            "delivery_p50_ms": found["p50_ms"],
            "delivery_p99_ms": found["p99_ms"],
            "delivery_busy_pct": round(100 * found["held_s"] / max(seconds, 1e-9), 1),
        }


async def _until(ready: Callable[[], bool], process: BotProcess, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"{what} did not start (exit {process.process.poll()}):\n{tail_of(log)}"
            )
        await asyncio.sleep(0.05)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def start_worker(
    server: EmulatorServer,
    database_url: str,
    port: int,
    hook: str,
    log: Path,
    rate: int | None,
    extra_env: dict[str, str] | None = None,
) -> BotProcess:
    """One webhook worker; returns once it has called setWebhook (it is then taking updates)."""
    env = {**innobridge_env(server.url, database_url, rate), **(extra_env or {})}
    env.update(
        INNOBRIDGE_HTTP_PORT=str(port),
        INNOBRIDGE_WEBHOOK_URL=hook,
        INNOBRIDGE_WEBHOOK_SECRET=SECRET,
    )
    calls = server.observer.calls["setwebhook"]
    worker = spawn([sys.executable, "-m", "bench.bot_process"], env, log)
    try:
        await _until(lambda: server.observer.calls["setwebhook"] > calls, worker, log, "worker")
    except BaseException:
        await worker.stop()
        raise
    return worker


async def drop_webhook(server: EmulatorServer) -> None:
    """Stop the emulator's deliveries (as deleteWebhook), so nothing posts to a closed proxy."""
    state = server.emulator.bot()
    if state.sender is not None:
        await state.sender.stop()
        state.sender = None
    state.webhook = None


async def webhook_workers(
    server: EmulatorServer,
    workdir: Path,
    database_url: str,
    load: Load,
    ids: Ids,
    *,
    workers: int,
    rate: int | None,
    parallel: bool = False,
    extra_env: dict[str, str] | None = None,
    more_extras: Callable[[list[BotProcess]], list[Extra]] | None = None,
) -> dict[str, dict[str, Any]]:
    """innobridge's flows with `workers` webhook processes behind the proxy; figures per flow.

    `parallel`: the emulator delivers with several connections at once (bench/delivery.py).
    `extra_env` and `more_extras` are for profiling (bench/profile_workers.py).
    """
    members = ids.block()
    await seed(database_url, "members", members, load.users + WARM_UP_PEOPLE)
    start_admin_chat(server)
    ports = [free_port() for _ in range(workers)]
    proxy_port = free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    upstreams = [f"http://127.0.0.1:{port}" for port in ports]
    proxy_log = workdir / f"proxy-{workers}{'p' if parallel else ''}.log"
    command = [sys.executable, "-m", "bench.proxy", str(proxy_port), *upstreams]
    proxy = spawn(command, dict(os.environ), proxy_log)
    started: list[BotProcess] = []
    try:
        await _until(lambda: _listening(proxy_port), proxy, proxy_log, "proxy")
        for number, port in enumerate(ports, 1):
            log = workdir / f"webhook-{workers}{'p' if parallel else ''}-worker{number}.log"
            with parallel_delivery(parallel):  # the emulator makes its sender at setWebhook
                worker = await start_worker(
                    server, database_url, port, proxy_url + HOOK_PATH, log, rate, extra_env
                )
            started.append(worker)
        group = Workers(started)
        extras: list[Extra] = [
            CpuOf(f"worker{n}", functools.partial(lambda pid: [pid], w.pid))
            for n, w in enumerate(started, 1)
        ]
        extras += [
            CpuOf("proxy", lambda: [proxy.pid]),
            CpuOf("postgres", functools.partial(postgres_pids, database_of(database_url))),
            ProxyStats(proxy_url),
        ]
        if more_extras is not None:
            extras += more_extras(started)
        return await play_flows(server, group, load, ids, members, extras=extras)
    finally:
        await drop_webhook(server)
        codes = await asyncio.gather(*(w.stop() for w in started))
        await proxy.stop()
        if any(code != 0 for code in codes):
            print(f"bench: worker exit codes {codes} (logs in {workdir})", file=sys.stderr)
