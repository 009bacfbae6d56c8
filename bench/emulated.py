"""The Bot API emulator on a real local port, watched: who polled when, which chat changed.

The emulator itself is the one the tests and the sandbox use (bot/emulator). A middleware in
front of it notes the first getUpdates of each bot (start-up time), counts calls and
refusals (429s), and wakes the simulated users whose chat the bot just wrote to, so a user
sees a reply the moment the emulator has stored it, without polling.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.emulator import BotAPIEmulator

# Methods whose result is a Message: the chat it belongs to has changed.
_MESSAGE_METHODS = frozenset(
    {
        "sendmessage",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
        "senddocument",
        "sendphoto",
    }
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Observer:
    """What the bench wants to know about the traffic between bot and emulator."""

    def __init__(self) -> None:
        self.first_poll: dict[str, float] = {}  # token -> time.monotonic() of its first poll
        self.polled: dict[str, asyncio.Event] = {}
        self.calls: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.sent_at: list[float] = []  # time.monotonic() of every accepted sendMessage
        self._changed: dict[int, asyncio.Event] = {}

    def poll_event(self, token: str) -> asyncio.Event:
        """Set once the bot with this token has called getUpdates."""
        return self.polled.setdefault(token, asyncio.Event())

    def reset_counts(self) -> None:
        """Start counting calls, statuses and sends afresh."""
        self.calls.clear()
        self.statuses.clear()
        self.sent_at.clear()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Observe one request to the emulator."""
        method = request.match_info.get("method", "").lower()
        token = request.match_info.get("token", "")
        if method == "getupdates" and token not in self.first_poll:
            self.first_poll[token] = time.monotonic()
            self.poll_event(token).set()
        response = await handler(request)
        if not method:
            return response
        self.calls[method] += 1
        self.statuses[response.status] += 1
        if response.status == 200 and method in _MESSAGE_METHODS:
            if method == "sendmessage":
                self.sent_at.append(time.monotonic())
            self._notify(response)
        return response

    def _notify(self, response: web.StreamResponse) -> None:
        body = getattr(response, "body", None)
        if not isinstance(body, bytes):
            return
        result = json.loads(body).get("result")
        if isinstance(result, dict) and isinstance(result.get("chat"), dict):
            event = self._changed.pop(result["chat"]["id"], None)
            if event is not None:
                event.set()

    async def wait_until(self, chat_id: int, predicate: Callable[[], bool], within: float) -> bool:
        """Wait until `predicate()` holds, re-checking whenever the bot writes to the chat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            event = self._changed.setdefault(chat_id, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


class EmulatorServer:
    """A BotAPIEmulator served on 127.0.0.1:<free port> by this process's event loop."""

    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.emulator = emulator
        self.observer = Observer()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Serve; returns the root URL (the bot's INNOBRIDGE_TELEGRAM_API_URL)."""
        app = web.Application(middlewares=[self.observer.middleware])
        self.emulator.attach(app)
        # access logs off: a log line per request would cost more than the request
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Stop serving (wakes any long poll still waiting)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def forget_history(self) -> None:
        """Drop the emulator's request log (it grows by one entry per call)."""
        self.emulator.request_log.clear()


def make_emulator(*, rate_limits: bool, **limits: Any) -> BotAPIEmulator:
    """An emulator; throughput runs switch Telegram's flood limits off, fan-out keeps them."""
    return BotAPIEmulator(rate_limits=rate_limits, **limits)
