"""Prototypes of the fixes docs/PERFORMANCE.md proposes, applied to the bot process only.

Nothing here changes the product: bench/bot_process.py applies the ones named in
BENCH_EXPERIMENTS (comma-separated) to the modules it has imported, before the bot starts,
so a run can say what each proposed fix would change. The lead applies the real fixes in
the files named by each docstring.

- sqlite_normal: models/db.py _with_sqlite_pragmas would add synchronous=NORMAL (WAL keeps
  every commit atomic and durable against a crash of the process; only a power cut can lose
  the last commits). With FULL, the default, every commit waits for an fsync.
- save_update: models/conversations.py save would write with one UPDATE (and an INSERT when
  no row was there) instead of update_or_create (a transaction around SELECT and UPDATE).
- per_chat: bot/app.py build_application would pass .concurrent_updates(PerChatProcessor(16)):
  updates of different chats run concurrently while one waits for the database or the Bot
  API; updates of one chat keep their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor

import bot.runner
from models import conversations, db
from models.conversations import ConversationState
from models.entities import Conversation

NAMES = ("sqlite_normal", "save_update", "per_chat")


class PerChatProcessor(BaseUpdateProcessor):
    """Concurrent updates, but one at a time per chat (so a flow's steps stay in order)."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update once no earlier update of its chat is running."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked():
                self._locks.pop(chat.id, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def save_with_update(key: str, conversation: ConversationState) -> None:
    """models/conversations.py save as one UPDATE, or an INSERT the first time."""
    values: dict[str, Any] = {
        "flow": conversation.flow,
        "state": conversation.state,
        "version": conversation.version,
        "data": conversation.data,
    }
    changed = await Conversation.filter(key=key).update(**values, updated_at=datetime.now(UTC))
    if not changed:
        await Conversation.create(key=key, **values)


def apply(names: set[str]) -> None:
    """Patch the named fixes into the imported modules."""
    unknown = names - set(NAMES)
    if unknown:
        raise ValueError(f"unknown experiments {sorted(unknown)}")
    if "sqlite_normal" in names:
        original = db._with_sqlite_pragmas

        def pragmas(url: str) -> str | dict[str, Any]:
            config = original(url)
            if isinstance(config, dict):
                config["credentials"]["synchronous"] = "NORMAL"
            return config

        db._with_sqlite_pragmas = pragmas
    if "save_update" in names:
        conversations.save = save_with_update
    if "per_chat" in names:
        build = bot.runner.build_application

        def concurrent(*args: Any, **kwargs: Any) -> Application:
            application = build(*args, **kwargs)
            application._update_processor = PerChatProcessor(16)
            return application

        bot.runner.build_application = concurrent
