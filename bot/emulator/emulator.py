"""BotAPIEmulator: registry of bots and users, update production, and app wiring."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.emulator.api import add_api_routes
from bot.emulator.control import add_control_routes
from bot.emulator.faults import Fault, Faults
from bot.emulator.files import FileStore
from bot.emulator.limits import RateLimiter
from bot.emulator.messages import ChatMessage
from bot.emulator.state import BotState, UserInfo
from bot.emulator.updates import QueuedUpdate

if TYPE_CHECKING:
    from bot.emulator.client import EmulatedUser

log = logging.getLogger(__name__)
Deliver = Callable[[str, dict[str, Any]], Awaitable[None]]


class BotAPIEmulator:
    """A local stand-in for api.telegram.org that bots, tests and the sandbox page share."""

    timeout = 10.0

    def __init__(
        self,
        *,
        rate_limits: bool = True,
        global_rate: float = 30.0,
        chat_rate: float = 1.0,
        chat_burst: int = 5,
        settle_seconds: float = 0.15,
    ) -> None:
        self.rate_limits = rate_limits
        self.global_rate = global_rate
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.settle_seconds = settle_seconds
        self.deliver: Deliver | None = None
        self.bots: dict[str, BotState] = {}
        self.users: dict[int, UserInfo] = {}
        self.files = FileStore()
        self.request_log: list[tuple[str, str, dict[str, Any]]] = []
        self.error_log: list[tuple[str, str, str]] = []
        self.faults = Faults()
        self._clients: dict[tuple[str, int], EmulatedUser] = {}
        self._versions = itertools.count(1)
        self._background: set[asyncio.Task[None]] = set()

    # --- setup -------------------------------------------------------------------------

    def add_bot(
        self, token: str, *, username: str = "innobridge_bot", first_name: str = "innobridge"
    ) -> dict[str, Any]:
        """Register a bot token; returns its getMe User."""
        head = token.split(":", 1)[0]
        bot_id = int(head) if head.isdigit() else 1_000_000 + len(self.bots)
        user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        limiter = RateLimiter(
            enabled=self.rate_limits,
            global_rate=self.global_rate,
            chat_rate=self.chat_rate,
            chat_burst=self.chat_burst,
        )
        self.bots[token] = BotState(token, user, limiter, self._versions)
        for info in self.users.values():
            self.bots[token].chat(info)
        return dict(user)

    def attach(self, app: web.Application, prefix: str = "") -> None:
        """Add the Bot API, file and control routes to `app`, and the shutdown hook."""
        prefix = prefix.rstrip("/")
        add_api_routes(app, self, prefix)
        add_control_routes(app, self, prefix)
        app.on_shutdown.append(self._on_shutdown)
        app.on_cleanup.append(self._on_shutdown)

    def make_app(self, prefix: str = "") -> web.Application:
        """A new aiohttp app serving only the emulator."""
        app = web.Application()
        self.attach(app, prefix)
        return app

    async def _on_shutdown(self, app: web.Application) -> None:
        for bot in self.bots.values():
            bot.updates.close()
            if bot.sender is not None:
                await bot.sender.stop()
                bot.sender = None
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def bot(self, token: str | None = None) -> BotState:
        """The bot with this token, or the only registered one."""
        if token is not None:
            return self.bots[token]
        if len(self.bots) != 1:
            raise ValueError(f"{len(self.bots)} bots registered: pass token=")
        return next(iter(self.bots.values()))

    def user(
        self,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        phone_number: str | None = None,
        token: str | None = None,
        started: bool = False,
    ) -> EmulatedUser:
        """The simulated human with this id (created on first call) talking to one bot.

        started=True: they opened the bot before (e.g. registered users in seeded data), so the
        bot may write to them before they send anything; otherwise it gets Telegram's 403.
        """
        from bot.emulator.client import EmulatedUser

        info = self.users.get(user_id)
        if info is None:
            info = UserInfo(user_id, first_name, last_name, username, language_code, phone_number)
            self.users[user_id] = info
            for state in self.bots.values():
                # the chat exists (so sends get 403, not 400) but is not started yet
                state.chat(info)
        bot = self.bot(token)
        if started:
            bot.chat(info).started = True
        client = self._clients.get((bot.token, user_id))
        if client is None:
            client = self._clients[(bot.token, user_id)] = EmulatedUser(self, bot, info)
        return client

    # --- inspection --------------------------------------------------------------------

    def messages(self, chat_id: int, token: str | None = None) -> list[ChatMessage]:
        """Both sides of the private chat, current state, deleted ones left out."""
        chat = self.bot(token).chats.get(chat_id)
        return [] if chat is None else [m.view() for m in chat.live()]

    def requests(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every Bot API call received: (token, method, params)."""
        return list(self.request_log)

    def errors(self) -> list[tuple[str, str, str]]:
        """Every Bot API call answered with ok=false: (token, method, description)."""
        return list(self.error_log)

    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: int = 1,
        hang_seconds: float = 30.0,
    ) -> None:
        """Make the next `times` calls of `method` (default: any but getUpdates) fail before
        they take effect: "429", "500", "502", "drop" (no answer), "hang" (then drop), or
        "slow" (`hang_seconds` late, then as usual)."""
        self.faults.add(Fault(kind, method, times, retry_after, hang_seconds))

    def block(self, user_id: int, token: str | None = None) -> None:
        """The user blocks the bot."""
        bot = self.bot(token)
        bot.chat(self.users[user_id]).blocked = True

    def commands_for(
        self, user_id: int, language_code: str | None = None, token: str | None = None
    ) -> list[dict[str, Any]]:
        """The command menu a private-chat user would see."""
        if language_code is None and user_id in self.users:
            language_code = self.users[user_id].language_code
        return self.bot(token).settings.commands_for(user_id, language_code)

    # --- update production -------------------------------------------------------------

    async def submit(
        self, bot: BotState, kind: str, payload: dict[str, Any], *, wait: bool
    ) -> None:
        """Hand a user-produced update to the bot (deliver hook, or queue for poll/webhook)."""
        if self.deliver is not None:
            body = {"update_id": bot.updates.next_id(), kind: payload}
            if wait:
                await self.deliver(bot.token, body)
            else:
                self._spawn(self.deliver(bot.token, body))
            return
        if not bot.updates.wants(kind):
            # excluded by allowed_updates: Telegram never produces it
            return
        update_id = bot.updates.next_id()
        queued = QueuedUpdate(update_id, kind, {"update_id": update_id, kind: payload})
        bot.updates.push(queued)
        if wait:
            await self._settle(bot, queued)

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception:
                log.exception("deliver hook failed")

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _settle(self, bot: BotState, queued: QueuedUpdate) -> None:
        """Wait until the bot received the update and then went quiet for settle_seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            await asyncio.wait_for(queued.handed_out.wait(), self.timeout)
        except TimeoutError:
            raise TimeoutError(
                f"update {queued.update_id} was not fetched within {self.timeout:.0f} s: "
                "is the bot polling getUpdates (or is its webhook answering 2xx)?"
            ) from None
        while True:
            idle = time.monotonic() - bot.last_activity
            if bot.in_flight == 0 and idle >= self.settle_seconds:
                return
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"the bot kept calling the Bot API for {self.timeout:.0f} s after update "
                    f"{queued.update_id}; it never went quiet"
                )
            await asyncio.sleep(max(self.settle_seconds - idle, 0.01))
