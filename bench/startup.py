"""(e) Time from process start to the first getUpdates, and (d) RSS while idle.

`innobridge run` itself (python -m bot run) is started: on a fresh database (it migrates
first) and again on the migrated one. The echo bot's start is the baseline. Idle RSS is read
once the bot has polled and its first reminder tick (10 s after start) has run: the figure
the target is about is the usual start, on a migrated database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.emulated import EmulatorServer
from bench.processes import start_echo, start_innobridge, startup_seconds

IDLE_AFTER = 12.0  # seconds after the first poll: past the first reminder tick (at 10 s)


async def innobridge_start(
    server: EmulatorServer, workdir: Path, database_url: str, *, idle: bool
) -> dict[str, Any]:
    """One start of `innobridge run`; with `idle`, also its RSS once settled."""
    bot = await start_innobridge(server, database_url, workdir / "startup.log", cli=True)
    try:
        figures: dict[str, Any] = {"first_poll_s": round(startup_seconds(server, bot), 3)}
        figures["rss_at_first_poll_mb"] = bot.memory()["rss_mb"]
        if idle:
            await asyncio.sleep(IDLE_AFTER)
            figures.update(idle_rss_mb=bot.memory()["rss_mb"])
        return figures
    finally:
        await bot.stop()


async def echo_start(server: EmulatorServer, workdir: Path) -> dict[str, Any]:
    """One start of the echo bot, and its RSS at the first poll."""
    bot = await start_echo(server, workdir / "echo-startup.log")
    try:
        return {
            "first_poll_s": round(startup_seconds(server, bot), 3),
            "rss_at_first_poll_mb": bot.memory()["rss_mb"],
        }
    finally:
        await bot.stop()
