"""The webhook inbox: store an update once, then let exactly one worker process it, in order.

Telegram retries a webhook until it gets a 2xx, and may deliver an update twice; workers
die. So the webhook only stores the update (unique by update_id) and answers at once; any
worker then claims the oldest unfinished update of a chat with a compare-and-set and a
lease. Updates of one chat go one at a time in update_id order (a conversation depends on
the answer before); different chats go in parallel, on any worker.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Min

from models.runtime_entities import InboxState, InboxUpdate, SharedSetting

S = InboxState
# Where an update names its chat; a chat-less update (e.g. a poll answer) is its own queue.
CHAT_PATHS = (
    ("message", "chat", "id"),
    ("edited_message", "chat", "id"),
    ("callback_query", "message", "chat", "id"),
    ("callback_query", "from", "id"),
    ("my_chat_member", "chat", "id"),
    ("channel_post", "chat", "id"),
    ("edited_channel_post", "chat", "id"),
)


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to, if it names one."""
    for path in CHAT_PATHS:
        node: Any = update
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, int) and not isinstance(node, bool):
            return node
    return None


def update_id_of(update: Any) -> int | None:
    """The update's id, if the body is an update at all."""
    if not isinstance(update, dict):
        return None
    value = update.get("update_id")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


async def store(update: dict[str, Any]) -> bool:
    """Keep a received update; False if it was already there (a retried delivery)."""
    update_id = update_id_of(update)
    if update_id is None:
        raise ValueError("not an update")
    try:
        await InboxUpdate.create(update_id=update_id, chat_id=chat_of(update), payload=update)
    except IntegrityError:
        return False
    return True


def _claimable(now: datetime) -> Q:
    return Q(state=S.PENDING) | Q(state=S.PROCESSING, lease_until__lt=now)


async def claim(token: str, now: datetime, lease: timedelta, limit: int) -> list[InboxUpdate]:
    """Claim up to `limit` updates, each the oldest unfinished one of its chat."""
    candidates = await InboxUpdate.filter(_claimable(now)).order_by("update_id").limit(limit * 4)
    chats = {row.chat_id for row in candidates if row.chat_id is not None}
    firsts: dict[int, int] = {}
    if chats:
        rows = (
            await InboxUpdate.filter(chat_id__in=list(chats), state__in=[S.PENDING, S.PROCESSING])
            .annotate(first=Min("update_id"))
            .group_by("chat_id")
            .values("chat_id", "first")
        )
        firsts = {int(r["chat_id"]): int(r["first"]) for r in rows}
    claimed: list[InboxUpdate] = []
    for row in candidates:
        if len(claimed) >= limit:
            break
        if row.chat_id is not None and firsts.get(row.chat_id) != row.update_id:
            continue  # an earlier update of this chat is still waiting or in hand
        won = await InboxUpdate.filter(_claimable(now), update_id=row.update_id).update(
            state=S.PROCESSING,
            claimed_by=token,
            lease_until=now + lease,
            attempts=row.attempts + 1,
        )
        if won:
            claimed.append(row)
    return claimed


async def finish(update_id: int, token: str, now: datetime) -> None:
    """The update was processed: done for good (kept a while so a late retry is recognised)."""
    await InboxUpdate.filter(update_id=update_id, claimed_by=token).update(
        state=S.DONE, processed_at=now, lease_until=None, payload={}
    )


async def release(update_id: int, token: str) -> None:
    """Processing could not finish (the database went away): let any worker try again."""
    await InboxUpdate.filter(update_id=update_id, claimed_by=token).update(
        state=S.PENDING, claimed_by=None, lease_until=None
    )


async def depth() -> int:
    """How many updates wait or are in hand (for readiness and metrics)."""
    return await InboxUpdate.filter(state__in=[S.PENDING, S.PROCESSING]).count()


async def forget_done(before: datetime) -> int:
    """Drop finished updates older than `before` (a retry after that is no longer expected)."""
    return await InboxUpdate.filter(state=S.DONE, processed_at__lt=before).delete()


async def shared_secret(key: str, configured: str | None) -> str:
    """The configured value, or one generated once and shared by every worker."""
    if configured:
        return configured
    candidate = secrets.token_urlsafe(32)
    with contextlib.suppress(IntegrityError):  # another worker made it first: use theirs
        await SharedSetting.create(key=key, value=candidate)
    row = await SharedSetting.get(key=key)
    return row.value
