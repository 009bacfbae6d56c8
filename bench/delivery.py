"""Webhook delivery with several connections at once, as Telegram's `max_connections` allows.

The emulator's WebhookSender (bot/emulator/webhook.py) posts one update at a time and waits
for the answer before the next, so webhook throughput there can never pass 1 / (time of one
delivery), however many workers take the updates. Telegram opens up to `max_connections`
(default 40) connections to a webhook at once. `parallel_delivery()` swaps, in the bench's
own emulator only, a sender that keeps up to `max_connections` deliveries in flight; a
failed delivery is retried after a pause, as the emulator's does. It changes nothing in bot/.
(A person of bench/users.py never has two updates waiting, so their order is kept.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import aiohttp

from bot.emulator import methods_bot
from bot.emulator.updates import QueuedUpdate
from bot.emulator.webhook import MAX_BACKOFF, WebhookSender


class ParallelSender(WebhookSender):
    """Up to `max_connections` updates posted at once."""

    async def _run(self) -> None:
        gate = asyncio.Semaphore(self.config.max_connections)
        in_flight: set[int] = set()
        tasks: set[asyncio.Task[None]] = set()
        connector = aiohttp.TCPConnector(limit=self.config.max_connections)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def deliver(update: QueuedUpdate) -> None:
                backoff = 0.05
                async with gate:
                    while not await self._post(session, update.body):
                        await asyncio.sleep(backoff)
                        backoff = min(backoff * 2, MAX_BACKOFF)
                with contextlib.suppress(ValueError):
                    self.queue.pending.remove(update)
                in_flight.discard(update.update_id)
                self.on_delivered()
                update.handed_out.set()

            try:
                while not self.queue.closed:
                    waiting = [u for u in self.queue.pending if u.update_id not in in_flight]
                    if not waiting:
                        await self.queue.wait_changed()
                        continue
                    for update in waiting:
                        in_flight.add(update.update_id)
                        task = asyncio.create_task(deliver(update))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
            finally:
                for task in list(tasks):
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.contextmanager
def parallel_delivery(enabled: bool = True) -> Iterator[None]:
    """While inside, setWebhook in this process's emulator starts a ParallelSender."""
    if not enabled:
        yield
        return
    original = methods_bot.WebhookSender
    methods_bot.WebhookSender = ParallelSender  # type: ignore[misc]
    try:
        yield
    finally:
        methods_bot.WebhookSender = original  # type: ignore[misc]
