"""The per-bot update queue and Telegram's getUpdates long-poll semantics."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.errors import ApiError

# Telegram leaves these out unless allowed_updates names them explicitly
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass
class QueuedUpdate:
    """An update waiting to be confirmed; `handed_out` is set once a bot has received it."""

    update_id: int
    kind: str
    body: dict[str, Any]
    handed_out: asyncio.Event = field(default_factory=asyncio.Event)


class _Poll:
    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.terminated = False


class UpdateQueue:
    """Pending updates of one bot, in order, until confirmed by offset or webhook delivery."""

    def __init__(self) -> None:
        self.pending: list[QueuedUpdate] = []
        self.last_id = 0
        self.allowed: list[str] | None = None
        self.closed = False
        self._poll: _Poll | None = None
        self._changed = asyncio.Event()

    def next_id(self) -> int:
        """A fresh, monotonically increasing update_id."""
        self.last_id += 1
        return self.last_id

    def wants(self, kind: str) -> bool:
        """Whether the current allowed_updates let this update type through."""
        if self.allowed:
            return kind in self.allowed
        return kind not in DEFAULT_EXCLUDED

    def push(self, update: QueuedUpdate) -> None:
        """Queue an update and wake whoever waits for one."""
        self.pending.append(update)
        self.notify()

    def notify(self) -> None:
        """Wake the pending long poll and the webhook sender."""
        if self._poll is not None:
            self._poll.wake.set()
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self) -> None:
        """Return after the next push/notify."""
        await self._changed.wait()

    def confirm(self, offset: int) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last -offset ones."""
        if offset < 0:
            dropped, self.pending = self.pending[:offset], self.pending[offset:]
        else:
            dropped = [u for u in self.pending if u.update_id < offset]
            self.pending = [u for u in self.pending if u.update_id >= offset]
        for update in dropped:
            update.handed_out.set()

    def drop_all(self) -> None:
        """drop_pending_updates: forget everything queued."""
        self.confirm(self.last_id + 1)

    def close(self) -> None:
        """Server shutdown: pending and future polls return [] at once."""
        self.closed = True
        self.notify()

    async def get_updates(
        self, offset: int | None, limit: int, wait_seconds: float, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        """getUpdates: confirm by offset, then wait up to `wait_seconds` for something."""
        if allowed is not None:
            self.allowed = allowed
        if self._poll is not None:
            self._poll.terminated = True
            self._poll.wake.set()
        poll = self._poll = _Poll()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait_seconds, 0.0)
        try:
            if offset is not None and offset != 0:
                self.confirm(offset)
            while True:
                if poll.terminated:
                    raise ApiError(409, CONFLICT_OTHER_POLL)
                if self.closed:
                    return []
                batch = self.pending[:limit]
                remaining = deadline - loop.time()
                if batch or remaining <= 0:
                    for update in batch:
                        update.handed_out.set()
                    return [update.body for update in batch]
                poll.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.wake.wait(), remaining)
        finally:
            if self._poll is poll:
                self._poll = None
