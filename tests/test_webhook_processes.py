"""Two webhook worker processes on one PostgreSQL database (issue #7 item 2, DESIGN §7).

Each is a real `innobridge run` with its own port; the proxy in front is played by pointing
the webhook at one worker, then at the other, in the middle of a registration.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from telegram import Bot

from bot.emulator.emulator import BotAPIEmulator
from tests.conftest import TOKEN, free_port
from tests.test_webhook import _answered

SECRET = "two-workers-secret"


@pytest.mark.postgres
async def test_a_registration_goes_on_in_another_worker_process(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer], tmp_path: Path
) -> None:
    if not database.startswith("postgres"):
        pytest.skip("several workers share PostgreSQL")
    emulator, api = emulator_server
    emulator.deliver = None
    ports = [free_port(), free_port()]
    hooks = [f"http://127.0.0.1:{port}/telegram/webhook" for port in ports]
    workers = []
    for port, hook in zip(ports, hooks, strict=True):
        env = {
            **os.environ,
            "INNOBRIDGE_BOT_TOKEN": TOKEN,
            "INNOBRIDGE_TELEGRAM_API_URL": str(api.make_url("")),
            "INNOBRIDGE_DATABASE_URL": database,
            "INNOBRIDGE_HTTP_PORT": str(port),
            "INNOBRIDGE_WEBHOOK_URL": hook,
            "INNOBRIDGE_WEBHOOK_SECRET": SECRET,
        }
        workers.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=env,
                cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        )
        for _ in range(400):  # each worker registers its own URL when it is up
            state = emulator.bot(TOKEN).webhook
            if state is not None and state.url == hook:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"worker on {port} never set its webhook")
    bot = Bot(TOKEN, base_url=f"{str(api.make_url('')).rstrip('/')}/bot")
    try:
        emma = emulator.user(502, first_name="Emma", language_code="en")
        await _answered(emma, emma.send("/start"), count=2)  # to the second worker
        await _answered(emma, emma.press("Enterprise"))
        async with bot:
            await bot.set_webhook(hooks[0], secret_token=SECRET)  # now the first one
        await _answered(emma, emma.send("Emma Li"))
        assert "Step 3 of" in emma.last.text
        await _answered(emma, emma.send("+8613800000502"))
        assert "Step 4 of" in emma.last.text
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(worker.wait(), 30) for worker in workers]
    assert codes == [0, 0]
