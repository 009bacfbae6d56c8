"""Broadcasts (issue #5): an admin's message to an audience, sent by the reminder engine.

A broadcast is a draft while its author writes it and picks the audience (roles, townships,
institution tiers; an empty list means any). Confirming it is a compare-and-set draft ->
sending that, in the same transaction, writes one ReminderDelivery per recipient (rule
"broadcast", occurrence = the reference): a double Confirm, or two admins confirming the
same draft, writes them once. The engine (scheduler/engine.py) sends them paced and
once-only with every other reminder, under quiet hours; the broadcast is done when none is
left to send.

The admin's text is sent as plain text, exactly as typed: it is escaped when rendered, so
no tag in it can break the bot's parse_mode=HTML (nor format anything). Its length is
counted as Telegram counts it (UTF-16 code units), at most 4,000, leaving room for the
heading of the message.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import audit, permissions
from models.broadcast_entities import Broadcast, BroadcastStatus
from models.deliveries import BROADCAST
from models.entities import AuditLog, InstitutionTier, OrgKind, Role, User, UserStatus
from models.errors import AlreadyDecided, InvalidTransition, NotFound, ValidationFailed
from models.platform import PlatformConfig
from models.reminder_entities import DeliveryState, ReminderDelivery
from models.users import display_name

S = DeliveryState
TEXT_MAX = 4000
PAGE = 500  # deliveries written per INSERT when a broadcast is confirmed
KINDS = ("roles", "townships", "tiers")
UNSENT = (S.PENDING, S.CLAIMED, S.RETRY)
FAILED = (S.FAILED, S.UNREACHABLE, S.SKIPPED)
ACTION = "broadcast.send"


@dataclass(frozen=True)
class Progress:
    """How far a broadcast has gone: sent, not delivered, still to send, of the total."""

    sent: int
    failed: int
    pending: int
    total: int


def utf16_len(text: str) -> int:
    """The length Telegram counts (astral characters such as most emoji count twice)."""
    return len(text.encode("utf-16-le")) // 2


def check_text(raw: str | None) -> str:
    """The admin's text as typed, 1-4,000 characters (as Telegram counts them)."""
    if raw is None or not raw.strip():
        raise ValidationFailed("broadcast.text_empty", max=TEXT_MAX)
    length = utf16_len(raw)
    if length > TEXT_MAX:
        raise ValidationFailed("broadcast.text_too_long", max=TEXT_MAX, length=length)
    return raw


def allowed_codes(platform: PlatformConfig) -> dict[str, list[str]]:
    """What each part of the audience may name, in the order the picker shows them."""
    return {
        "roles": [role.value for role in Role],
        "townships": [township.code for township in platform.townships],
        "tiers": [tier.value for tier in InstitutionTier],
    }


def check_audience(raw: Any, platform: PlatformConfig) -> dict[str, list[str]]:
    """An audience of configured roles, townships and tiers only (each list sorted, unique)."""
    codes = allowed_codes(platform)
    if not isinstance(raw, dict) or set(raw) - set(KINDS):
        raise ValidationFailed("broadcast.bad_audience")
    audience: dict[str, list[str]] = {}
    for kind in KINDS:
        chosen = raw.get(kind, [])
        if not isinstance(chosen, list) or any(c not in codes[kind] for c in chosen):
            raise ValidationFailed("broadcast.bad_audience")
        audience[kind] = [c for c in codes[kind] if c in chosen]
    return audience


def recipients(audience: dict[str, Any]) -> QuerySet[User]:
    """The active, reachable users of the audience: one query with joins, no id lists.

    Blocked the bot (unreachable), forgot their data (status forgotten) or not active: left
    out. A township is the user's own (enterprises, assistants) or their organisation's.
    A tier selects representatives of institutions of that tier (none stored: cultivating).
    """
    query = User.filter(status=UserStatus.ACTIVE, reachable=True)
    if audience.get("roles"):
        query = query.filter(role__in=audience["roles"])
    if audience.get("townships"):
        townships = audience["townships"]
        query = query.filter(
            Q(township__in=townships)
            | Q(township__isnull=True, organization__township__in=townships)
        )
    if audience.get("tiers"):
        tiers = audience["tiers"]
        tier = Q(organization__tier__in=tiers)
        if InstitutionTier.CULTIVATING.value in tiers:
            tier |= Q(organization__tier__isnull=True)
        query = query.filter(tier, role=Role.INSTITUTION, organization__kind=OrgKind.INSTITUTION)
    return query


async def count(audience: dict[str, Any]) -> int:
    """How many people the audience reaches now."""
    return await recipients(audience).count()


def fingerprint(item: Broadcast) -> str:
    """What a preview showed (text and audience), carried by its Confirm button: a draft
    changed since then is not sent on that preview's say-so."""
    shown = json.dumps([item.text, item.audience], sort_keys=True, ensure_ascii=False)
    return f"{zlib.crc32(shown.encode()):08x}"


async def create(admin: User, text: str, platform: PlatformConfig) -> Broadcast:
    """A new draft with this text, for everyone until the audience is narrowed."""
    permissions.require(ACTION, admin)
    item = await Broadcast.create(
        author_id=admin.id,
        text=check_text(text),
        audience=check_audience({}, platform),
    )
    await audit.record(admin.id, "broadcast.drafted", "broadcast", item.id)
    return item


async def draft(admin: User, broadcast_id: int) -> Broadcast:
    """A broadcast that is still a draft (any admin may work on it)."""
    permissions.require(ACTION, admin)
    item = await Broadcast.get_or_none(id=broadcast_id)
    if item is None:
        raise NotFound("broadcast.not_found")
    if item.status is not BroadcastStatus.DRAFT:
        raise await _decided(item)
    return item


async def edit_text(admin: User, broadcast_id: int, text: str) -> Broadcast:
    """Replace the text of a draft."""
    checked = check_text(text)
    item = await draft(admin, broadcast_id)
    if not await Broadcast.filter(id=item.id, status=BroadcastStatus.DRAFT).update(text=checked):
        raise await _decided(await Broadcast.get(id=item.id))
    item.text = checked
    return item


async def toggle(
    admin: User, broadcast_id: int, kind: str, code: str, platform: PlatformConfig
) -> Broadcast:
    """Add a role, township or tier to the draft's audience, or take it out."""
    if kind not in KINDS:
        raise ValidationFailed("broadcast.bad_audience")
    async with in_transaction():
        await draft(admin, broadcast_id)
        # Read again under the row lock: two toggles at once both count (PostgreSQL).
        item = await Broadcast.select_for_update().get(id=broadcast_id)
        chosen = list(item.audience.get(kind, []))
        chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
        audience = check_audience({**item.audience, kind: chosen}, platform)
        changed = await Broadcast.filter(id=item.id, status=BroadcastStatus.DRAFT).update(
            audience=audience
        )
        if not changed:
            raise await _decided(await Broadcast.get(id=item.id))
        item.audience = audience
    return item


async def confirm(
    admin: User,
    broadcast_id: int,
    *,
    shown: str,
    chat_id: int,
    message_id: int,
    now: datetime,
) -> Broadcast:
    """Draft -> sending, once: the deliveries are written in the same transaction.

    `shown` is the fingerprint of the preview confirmed; the progress message is the one
    given by chat and message id.
    """
    async with in_transaction():
        item = await draft(admin, broadcast_id)
        await Broadcast.select_for_update().get(id=item.id)
        if fingerprint(item) != shown:
            raise InvalidTransition("broadcast.changed", reference=item.reference)
        changed = await Broadcast.filter(id=item.id, status=BroadcastStatus.DRAFT).update(
            status=BroadcastStatus.SENDING,
            confirmed_at=now,
            progress_chat_id=chat_id,
            progress_message_id=message_id,
            progress_shown="",  # nothing shown yet: the first edit moves it (take_progress)
        )
        if not changed:
            raise await _decided(await Broadcast.get(id=item.id))
        total = await _write_deliveries(item, now)
        if total == 0:  # rolls the transaction back: still a draft
            raise ValidationFailed("broadcast.nobody", reference=item.reference)
        await Broadcast.filter(id=item.id).update(recipients=total)
        await audit.record(
            admin.id,
            "broadcast.confirmed",
            "broadcast",
            item.id,
            before={"status": BroadcastStatus.DRAFT.value},
            after={"status": BroadcastStatus.SENDING.value, "recipients": total},
        )
    return await Broadcast.get(id=item.id)


async def _write_deliveries(item: Broadcast, now: datetime) -> int:
    """One pending delivery per recipient, written a page at a time (keyset by id)."""
    query = recipients(item.audience)
    written, last = 0, None
    while True:
        page = query.filter(id__gt=last) if last is not None else query
        ids: list[int] = await page.order_by("id").limit(PAGE).values_list("id", flat=True)  # type: ignore[assignment]
        if not ids:
            return written
        await ReminderDelivery.bulk_create(
            [
                ReminderDelivery(
                    rule=BROADCAST,
                    recipient_id=uid,
                    occurrence=item.reference,
                    due_at=now,
                    params={"broadcast": item.id},
                )
                for uid in ids
            ],
            ignore_conflicts=True,
        )
        written += len(ids)
        last = ids[-1]


async def cancel(admin: User, broadcast_id: int) -> Broadcast:
    """Draft -> cancelled: nothing is sent."""
    async with in_transaction():
        item = await draft(admin, broadcast_id)
        changed = await Broadcast.filter(id=item.id, status=BroadcastStatus.DRAFT).update(
            status=BroadcastStatus.CANCELLED
        )
        if not changed:
            raise await _decided(await Broadcast.get(id=item.id))
        await audit.record(admin.id, "broadcast.cancelled", "broadcast", item.id)
    item.status = BroadcastStatus.CANCELLED
    return item


async def _decided(item: Broadcast) -> AlreadyDecided:
    """Who confirmed or cancelled it first, for the admin who came second."""
    entry = (
        await AuditLog.filter(
            subject_type="broadcast",
            subject_id=str(item.id),
            action__in=["broadcast.confirmed", "broadcast.cancelled"],
        )
        .order_by("-id")
        .first()
    )
    actor = await User.get_or_none(id=entry.actor_id) if entry and entry.actor_id else None
    return AlreadyDecided(
        f"broadcast.already.{item.status.value}",
        reference=item.reference,
        by=display_name(actor) if actor else "—",
    )


# --- sending: read by the engine (scheduler/engine.py) and its progress messages ---------


async def settle(now: datetime, grace: timedelta) -> int:
    """Unsent deliveries that must not go out any more, marked skipped: the recipient is no
    longer active (suspended, forgotten) or the row waited past the grace window (an outage
    longer than it: an old notice is logged, not sent, like every reminder)."""
    waiting = ReminderDelivery.filter(rule=BROADCAST, state__in=[S.PENDING, S.RETRY])
    active = User.filter(status=UserStatus.ACTIVE).values("id")
    gone = await waiting.filter(~Q(recipient_id__in=Subquery(active))).update(
        state=S.SKIPPED, error="no longer active", lease_until=None
    )
    late = await ReminderDelivery.filter(
        rule=BROADCAST, state__in=[S.PENDING, S.RETRY], due_at__lt=now - grace
    ).update(state=S.SKIPPED, error="missed by more than the grace window", lease_until=None)
    return gone + late


async def sendable() -> list[int]:
    """Ids of the broadcast deliveries not yet settled, oldest first (claim picks those
    nobody holds and whose retry time has come)."""
    ids: list[int] = await (
        ReminderDelivery.filter(rule=BROADCAST, state__in=list(UNSENT))
        .order_by("id")
        .values_list("id", flat=True)
    )  # type: ignore[assignment]
    return ids


async def texts(ids: set[int]) -> dict[int, Broadcast]:
    """The broadcasts these deliveries belong to, by id (the engine renders their text)."""
    return {b.id: b for b in await Broadcast.filter(id__in=sorted(ids))}


async def progress(item: Broadcast) -> Progress:
    """The counts of its deliveries by outcome."""
    # One statement, so the counts are of one moment while senders move rows on.
    rows = (
        await ReminderDelivery.filter(rule=BROADCAST, occurrence=item.reference)
        .annotate(n=Count("id"))
        .group_by("state")
        .values("state", "n")
    )
    by_state = {DeliveryState(row["state"]): int(row["n"]) for row in rows}
    sent = by_state.get(S.SENT, 0)
    failed = sum(by_state.get(state, 0) for state in FAILED)
    pending = sum(by_state.get(state, 0) for state in UNSENT)
    return Progress(sent, failed, pending, sent + failed + pending)


async def sending() -> list[Broadcast]:
    """The broadcasts being sent."""
    return list(await Broadcast.filter(status=BroadcastStatus.SENDING).order_by("id"))


async def take_progress(item: Broadcast, old: str, new: str) -> bool:
    """Move the counts shown from `old` to `new`; True to the one sender that may edit."""
    changed = await Broadcast.filter(
        id=item.id, status=BroadcastStatus.SENDING, progress_shown=old
    ).update(progress_shown=new)
    return changed == 1


async def finish(item: Broadcast, now: datetime) -> bool:
    """Sending -> done when nothing is left to send; True to the one sender that did it."""
    if await ReminderDelivery.filter(
        rule=BROADCAST, occurrence=item.reference, state__in=list(UNSENT)
    ).exists():
        return False
    changed = await Broadcast.filter(id=item.id, status=BroadcastStatus.SENDING).update(
        status=BroadcastStatus.DONE, finished_at=now
    )
    if changed:
        await audit.record(None, "broadcast.done", "broadcast", item.id)
    return changed == 1
