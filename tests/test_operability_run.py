"""`innobridge run` as an operator starts it (issue #7 item 7): a real process on a real port,
long polling the Bot API emulator; its log is JSON lines without the token, /metrics counts
what it did, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from bot.emulator import BotAPIEmulator
from tests.conftest import TOKEN
from tests.operability_support import PROCESS_TIMEOUT, environment, innobridge, scrape, value


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until_ready(url: str, process: asyncio.subprocess.Process) -> None:
    """Wait for /readyz to say 200 (database and bot identified), at most PROCESS_TIMEOUT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROCESS_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            assert process.returncode is None, "innobridge run exited during start-up"
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass  # not listening yet
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} not ready within {PROCESS_TIMEOUT:.0f} s")


async def test_run_writes_json_lines_counts_updates_and_stops_on_sigterm(
    emulator_server: tuple[BotAPIEmulator, TestServer], tmp_path: Path
) -> None:
    emulator, api = emulator_server
    port = free_port()
    env = environment(
        INNOBRIDGE_BOT_TOKEN=TOKEN,
        INNOBRIDGE_TELEGRAM_API_URL=str(api.make_url("")),
        INNOBRIDGE_DATABASE_URL=f"sqlite://{tmp_path / 'innobridge.sqlite3'}",
        INNOBRIDGE_HTTP_PORT=str(port),
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:
        await until_ready(f"http://127.0.0.1:{port}/readyz", process)
        zhang = emulator.user(101, first_name="张伟", language_code="zh-CN")
        await zhang.send("/start")
        assert "请选择您的身份" in zhang.last.text
        await zhang.send("/demand D2026-000042")
        assert zhang.last.text == "找不到这条需求。"
        samples = await scrape(f"http://127.0.0.1:{port}/metrics")
        process.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(process.wait(), PROCESS_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    written = log.read_text(encoding="utf-8")
    assert status == 0, written
    assert value(samples, "innobridge_updates_total", kind="message", outcome="ok") == 2
    assert value(samples, "innobridge_handler_seconds_count", kind="message") == 2

    records = [json.loads(line) for line in written.splitlines()]  # every line is JSON
    messages = [r["msg"] for r in records]
    assert f"web server on http://127.0.0.1:{port}" in messages
    assert "bot @innobridge_test_bot polling" in messages
    [refusal] = [r for r in records if r["msg"].startswith("refused")]
    assert refusal["ref"] == "D2026-000042"
    assert refusal["kind"] == "message"
    assert refusal["update_id"] == emulator.bot(TOKEN).updates.last_id
    assert TOKEN.split(":")[1] not in written


async def test_run_with_a_refused_token_says_so_without_the_token(
    emulator_server: tuple[BotAPIEmulator, TestServer], tmp_path: Path
) -> None:
    _, api = emulator_server
    env = environment(
        INNOBRIDGE_BOT_TOKEN="123456789:revoked-token-cccccccccccccccccccccc",
        INNOBRIDGE_TELEGRAM_API_URL=str(api.make_url("")),
        INNOBRIDGE_DATABASE_URL=f"sqlite://{tmp_path / 'innobridge.sqlite3'}",
        INNOBRIDGE_HTTP_PORT=str(free_port()),
    )
    status, out, err = await innobridge("run", env=env, cwd=tmp_path)
    assert status == 2
    assert "innobridge: the Bot API refused INNOBRIDGE_BOT_TOKEN" in err
    assert "revoked-token" not in out + err
