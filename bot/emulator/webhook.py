"""Webhook delivery: POST each pending update as JSON, in order, retrying with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.emulator.updates import UpdateQueue

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BACKOFF = 5.0


@dataclass
class WebhookConfig:
    """What setWebhook stored, plus the delivery error state getWebhookInfo reports."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self, pending: int, allowed: list[str] | None) -> dict[str, Any]:
        """The WebhookInfo object."""
        result: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
        }
        if self.ip_address:
            result["ip_address"] = self.ip_address
        if allowed:
            result["allowed_updates"] = allowed
        if self.last_error_date is not None:
            result["last_error_date"] = self.last_error_date
            result["last_error_message"] = self.last_error_message
        return result


class WebhookSender:
    """The background task that pushes one bot's updates to its webhook."""

    def __init__(
        self, queue: UpdateQueue, config: WebhookConfig, on_delivered: Callable[[], None]
    ) -> None:
        self.queue = queue
        self.config = config
        self.on_delivered = on_delivered
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin delivering in the running event loop."""
        self.task = asyncio.get_running_loop().create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        """Stop delivering; an update being posted stays pending."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    def _fail(self, message: str) -> None:
        self.config.last_error_date = int(datetime.now(UTC).timestamp())
        self.config.last_error_message = message

    async def _post(self, session: aiohttp.ClientSession, body: dict[str, Any]) -> bool:
        headers = {}
        if self.config.secret_token:
            headers[SECRET_HEADER] = self.config.secret_token
        try:
            async with session.post(self.config.url, json=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                self._fail(f"Wrong response from the webhook: {response.status} {response.reason}")
        except TimeoutError:
            self._fail("Read timeout expired")
        except aiohttp.ClientConnectorError:
            self._fail("Connection refused")
        except (aiohttp.ClientError, OSError) as exc:
            self._fail(f"Connection error: {exc.__class__.__name__}")
        return False

    async def _run(self) -> None:
        backoff = 0.05
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self.queue.closed:
                if not self.queue.pending:
                    await self.queue.wait_changed()
                    continue
                update = self.queue.pending[0]
                if await self._post(session, update.body):
                    backoff = 0.05
                    if self.queue.pending and self.queue.pending[0] is update:
                        self.queue.pending.pop(0)
                    # the test client's settle wait starts when the bot got its update
                    self.on_delivered()
                    update.handed_out.set()
                else:
                    log.debug("webhook delivery failed: %s", self.config.last_error_message)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
