"""(c) A fan-out through the reminder engine against the emulator's flood limits.

`python -m bench.fanout DATABASE_URL COUNT` makes COUNT active institution users who have
all started the bot, serves an emulator with Telegram's limits (30 messages a second per
bot, one a second per chat: answered with 429 beyond), builds the production Application
(bot/app.py, whose AIORateLimiter paces at reminders.rate_per_second = 25) and runs one
scheduler/engine.py tick at the moment the quarterly meeting invitation falls due: COUNT
messages. Prints one JSON line: sent, rate achieved, 429s, the busiest second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from datetime import datetime
from typing import Any

os.environ.setdefault("PTB_TIMEDELTA", "1")

from pydantic import AnyHttpUrl, SecretStr  # noqa: E402

from bench.emulated import EmulatorServer, make_emulator  # noqa: E402
from bench.processes import TOKEN  # noqa: E402
from bench.seed import people  # noqa: E402
from bench.tick import ZONE, scenario_clock  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.config import Settings, load_platform  # noqa: E402
from models.db import close_database, migrate, open_database  # noqa: E402
from models.entities import Role  # noqa: E402
from scheduler.engine import ReminderEngine  # noqa: E402

FIRST_ID = 7_000_000
GLOBAL_RATE = 30.0
CHAT_RATE = 1.0
STEADY_AFTER = 2.0


def busiest_second(times: list[float]) -> int:
    """The most messages accepted within any one-second span."""
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def run(database_url: str, count: int) -> dict[str, Any]:
    """Seed, serve, tick once, and measure."""
    await migrate(database_url)
    await open_database(database_url)
    emulator = make_emulator(rate_limits=True, global_rate=GLOBAL_RATE, chat_rate=CHAT_RATE)
    emulator.add_bot(TOKEN, username="innobridge_bench_bot")
    server = EmulatorServer(emulator)
    try:
        await people(Role.INSTITUTION, FIRST_ID, count)
        bot_state = emulator.bot()
        for uid in range(FIRST_ID, FIRST_ID + count):
            info = emulator.user(uid, first_name=f"机构{uid}", language_code="zh-CN").info
            bot_state.chat(info).started = True
        await server.start()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SecretStr(TOKEN),
            telegram_api_url=AnyHttpUrl(server.url),
            database_url=database_url,
        )
        platform = load_platform(None)
        application = build_application(settings, platform, own_database=False)
        await application.initialize()
        try:
            assert application.post_init is not None
            await application.post_init(application)
            now = scenario_clock(platform.reminders, "meeting", datetime.now(ZONE).date())
            engine = ReminderEngine(application.bot, platform, ZONE, clock=lambda: now)
            observer = server.observer
            observer.reset_counts()
            started = time.monotonic()
            report = await engine.tick()
            seconds = time.monotonic() - started
        finally:
            await application.shutdown()
    finally:
        await server.stop()
        await close_database()
    sent = observer.sent_at
    span = sent[-1] - sent[0] if len(sent) > 1 else 0.0
    send_rate = (len(sent) - 1) / span if span else 0.0
    # After the first seconds' burst (both token buckets start full): the pace kept.
    steady = [t for t in sent if t >= sent[0] + STEADY_AFTER] if sent else []
    steady_span = steady[-1] - steady[0] if len(steady) > 1 else 0.0
    steady_rate = (len(steady) - 1) / steady_span if steady_span else 0.0
    limit = platform.reminders.rate_per_second
    return {
        "count": count,
        "due": report.due,
        "sent": report.sent,
        "failed": report.failed,
        "retried": report.retried,
        "tick_s": round(seconds, 1),
        "before_first_send_s": round(sent[0] - started, 2) if sent else None,
        "send_rate": round(send_rate, 2),
        "configured_rate": limit,
        "emulator_rate": GLOBAL_RATE,
        "pct_of_configured": round(100 * send_rate / limit, 1),
        "pct_of_emulator_limit": round(100 * send_rate / GLOBAL_RATE, 1),
        "steady_rate": round(steady_rate, 2),
        "whole_tick_rate": round(report.sent / seconds, 2) if seconds else 0.0,
        "busiest_second": busiest_second(sent),
        "http_429": observer.statuses.get(429, 0),
        "refused": len(emulator.errors()),
    }


def main(argv: list[str]) -> None:
    """Command line: DATABASE_URL COUNT."""
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(json.dumps(asyncio.run(run(argv[0], int(argv[1])))))


if __name__ == "__main__":
    main(sys.argv[1:])
