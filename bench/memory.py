"""(d) RSS of the bot with many conversations in progress.

Conversation state lives in the database (models/conversations.py), so 10,000 people stopped
half-way through registration should cost the bot process nothing until they come back.
Some people really walk the first steps (/start, role, name) through the emulator; their
stored conversation is then copied for the rest (bench/seed.py), as if all had stopped at
the phone question. RSS is read idle, with all of them stored, and after a share of them
came back and answered the phone question (each update loads and saves its state).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.databases import seed
from bench.emulated import EmulatorServer
from bench.processes import start_innobridge
from bench.throughput import Ids
from bench.users import Script, Step, half_registration_script, play_all, summary

WALKERS = 100  # people who really walk the first steps
SETTLE = 3.0


async def conversations(
    server: EmulatorServer,
    workdir: Path,
    database_url: str,
    ids: Ids,
    *,
    total: int,
    returning: int,
    rate: int | None,
) -> dict[str, Any]:
    """RSS idle, with `total` stored conversations, and after `returning` of them resumed."""
    bot = await start_innobridge(server, database_url, workdir / "memory.log", rate=rate)
    try:
        await asyncio.sleep(SETTLE)
        figures: dict[str, Any] = {"idle_rss_mb": bot.memory()["rss_mb"]}
        first = ids.block()
        walkers = min(WALKERS, total // 2)
        walked = await play_all(
            server, [half_registration_script(first + n) for n in range(walkers)], 20
        )
        copied = await seed(database_url, "conversations", first + walkers, total - walkers)
        figures["stored_conversations"] = copied["conversations"]
        figures["walk"] = summary(walked)
        figures["rss_with_stored_mb"] = bot.memory()["rss_mb"]
        back = [
            Script(first + walkers + n, "张伟", [Step("contact", "", "第 4 步")])
            for n in range(min(returning, total - walkers))
        ]
        resumed = await play_all(server, back, 20)
        figures["resume"] = summary(resumed)
        figures["returning"] = len(back)
        memory = bot.memory()
        figures["rss_after_resume_mb"] = memory["rss_mb"]
        figures["peak_rss_mb"] = memory["peak_rss_mb"]
        return figures
    finally:
        await bot.stop()
