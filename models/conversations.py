"""Conversation state and drafts, read and written per update (DESIGN §3).

Keeping this in the database, not in process memory, is what lets a flow survive a restart
and lets any worker take any update. PTB's own persistence loads everything at start-up and
flushes on a timer, which loses the last answers on a crash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.entities import Conversation

# The Telegram update being processed (set by the handlers' first group). `save` stamps it
# on the conversation, so an update processed again after a crash (webhook inbox, lease run
# out) is recognised as already applied instead of being taken as the next answer.
CURRENT_UPDATE: ContextVar[int | None] = ContextVar("current_update", default=None)
APPLIED = "_update"


@dataclass
class ConversationState:
    """Where a user is in a flow, and the answers given so far."""

    flow: str
    state: str
    version: int
    data: dict[str, Any] = field(default_factory=dict)

    def already_applied(self, update_id: int) -> bool:
        """Whether this update's answer is already in the stored state."""
        return self.data.get(APPLIED) == update_id


def conversation_key(chat_id: int, user_id: int) -> str:
    """One conversation per user per chat."""
    return f"{chat_id}:{user_id}"


async def load(key: str) -> ConversationState | None:
    """The stored conversation, or None when the user is in no flow."""
    row = await Conversation.get_or_none(key=key)
    if row is None:
        return None
    return ConversationState(row.flow, row.state, row.version, dict(row.data))


async def save(key: str, conversation: ConversationState) -> None:
    """Store the conversation (insert or replace), stamped with the update that moved it."""
    current = CURRENT_UPDATE.get()
    if current is not None:
        conversation.data[APPLIED] = current
    values: dict[str, Any] = {
        "flow": conversation.flow,
        "state": conversation.state,
        "version": conversation.version,
        "data": conversation.data,
    }
    # One UPDATE, and an INSERT only the first time: update_or_create costs a transaction
    # around SELECT (FOR UPDATE) and UPDATE on every answer (docs/PERFORMANCE.md, F3).
    # `.update()` does not apply auto_now, hence updated_at.
    if await Conversation.filter(key=key).update(**values, updated_at=datetime.now(UTC)):
        return
    try:
        await Conversation.create(key=key, **values)
    except IntegrityError:  # another process inserted it meanwhile: this answer is the later one
        await Conversation.filter(key=key).update(**values, updated_at=datetime.now(UTC))


async def clear(key: str) -> None:
    """Forget the conversation (the flow ended or was cancelled)."""
    await Conversation.filter(key=key).delete()


@asynccontextmanager
async def finishing(key: str) -> AsyncIterator[bool]:
    """End the conversation together with what it submits, once.

    Yields True to the one update that deleted the stored conversation (two Confirm presses
    at once: the second gets False). The block runs in the same transaction, so when the
    submission fails the conversation is back and the user's answers are kept.
    """
    async with in_transaction():
        yield await Conversation.filter(key=key).delete() > 0
