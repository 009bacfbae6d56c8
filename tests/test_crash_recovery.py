"""Kill -9 at any step loses no answer already given (issue #7 item 3).

In webhook mode an update is in the inbox before Telegram hears 200; a worker killed while
processing it leaves a lease that runs out, and the update is processed again. The answer
it carried may already be stored: the conversation is stamped with the update that moved
it, so the second run asks the current question again instead of taking the answer twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from bot.emulator.emulator import BotAPIEmulator
from bot.emulator.user_actions import send_text
from models.entities import Registration
from models.runtime_entities import InboxState, InboxUpdate
from tests.conftest import TOKEN, Harness, free_port
from tests.test_webhook import _answered

SECRET = "crash-test-secret"


async def test_an_update_processed_again_is_not_taken_as_the_next_answer(
    harness: Harness,
) -> None:
    bodies: list[dict[str, Any]] = []
    deliver = harness.emulator.deliver
    assert deliver is not None

    async def recording(token: str, body: dict[str, Any]) -> None:
        bodies.append(body)
        await deliver(token, body)

    harness.emulator.deliver = recording
    emma = harness.person(502, "Emma", language_code="en")
    await emma.send("/start")
    await emma.press("Enterprise")
    await emma.send("Emma Li")
    question = emma.last.text
    assert "Step 3 of" in question
    await deliver(TOKEN, bodies[-1])  # the same update again, as after a crash
    assert emma.last.text == question  # asked again; "Emma Li" is not a phone number error
    assert not any("phone" in m.text.lower() and "valid" in m.text.lower() for m in emma.messages)


async def _run(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _until(check: Any, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check() if asyncio.iscoroutinefunction(check) else check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_kill_9_in_the_middle_of_registration_loses_no_answer(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer], tmp_path: Path
) -> None:
    emulator, api = emulator_server
    port = free_port()
    env = {
        **os.environ,
        "INNOBRIDGE_BOT_TOKEN": TOKEN,
        "INNOBRIDGE_TELEGRAM_API_URL": str(api.make_url("")),
        "INNOBRIDGE_DATABASE_URL": database,
        "INNOBRIDGE_HTTP_PORT": str(port),
        "INNOBRIDGE_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
        "INNOBRIDGE_WEBHOOK_SECRET": SECRET,
    }
    emulator.deliver = None
    worker = await _run(env, tmp_path)
    try:
        await _until(lambda: emulator.bot(TOKEN).webhook is not None)
        emma = emulator.user(502, first_name="Emma", language_code="en")
        await _answered(emma, emma.send("/start"), count=2)
        await _answered(emma, emma.press("Enterprise"))
        # The answer to step 2 arrives; its reply hangs; the worker dies holding it.
        emulator.inject("slow", method="sendMessage", hang_seconds=3)
        await send_text(emulator, emma.bot, emma.info, "Emma Li", wait=False)
        await _until(lambda: emulator.faults.injected.get("slow"))
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        [held] = await InboxUpdate.filter(state=InboxState.PROCESSING)
        # Time passes: the dead worker's lease runs out (5 minutes in production).
        await InboxUpdate.filter(update_id=held.update_id).update(
            lease_until=datetime.now(UTC) - timedelta(seconds=1)
        )
        worker = await _run(env, tmp_path)
        await _until(lambda: any("Step 3 of" in m.text for m in emma.messages))
        await _answered(emma, emma.send("+8613800000502"))
        assert "Step 4 of" in emma.last.text  # the name was kept, the phone taken next
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
            await asyncio.wait_for(worker.wait(), 30)
    assert not await Registration.exists()  # not submitted yet: nothing invented either
    assert await InboxUpdate.filter(state=InboxState.PROCESSING).count() == 0
