"""Updates of different chats at once, those of one chat in order (docs/PERFORMANCE.md, F4).

PTB processes one update at a time by default: with Bot API calls of ~100 ms on the real
Telegram, a whole platform would then be answered at a few updates a second. PTB's
`concurrent_updates=True` runs everything at once, which would let one person's second
answer overtake the first. This processor keeps a lock per chat, alive only while an update
of that chat is running or waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 16


class PerChatProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` at once; one at a time per chat, in arrival order."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # chat id -> (its lock, how many updates of the chat hold or wait for it)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update once every earlier update of its chat has finished."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, users = self._chats.get(chat.id, (asyncio.Lock(), 0))
        self._chats[chat.id] = (lock, users + 1)
        try:
            async with lock:  # asyncio.Lock wakes its waiters in the order they came
                await coroutine
        finally:
            lock, users = self._chats[chat.id]
            if users == 1:
                del self._chats[chat.id]
            else:
                self._chats[chat.id] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
