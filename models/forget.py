"""/forget: a person's data anonymised, the platform's statistical records kept whole.

The user's row is replaced by a pseudonymous one (a random negative id, which no Telegram
user has) that keeps only what statistics need: role, organisation, township, sign-up date,
and the status `forgotten`. Every record that pointed at the person (registrations, demands,
offers, decisions, RSVPs, reports, audit rows, feedback, deliveries) points at the pseudonym
instead, so foreign keys stay valid and counts stay right, and the platform no longer holds
the Telegram id, name, username or phone. Names and phones quoted in audit details and in
the reasons given on their applications are replaced by "[removed]".

If the person writes to the bot again, they are a new user. An admin listed in
INNOBRIDGE_ADMIN_IDS is made admin again (as a new user) at the next start.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.fields.relational import BackwardFKRelation
from tortoise.transactions import in_transaction

from models import audit, matching, privacy, registration
from models.broadcast_entities import Broadcast
from models.demand_entities import Complaint, Engagement, Feedback, Intent, IntentStatus
from models.entities import (
    AuditLog,
    Conversation,
    Registration,
    RegistrationStatus,
    Review,
    ReviewCard,
    ReviewStatus,
    User,
    UserStatus,
)
from models.errors import InvalidTransition
from models.events import Event, ReviewDecided
from models.reminder_entities import DeliveryState, ReminderDelivery
from models.runtime_entities import InboxState, InboxUpdate

REDACTED = "[removed]"
FORGOTTEN_ACTION = "privacy.forgotten"
# Columns that hold a user id without a foreign key (the foreign keys are found by Tortoise).
_PLAIN_USER_COLUMNS: tuple[tuple[Any, str], ...] = (
    (AuditLog, "actor_id"),
    (Engagement, "filed_by_id"),
    (Feedback, "user_id"),
    (Complaint, "decided_by_id"),
    (ReminderDelivery, "recipient_id"),
    (Broadcast, "progress_chat_id"),  # the author's chat, where the progress message is
)
_UNSENT = (DeliveryState.PENDING, DeliveryState.CLAIMED, DeliveryState.RETRY)


@dataclass(frozen=True)
class Forgotten:
    """The outcome of /forget: the pseudonym and what to notify (review cards to close)."""

    pseudonym: int
    events: list[Event]


async def forget(user_id: int) -> Forgotten:
    """Anonymise this person (call inside the transaction that ends their confirmation)."""
    async with in_transaction():
        user = await User.select_for_update().get(id=user_id)
        blockers = await privacy.forget_blockers(user)
        if blockers:
            raise InvalidTransition("privacy.forget_blocked", references=", ".join(blockers))
        needles = await _personal_strings(user)
        pseudonym = await _new_pseudonym()
        role = user.role
        await User.create(
            id=pseudonym,
            first_name="",
            role=role,
            status=UserStatus.FORGOTTEN,
            organization_id=user.organization_id,
            township=user.township,
            reachable=False,
        )
        await User.filter(id=pseudonym).update(created_at=user.created_at)
        await _repoint(user.id, pseudonym)
        events = await _close_applications(pseudonym)
        await _close_lone_offers(user)
        await _scrub_audit(needles, user.id, pseudonym)
        await _forget_chat(user.id)
        await User.filter(id=user.id).delete()
        await audit.record(
            pseudonym, FORGOTTEN_ACTION, "user", pseudonym, after={"role": _plain_role(role)}
        )
    return Forgotten(pseudonym, events)


def _plain_role(role: Any) -> str | None:
    """The role as stored text (None for someone who never registered)."""
    return str(role.value) if role is not None else None


async def _personal_strings(user: User) -> list[str]:
    """What identifies this person in free text: names, username, phone numbers."""
    found: set[str] = {user.first_name, user.username or "", user.real_name or ""}
    phones = {user.phone or ""}
    for application in await Registration.filter(user_id=user.id):
        found.add(application.real_name)
        phones.add(application.phone)
    for phone in phones - {""}:
        found.add(phone)
        digits = phone.lstrip("+")
        found.add(digits[2:] if digits.startswith("86") else digits)  # the national number
    # Longest first, so a full phone is replaced before the national number inside it.
    return sorted((s for s in found if len(s.strip()) >= 2), key=len, reverse=True)


async def _new_pseudonym() -> int:
    while True:
        candidate = -(secrets.randbelow(2**53) + 1)
        if not await User.exists(id=candidate):
            return candidate


async def _repoint(old: int, new: int) -> None:
    """Every reference to the person now names the pseudonym."""
    for field in User._meta.fields_map.values():
        if isinstance(field, BackwardFKRelation):
            column = field.relation_field
            await field.related_model.filter(**{column: old}).update(**{column: new})
    for model, column in _PLAIN_USER_COLUMNS:
        await model.filter(**{column: old}).update(**{column: new})
    await AuditLog.filter(subject_type="user", subject_id=str(old)).update(subject_id=str(new))
    # Reminders not sent yet will never be: nobody is there to read them.
    await ReminderDelivery.filter(recipient_id=new, state__in=_UNSENT).update(
        state=DeliveryState.SKIPPED, error="forgotten", claimed_by=None, lease_until=None
    )
    # Copies of review cards are messages in their chat: nothing to edit there any more.
    await ReviewCard.filter(reviewer_id=old).delete()


async def _close_applications(pseudonym: int) -> list[Event]:
    """Their applications lose name and phone; one still waiting is withdrawn."""
    applications = await Registration.filter(user_id=pseudonym)
    events: list[Event] = []
    for application in applications:
        if application.status is RegistrationStatus.SUBMITTED:
            waiting: list[int] = await Review.filter(  # type: ignore[assignment]
                subject_type=registration.SUBJECT,
                subject_id=application.id,
                status=ReviewStatus.PENDING,
            ).values_list("id", flat=True)
            await Review.filter(id__in=list(waiting)).update(status=ReviewStatus.CANCELLED)
            events += [ReviewDecided(review_id) for review_id in waiting]
            application.status = RegistrationStatus.WITHDRAWN
        application.real_name, application.phone = "", ""
        await application.save(update_fields=["real_name", "phone", "status"])
    return events


async def _close_lone_offers(user: User) -> None:
    """Offers nobody would be left to carry out (their institution has no one else)."""
    if user.organization_id is None:
        return
    colleagues = [p for p in await matching.contacts(user.organization_id) if p.id != user.id]
    if colleagues:
        return
    await Intent.filter(institution_id=user.organization_id, status=IntentStatus.PENDING).update(
        status=IntentStatus.CLOSED
    )


async def _scrub_audit(needles: list[str], old: int, new: int) -> None:
    """Audit details and review reasons that quote the person lose those quotes."""
    for entry_id in await _audit_rows_quoting([*needles, str(old)]):
        entry = await AuditLog.get(id=entry_id)
        entry.before = _scrub(entry.before, needles, old, new)
        entry.after = _scrub(entry.after, needles, old, new)
        await entry.save(update_fields=["before", "after"])
    applications = await Registration.filter(user_id=new).values_list("id", flat=True)
    for review in await Review.filter(
        subject_type=registration.SUBJECT,
        subject_id__in=list(applications),
        reason__not_isnull=True,
    ):
        review.reason = _scrub(review.reason, needles, old, new)
        await review.save(update_fields=["reason"])


async def _audit_rows_quoting(needles: list[str]) -> list[int]:
    """Ids of audit rows whose details contain any of these strings (on both databases).

    SQLite keeps JSON as text with non-ASCII characters escaped (json.dumps), PostgreSQL as
    jsonb, whose text form has them as they are: both spellings are searched.
    """
    if not needles:
        return []
    connection = get_connection("default")
    sqlite = connection.capabilities.dialect == "sqlite"
    patterns = {variant for n in needles for variant in (n, json.dumps(n)[1:-1])}
    clauses, values = [], []
    for pattern in sorted(patterns):
        escaped = pattern.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        for column in ("before", "after"):
            values.append(f"%{escaped}%")
            mark = "?" if sqlite else f"${len(values)}"
            clauses.append(f"CAST(\"{column}\" AS TEXT) LIKE {mark} ESCAPE '!'")
    sql = f'SELECT "id" FROM "audit_log" WHERE {" OR ".join(clauses)}'
    _, rows = await connection.execute_query(sql, values)
    return [int(r["id"]) for r in rows]


def _scrub(value: Any, needles: list[str], old: int, new: int) -> Any:
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, REDACTED)
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return new if value == old else value
    if isinstance(value, list):
        return [_scrub(v, needles, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles, old, new) for k, v in value.items()}
    return value


async def _forget_chat(user_id: int) -> None:
    """Their stored conversations, and the updates they sent (kept a day against retries)."""
    prefix, suffix = f"{user_id}:", f":{user_id}"
    await Conversation.filter(Q(key__startswith=prefix) | Q(key__endswith=suffix)).delete()
    await InboxUpdate.filter(chat_id=user_id, state=InboxState.DONE).update(
        payload={}, chat_id=None
    )
