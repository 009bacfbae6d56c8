"""Faults (issue #7 item 3): the Bot API fails, the process is stopped, the database goes away.

The emulator injects each fault before the call takes effect (bot/emulator/faults.py); the
bot must still deliver every reply exactly once. docs/RELIABILITY.md quotes these tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.emulator.emulator import BotAPIEmulator
from bot.emulator.user_actions import send_text
from models.reminder_entities import DeliveryState, ReminderDelivery
from tests.conftest import TOKEN, Harness, free_port
from tests.demand_support import TODAY
from tests.reminder_support import Clock, engine, institution

FAULTS = ["429", "500", "502", "drop"]


@pytest.mark.parametrize("kind", FAULTS)
async def test_a_reply_survives_a_failing_bot_api(harness: Harness, kind: str) -> None:
    emma = harness.person(502, "Emma", language_code="en")
    harness.emulator.inject(kind, method="sendMessage", times=2)
    await emma.send("/start")
    # The welcome and the first question, each once.
    assert len(emma.messages) == 2 and "Step 1 of" in emma.last.text
    assert harness.emulator.faults.injected == {kind: 2}


async def test_a_reply_survives_a_hanging_bot_api(harness: Harness) -> None:
    # Longer than python-telegram-bot's read timeout (5 s): TimedOut, then a retry.
    emma = harness.person(502, "Emma", language_code="en")
    harness.emulator.inject("hang", method="sendMessage", hang_seconds=6)
    await emma.send("/start")
    assert len(emma.messages) == 2
    assert harness.emulator.faults.injected == {"hang": 1}


async def test_a_reminder_fan_out_survives_server_errors(harness: Harness) -> None:
    people = [(await institution(harness, 501 + n, f"检测中心{n}"))[1] for n in range(3)]
    harness.emulator.inject("502", method="sendMessage", times=3)
    clock = Clock().at(TODAY.replace(month=3, day=1))
    report = await engine(harness, clock).tick()
    assert report.sent == 3 and report.retried == 0
    assert all(sum("年度报告" in m.text for m in p.messages) == 1 for p in people)
    assert await ReminderDelivery.filter(state=DeliveryState.SENT).count() == 3


async def test_sigterm_lets_the_update_in_hand_finish(
    emulator_server: tuple[BotAPIEmulator, TestServer], tmp_path: Path
) -> None:
    emulator, api = emulator_server
    env = {
        **os.environ,
        "INNOBRIDGE_BOT_TOKEN": TOKEN,
        "INNOBRIDGE_TELEGRAM_API_URL": str(api.make_url("")),
        "INNOBRIDGE_DATABASE_URL": f"sqlite://{tmp_path / 'bot.sqlite3'}",
        "INNOBRIDGE_HTTP_PORT": str(free_port()),
    }
    env.pop("INNOBRIDGE_WEBHOOK_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(200):  # until it polls
            if any(method == "getUpdates" for _, method, _ in emulator.requests()):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the bot never polled")
        zhang = emulator.user(501, first_name="张伟", language_code="zh-CN")
        emulator.inject("slow", method="sendMessage", hang_seconds=2)
        await send_text(emulator, zhang.bot, zhang.info, "/start", wait=False)
        for _ in range(100):  # until the bot holds the update (its reply is on the way)
            if emulator.faults.injected.get("slow"):
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0
    assert [m.text for m in zhang.messages if "请选择您的身份" in m.text]
