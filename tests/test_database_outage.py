"""The database goes away and comes back (issue #7 item 3), PostgreSQL behind a TCP proxy.

While it is away, /readyz says so, the webhook answers 503 so that Telegram keeps the update
and retries, and nothing is lost: when it is back, the update is stored and answered.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.emulator.emulator import BotAPIEmulator
from bot.emulator.user_actions import send_text
from models.db import close_database, open_database
from tests.test_webhook import _answered, _stop, _worker


class Proxy:
    """A TCP proxy to PostgreSQL that the test can cut (dropping every connection) and mend."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.down = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.down = True
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    def mend(self) -> None:
        self.down = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


async def _ready(server: TestServer) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.make_url("/readyz")) as response,
    ):
        return response.status


@pytest.mark.postgres
async def test_updates_wait_out_a_database_outage(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    if not database.startswith("postgres"):
        pytest.skip("the outage is played on PostgreSQL")
    parts = urlsplit(database)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    await close_database()
    through_proxy = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}")
    await open_database(urlunsplit(through_proxy))
    emulator, api = emulator_server
    worker = await _worker(emulator, api, database)
    try:
        emma = emulator.user(502, first_name="Emma", language_code="en")
        await _answered(emma, emma.send("/start"), count=2)
        before = len(emma.messages)
        assert await _ready(worker.server) == 200

        proxy.cut()
        assert await _ready(worker.server) == 503
        await send_text(emulator, emma.bot, emma.info, "/help", wait=False)
        await asyncio.sleep(1.5)  # the webhook refuses (503): the update stays with Telegram
        assert len(emma.messages) == before
        webhook = emulator.bot(emma.bot.token).webhook
        assert webhook is not None and webhook.last_error_message is not None

        proxy.mend()
        for _ in range(200):
            if len(emma.messages) > before:
                break
            await asyncio.sleep(0.1)
        assert len(emma.messages) == before + 1 and "/status" in emma.last.text  # /help
        assert await _ready(worker.server) == 200
    finally:
        await _stop(worker)
        await proxy.stop()
