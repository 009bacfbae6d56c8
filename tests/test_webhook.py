"""Webhook mode (issue #7 items 1-2): the inbox, the secret, duplicates, order, two workers.

The emulator posts updates to the webhook as Telegram does (with the secret header, retried
until a 2xx); the workers are real Applications with their own aiohttp servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from telegram.ext import Application

from bot.config import Settings
from bot.emulator.client import EmulatedUser
from bot.emulator.emulator import BotAPIEmulator
from bot.runner import start_webhook
from bot.web import BOT_READY, create_web_app
from bot.webhook import INBOX, SECRET_HEADER, SECRET_KEY, WEBHOOK_PATH, InboxProcessor
from models import inbox
from models.runtime_entities import InboxState, InboxUpdate
from tests.conftest import TOKEN, start_bot, stop_bot

SECRET = "s3cret-for-tests_only"


@dataclass
class Worker:
    """One worker process's parts: its Application, its web server and its inbox processor."""

    application: Application  # type: ignore[type-arg]
    server: TestServer
    processor: InboxProcessor

    @property
    def url(self) -> str:
        return str(self.server.make_url(WEBHOOK_PATH))


async def _worker(
    emulator: BotAPIEmulator, api: TestServer, database: str, *, register: bool = True
) -> Worker:
    application = await start_bot(emulator, api, database)
    emulator.deliver = None  # updates go through the webhook, not straight to one app
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_url=str(api.make_url("")),
        database_url=database,
        webhook_secret=SECRET,
    )
    web_app = create_web_app(settings)
    web_app[BOT_READY]["username"] = application.bot.username  # as the runner does
    server = TestServer(web_app)
    await server.start_server()
    await application.start()
    settings.webhook_url = server.make_url(WEBHOOK_PATH)  # type: ignore[assignment]
    if register:
        processor = await start_webhook(settings, application, web_app)
    else:
        processor = InboxProcessor(application, SECRET)
        web_app[INBOX]["processor"] = processor
        processor.start()
    return Worker(application, server, processor)


async def _stop(worker: Worker) -> None:
    await worker.processor.stop()
    await worker.application.stop()
    await stop_bot(worker.application)
    await worker.server.close()


@pytest.fixture
async def workers(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> AsyncIterator[list[Worker]]:
    emulator, api = emulator_server
    running = [await _worker(emulator, api, database)]
    running.append(await _worker(emulator, api, database, register=False))
    yield running
    for worker in running:
        await _stop(worker)
    assert emulator.errors() == []


def _update(update_id: int, chat: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat, "type": "private", "first_name": "王"},
            "from": {"id": chat, "is_bot": False, "first_name": "王", "language_code": "zh-CN"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]
            if text.startswith("/")
            else [],
        },
    }


async def _answered(person: EmulatedUser, action: Awaitable[object], count: int = 1) -> None:
    """Do it, then wait for the reply: the webhook answers 200 before the inbox is processed,
    so the emulator's "the bot went quiet" may come before the bot has started."""
    before = len(person.messages)
    await action
    for _ in range(200):
        if len(person.messages) >= before + count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no reply to {person.user_id} within 10 s")


async def _post(url: str, body: object, secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session:
        if isinstance(body, bytes):
            response = await session.post(url, data=body, headers=headers)
        else:
            response = await session.post(url, json=body, headers=headers)
        async with response:
            return response.status


async def test_the_webhook_is_registered_with_the_secret(
    workers: list[Worker], emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    emulator, _ = emulator_server
    info = await workers[0].application.bot.get_webhook_info()
    assert info.url == workers[0].url
    assert tuple(info.allowed_updates or ()) == ("message", "callback_query")
    assert emulator.bot(TOKEN).webhook is not None
    assert emulator.bot(TOKEN).webhook.secret_token == SECRET


async def test_wrong_or_missing_secret_and_bad_bodies_are_refused(workers: list[Worker]) -> None:
    url = workers[0].url
    assert await _post(url, _update(1, 501, "/start"), secret=None) == 403
    assert await _post(url, _update(1, 501, "/start"), secret="guess") == 403
    assert await _post(url, b"{not json", secret=SECRET) == 400
    assert await _post(url, {"hello": "world"}) == 400
    assert await _post(url, {"update_id": -3}) == 400
    assert not await InboxUpdate.exists()


async def test_a_conversation_over_the_webhook_and_a_duplicate_processed_once(
    workers: list[Worker], emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    emulator, _ = emulator_server
    zhang = emulator.user(501, first_name="张伟", language_code="zh-CN")
    await _answered(zhang, zhang.send("/start"), count=2)
    assert "请选择您的身份" in zhang.last.text
    replies = len(zhang.messages)
    # Telegram retries a delivery it did not see acknowledged: the same update_id again.
    [row] = await InboxUpdate.filter(chat_id=501)
    again = _update(row.update_id, 501, "/start")
    assert await _post(workers[1].url, again) == 200
    assert await _post(workers[0].url, again) == 200
    await _answered(zhang, zhang.send("/help"))
    await asyncio.sleep(0.3)  # time for a duplicate to show, were it processed
    assert len(zhang.messages) == replies + 1  # /help answered, the duplicate not
    assert await InboxUpdate.filter(state=InboxState.DONE).count() == 2


async def test_a_conversation_continues_on_the_other_worker(
    workers: list[Worker], emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    emulator, _ = emulator_server
    first, second = workers
    emma = emulator.user(502, first_name="Emma", language_code="en")
    await _answered(emma, emma.send("/start"), count=2)
    await _answered(emma, emma.press("Enterprise"))
    assert "Step 2 of" in emma.last.text
    # Behind the proxy the next update lands on the other worker.
    await second.application.bot.set_webhook(
        url=second.url, secret_token=SECRET, allowed_updates=["message", "callback_query"]
    )
    await _answered(emma, emma.send("Emma Li"))
    assert "Step 3 of" in emma.last.text  # the name was taken where worker 1 left off
    assert first.processor.token != second.processor.token


async def test_one_chat_in_order_other_chats_alongside(database: str) -> None:
    now = datetime.now(UTC)
    for update_id, chat in ((10, 7), (11, 7), (12, 8), (13, 7)):
        assert await inbox.store(_update(update_id, chat, "hi"))
    assert not await inbox.store(_update(11, 7, "hi"))  # a duplicate is kept once
    lease = timedelta(minutes=5)
    first = await inbox.claim("a", now, lease, limit=10)
    assert sorted(r.update_id for r in first) == [10, 12]  # chat 7's next waits for 10
    assert await inbox.claim("b", now, lease, limit=10) == []
    await inbox.finish(10, "a", now)
    await inbox.finish(12, "a", now)
    [following] = await inbox.claim("b", now, lease, limit=10)
    assert following.update_id == 11
    # A worker that died holding 11: after its lease another takes it over, still before 13.
    later = now + lease + timedelta(seconds=1)
    [retaken] = await inbox.claim("c", later, lease, limit=10)
    assert retaken.update_id == 11
    await inbox.finish(11, "b", later)  # the dead worker's token no longer counts
    assert (await InboxUpdate.get(update_id=11)).state is InboxState.PROCESSING
    await inbox.finish(11, "c", later)
    assert [r.update_id for r in await inbox.claim("c", later, lease, limit=10)] == [13]


async def test_the_generated_secret_is_shared_by_every_worker(database: str) -> None:
    made = await inbox.shared_secret(SECRET_KEY, None)
    assert len(made) >= 32 and made == await inbox.shared_secret(SECRET_KEY, None)
    assert await inbox.shared_secret(SECRET_KEY, "configured") == "configured"


async def test_finished_updates_are_forgotten_after_a_day_and_their_text_at_once(
    database: str,
) -> None:
    now = datetime.now(UTC)
    await inbox.store(_update(20, 9, "我的手机号 13800000000"))
    await inbox.claim("a", now, timedelta(minutes=5), limit=1)
    await inbox.finish(20, "a", now)
    assert (await InboxUpdate.get(update_id=20)).payload == {}  # no personal data kept
    assert await inbox.forget_done(now - timedelta(days=1)) == 0
    assert await inbox.forget_done(now + timedelta(seconds=1)) == 1
