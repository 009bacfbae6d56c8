"""The code as it was before the fixes of docs/PERFORMANCE.md, applied to the bot process only.

The fixes F2-F4 now ship (models/db.py, models/conversations.py, bot/app.py). To say what
each changed, measured in the same run as the product, bench/bot_process.py can undo the
ones named in BENCH_EXPERIMENTS (comma-separated) before the bot starts:

- before_f2: SQLite back to synchronous=FULL (an fsync every commit).
- before_f3: conversations.save back to update_or_create (a transaction around SELECT and
  UPDATE, FOR UPDATE on PostgreSQL).
- before_f4: one update at a time (PTB's default processor).
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, SimpleUpdateProcessor

import bot.runner
from models import conversations, db
from models.conversations import APPLIED, CURRENT_UPDATE, ConversationState
from models.entities import Conversation

NAMES = ("before_f2", "before_f3", "before_f4")


async def save_with_update_or_create(key: str, conversation: ConversationState) -> None:
    """models/conversations.py save as it was before F3."""
    current = CURRENT_UPDATE.get()
    if current is not None:
        conversation.data[APPLIED] = current
    await Conversation.update_or_create(
        key=key,
        defaults={
            "flow": conversation.flow,
            "state": conversation.state,
            "version": conversation.version,
            "data": conversation.data,
        },
    )


def apply(names: set[str]) -> None:
    """Undo the named fixes in the imported modules."""
    unknown = names - set(NAMES)
    if unknown:
        raise ValueError(f"unknown experiments {sorted(unknown)}")
    if "before_f2" in names:
        original = db._with_sqlite_pragmas

        def pragmas(url: str) -> str | dict[str, Any]:
            config = original(url)
            if isinstance(config, dict):
                config["credentials"]["synchronous"] = "FULL"
            return config

        db._with_sqlite_pragmas = pragmas
    if "before_f3" in names:
        conversations.save = save_with_update_or_create
    if "before_f4" in names:
        build = bot.runner.build_application

        def sequential(*args: Any, **kwargs: Any) -> Application:
            application = build(*args, **kwargs)
            application._update_processor = SimpleUpdateProcessor(1)
            return application

        bot.runner.build_application = sequential
