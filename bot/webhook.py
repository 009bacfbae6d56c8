"""Webhook mode (DESIGN §5, issue #7): store each update, acknowledge at once, then process.

python-telegram-bot's own webhook server keeps received updates in memory, so an update
acknowledged just before a crash would be lost, and it cannot share work between processes.
Here `POST /telegram/webhook` writes the update to the inbox (models/inbox.py) before it
answers 200, and an InboxProcessor in every worker claims updates from the database: any
worker takes any update, one chat's updates in order, a duplicate is never processed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from models import inbox

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_KEY = "webhook_secret"
# Updates whose handler failed on the database: released for another try, not finished.
RETRY_UPDATES = "retry_updates"


class InboxProcessor:
    """Claims stored updates and hands them to the Application; drains on stop."""

    def __init__(
        self,
        application: Application,
        secret: str,
        *,
        concurrency: int = 16,
        lease: timedelta = timedelta(minutes=5),
        poll_seconds: float = 1.0,
    ) -> None:
        self.application = application
        self.secret = secret
        self.token = uuid.uuid4().hex
        self.concurrency = concurrency
        self.lease = lease
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A new update was stored: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="inbox")

    async def stop(self) -> None:
        """Stop claiming, and let the updates in hand finish (SIGTERM drains, DESIGN §7)."""
        self._stopping.set()
        self._wake.set()
        if self._loop is not None:
            await self._loop
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            room = self.concurrency - len(self._in_flight)
            claimed = []
            if room > 0:
                try:
                    claimed = await inbox.claim(self.token, datetime.now(UTC), self.lease, room)
                except Exception:  # noqa: BLE001 — the database is down: wait and try again
                    log.warning("inbox unavailable; retrying", exc_info=True)
            for row in claimed:
                task = asyncio.create_task(self._process(row.update_id, row.payload))
                self._in_flight.add(task)
                task.add_done_callback(self._done)
            if claimed and len(claimed) == room:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):  # no news: poll (other workers store too)
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # this chat's next update may be claimable now

    async def _process(self, update_id: int, payload: dict[str, object]) -> None:
        retry: set[int] = self.application.bot_data.setdefault(RETRY_UPDATES, set())
        try:
            update = Update.de_json(payload, self.application.bot)
            await self.application.process_update(update)
        except Exception:  # noqa: BLE001 — PTB's error handler saw it; keep the worker alive
            log.exception("update %s failed outside the handlers", update_id)
        try:
            if update_id in retry:
                retry.discard(update_id)
                await inbox.release(update_id, self.token)
            else:
                await inbox.finish(update_id, self.token, datetime.now(UTC))
        except Exception:  # noqa: BLE001 — the lease runs out and another claim retries it
            log.warning("update %s could not be marked; it will be retried", update_id)


async def receive(request: web.Request) -> web.Response:
    """POST /telegram/webhook: check the secret, store the update, answer 200."""
    processor = request.app[INBOX].get("processor")
    if not isinstance(processor, InboxProcessor):
        return web.json_response({"error": "not_ready"}, status=503)
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), processor.secret.encode()):
        return web.json_response({"error": "forbidden"}, status=403)
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "bad_json"}, status=400)
    if inbox.update_id_of(body) is None:
        return web.json_response({"error": "not_an_update"}, status=400)
    try:
        await inbox.store(body)
    except Exception:  # noqa: BLE001 — not stored, so not acknowledged: Telegram retries
        log.warning("update not stored; Telegram will retry", exc_info=True)
        return web.json_response({"error": "unavailable"}, status=503)
    processor.wake()
    return web.json_response({"ok": True})


# Filled by the runner once the bot is up (an aiohttp app is frozen after start-up).
INBOX = web.AppKey("inbox", dict)


def add_routes(app: web.Application) -> None:
    """The webhook route; it answers 503 until the runner has put a processor in place."""
    app[INBOX] = {}
    app.router.add_post(WEBHOOK_PATH, receive)
