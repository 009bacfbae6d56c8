"""The bot under test in its own process: started, watched (RSS, CPU), stopped by SIGTERM.

The bench's own process serves the emulator and plays the users on one core; the bot gets
the other, as it would on a real two-core host next to nginx.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.emulated import EmulatorServer
from bench.orphan import PARENT_ENV
from bench.stats import cpu_seconds, memory_mb

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "5550001234:bench-token-aaaaaaaaaaaaaaaaaaaaaaaaaa"
ADMIN_ID = 900
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nobody listens on now (for the bot's own web server)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class BotProcess:
    """A running bot process and when it was started."""

    process: subprocess.Popen[bytes]
    started: float  # time.monotonic() just before the spawn
    log: IO[bytes]

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def memory(self) -> dict[str, float]:
        """RSS now and peak, MB."""
        return memory_mb(self.pid)

    def cpu(self) -> float:
        """CPU seconds used so far."""
        return cpu_seconds(self.pid)

    async def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL after 20 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        for _ in range(200):
            if self.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            self.process.kill()
            self.process.wait()
        self.log.close()
        return self.process.returncode


def innobridge_env(api_url: str, database_url: str, rate: int | None) -> dict[str, str]:
    """The environment `innobridge run` reads, pointed at the emulator and the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNOBRIDGE_", "BENCH_"))}
    env.update(
        PTB_TIMEDELTA="1",
        INNOBRIDGE_BOT_TOKEN=TOKEN,
        INNOBRIDGE_TELEGRAM_API_URL=api_url,
        INNOBRIDGE_DATABASE_URL=database_url,
        INNOBRIDGE_ADMIN_IDS=str(ADMIN_ID),
        INNOBRIDGE_HTTP_PORT=str(free_port()),
    )
    if rate is not None:
        env["BENCH_RATE_PER_SECOND"] = str(rate)
    return env


def spawn(command: list[str], env: dict[str, str], log_path: Path) -> BotProcess:
    """Start the process, its output to `log_path`."""
    log = log_path.open("wb")
    started = time.monotonic()
    env = {**env, PARENT_ENV: str(os.getpid())}  # bench/orphan.py: it ends with the bench
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    return BotProcess(process, started, log)


def tail_of(log: Path) -> str:
    """The end of a log, for an error message."""
    return log.read_text(errors="replace")[-3000:]


async def start(
    server: EmulatorServer,
    command: list[str],
    env: dict[str, str],
    log_path: Path,
) -> BotProcess:
    """Spawn the bot and wait for its first getUpdates; raise with its log if it never comes."""
    event = server.observer.poll_event(TOKEN)
    event.clear()
    server.observer.first_poll.pop(TOKEN, None)
    bot = spawn(command, env, log_path)
    deadline = bot.started + START_TIMEOUT
    while not event.is_set():
        if bot.process.poll() is not None or time.monotonic() > deadline:
            await bot.stop()
            tail = tail_of(log_path)
            raise RuntimeError(
                f"bot {command} did not poll (exit {bot.process.returncode}):\n{tail}"
            )
        try:
            await asyncio.wait_for(event.wait(), 0.2)
        except TimeoutError:
            continue
    return bot


async def start_echo(server: EmulatorServer, log_path: Path) -> BotProcess:
    """The PTB echo bot."""
    env = {**os.environ, "PTB_TIMEDELTA": "1"}
    return await start(
        server, [sys.executable, "-m", "bench.echo_bot", server.url, TOKEN], env, log_path
    )


async def start_innobridge(
    server: EmulatorServer,
    database_url: str,
    log_path: Path,
    *,
    rate: int | None = None,
    cli: bool = False,
    extra_env: dict[str, str] | None = None,
) -> BotProcess:
    """innobridge (`innobridge run`, through bench/bot_process.py unless `cli`)."""
    env = {**innobridge_env(server.url, database_url, rate), **(extra_env or {})}
    module = "bot" if cli else "bench.bot_process"
    command = [sys.executable, "-m", module, *(["run"] if cli else [])]
    return await start(server, command, env, log_path)


def startup_seconds(server: EmulatorServer, bot: BotProcess) -> float:
    """From the spawn to the first getUpdates the emulator saw."""
    return server.observer.first_poll[TOKEN] - bot.started
