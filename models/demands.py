"""Demand submission: the answers a demand owes, how each is checked, who may act for it.

Rugao art. 11-15: an enterprise (or a township assistant on its behalf, art. 4, 11(3))
states a need, which is reviewed before it is published. Every answer is checked again on
submit: a draft kept across a restart or a configuration change is never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from models import audit, permissions
from models.demand_entities import Demand, DemandStatus
from models.entities import (
    Organization,
    OrgKind,
    Review,
    ReviewStatus,
    Role,
    User,
    UserStatus,
)
from models.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.events import DemandRelayed, Event, ReviewRequested
from models.platform import PlatformConfig
from models.review_rounds import open_round
from models.text import storable

SUBJECT = "demand"
TITLE_MAX = 60
DESCRIPTION_MAX = 2000
DESCRIPTION_MIN = 10
ATTACHMENTS_MAX = 5
# Bots can download files of at most 20 MB through getFile (Bot API, "getFile").
ATTACHMENT_BYTES_MAX = 20 * 1024 * 1024
ATTACHMENT_KINDS = ("document", "photo")


class Field(StrEnum):
    """The answers of a demand, in the order they are asked."""

    ENTERPRISE = "enterprise"  # only when an assistant relays
    TITLE = "title"
    CATEGORY = "category"
    DESCRIPTION = "description"
    BUDGET = "budget"
    WANTED_BY = "wanted_by"
    ATTACHMENTS = "attachments"
    TOWNSHIP = "township"


OWN_STEPS = (
    Field.TITLE,
    Field.CATEGORY,
    Field.DESCRIPTION,
    Field.BUDGET,
    Field.WANTED_BY,
    Field.ATTACHMENTS,
    Field.TOWNSHIP,
)
# An assistant relays for an enterprise of their own township: no township question.
RELAY_STEPS = (Field.ENTERPRISE, *OWN_STEPS[:-1])


def steps_for(user: User) -> tuple[Field, ...]:
    """The questions this user answers."""
    return RELAY_STEPS if user.role is Role.ASSISTANT else OWN_STEPS


def may_submit(user: User) -> None:
    """Active enterprise users and assistants with a township submit demands."""
    if user.status is not UserStatus.ACTIVE:
        raise NotAllowed("demand.not_active")
    # An enterprise user submits for their enterprise, an assistant for their township.
    placed = user.organization_id is not None if user.role is Role.ENTERPRISE else user.township
    permissions.require("demand.submit", user)
    if not placed:
        raise NotAllowed("demand.not_submitter")


def _text(raw: Any, *, maximum: int, minimum: int = 1, single_line: bool = True) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed("input.text_expected")
    raw = storable(raw)
    text = " ".join(raw.split()) if single_line else raw.strip()
    if len(text) < minimum:
        raise ValidationFailed("demand.too_short", min=minimum)
    if len(text) > maximum:
        raise ValidationFailed("demand.too_long", max=maximum, length=len(text))
    return text


def parse_date(raw: Any, today: date) -> str:
    """A wanted-by date: YYYY-MM-DD, after today (stored as ISO text in the draft)."""
    if not isinstance(raw, str):
        raise ValidationFailed("input.text_expected")
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed("demand.date_format") from None
    if day <= today:
        raise ValidationFailed("demand.date_past")
    if day.year > today.year + 5:
        raise ValidationFailed("demand.date_far")
    return day.isoformat()


def check_file_size(size: int | None) -> None:
    """A file the bot can download: Bot API getFile serves at most 20 MB (and a size we know)."""
    if size is None or size > ATTACHMENT_BYTES_MAX:
        raise ValidationFailed("demand.attachment_size", max_mb=ATTACHMENT_BYTES_MAX // 2**20)


def check_attachment(kind: str, size: int | None, existing: list[dict[str, Any]]) -> None:
    """A file may join the demand: a document or photo, at most 20 MB, at most five."""
    if kind not in ATTACHMENT_KINDS:
        raise ValidationFailed("demand.attachment_kind")
    if len(existing) >= ATTACHMENTS_MAX:
        raise ValidationFailed("demand.attachments_full", max=ATTACHMENTS_MAX)
    check_file_size(size)


def check_answer(field: Field, raw: Any, platform: PlatformConfig, today: date) -> Any:
    """The checked, normalised answer, or ValidationFailed saying what is wrong."""
    if field is Field.TITLE:
        return _text(raw, maximum=TITLE_MAX, minimum=4)
    if field is Field.DESCRIPTION:
        return _text(raw, maximum=DESCRIPTION_MAX, minimum=DESCRIPTION_MIN, single_line=False)
    if field is Field.CATEGORY:
        if not isinstance(raw, str) or platform.category(raw) is None:
            raise ValidationFailed("demand.category_unknown")
        return raw
    if field is Field.BUDGET:
        if not isinstance(raw, str) or platform.budget(raw) is None:
            raise ValidationFailed("demand.budget_unknown")
        return raw
    if field is Field.TOWNSHIP:
        if not isinstance(raw, str) or platform.township(raw) is None:
            raise ValidationFailed("township.unknown")
        return raw
    if field is Field.WANTED_BY:
        return parse_date(raw, today)
    if field is Field.ATTACHMENTS:
        files = raw if isinstance(raw, list) else []
        if len(files) > ATTACHMENTS_MAX:
            raise ValidationFailed("demand.attachments_full", max=ATTACHMENTS_MAX)
        for item in files:
            if not isinstance(item, dict) or item.get("kind") not in ATTACHMENT_KINDS:
                raise ValidationFailed("demand.attachment_kind")
        return files
    if field is Field.ENTERPRISE:
        if not isinstance(raw, int):
            raise ValidationFailed("demand.enterprise_unknown")
        return raw
    raise ValidationFailed("input.text_expected")


def first_missing(draft: dict[str, Any], steps: tuple[Field, ...]) -> Field | None:
    """The first question not yet answered (attachments count once confirmed as done)."""
    for field in steps:
        if field is Field.ATTACHMENTS:
            if not draft.get("attachments_done"):
                return field
        elif draft.get(field.value) in (None, ""):
            return field
    return None


async def _owner_for(user: User, draft: dict[str, Any]) -> Organization:
    if user.role is Role.ASSISTANT:
        org = await Organization.get_or_none(id=draft.get(Field.ENTERPRISE.value))
        if org is None or org.kind is not OrgKind.ENTERPRISE or org.township != user.township:
            raise NotAllowed("demand.enterprise_not_yours")
        return org
    org = await Organization.get_or_none(id=user.organization_id)
    if org is None:
        raise NotAllowed("demand.not_submitter")
    return org


def _checked(draft: dict[str, Any], user: User, platform: PlatformConfig, today: date) -> dict:
    values: dict[str, Any] = {}
    for field in steps_for(user):
        if field is Field.ENTERPRISE:
            continue
        if field is Field.ATTACHMENTS:
            values["attachments"] = check_answer(
                field, draft.get("attachments", []), platform, today
            )
            continue
        values[field.value] = check_answer(field, draft.get(field.value), platform, today)
    values["wanted_by"] = date.fromisoformat(values["wanted_by"])
    return values


@dataclass(frozen=True)
class Submitted:
    """A demand just (re)submitted, and what must be announced."""

    demand: Demand
    events: list[Event]


async def submit(
    user: User, draft: dict[str, Any], platform: PlatformConfig, today: date
) -> Submitted:
    """File a new demand and open its first review stage."""
    may_submit(user)
    owner = await _owner_for(user, draft)
    values = _checked(draft, user, platform, today)
    if user.role is Role.ASSISTANT:
        values["township"] = owner.township
    async with in_transaction():
        demand = await Demand.create(owner=owner, submitted_by=user, **values)
        review = await Review.create(
            subject_type=SUBJECT,
            subject_id=demand.id,
            stage=platform.review.stages_for(SUBJECT)[0],
        )
        await audit.record(user.id, "demand.submitted", SUBJECT, demand.id, after=_summary(demand))
    events: list[Event] = [ReviewRequested(review.id)]
    if user.role is Role.ASSISTANT:
        events.append(DemandRelayed(demand.id))
    return Submitted(demand, events)


async def resubmit(
    demand_id: int, user: User, draft: dict[str, Any], platform: PlatformConfig, today: date
) -> Submitted:
    """Submit a rejected demand again, edited (DESIGN §2: rejected -> edited -> submitted)."""
    demand = await acting_owner(demand_id, user)
    values = _checked(draft, user, platform, today)
    async with in_transaction():
        moved = await Demand.filter(id=demand_id, status=DemandStatus.REJECTED).update(
            status=DemandStatus.SUBMITTED, **values
        )
        if not moved:
            raise InvalidTransition("demand.not_rejected", reference=demand.reference)
        # Reviews are unique per (subject, stage, round): the edited demand is reviewed in a
        # new round, and the last round's decisions stay as history.
        review = await open_round(SUBJECT, demand_id, platform.review.stages_for(SUBJECT)[0])
        await audit.record(
            user.id, "demand.resubmitted", SUBJECT, demand_id, after=values_text(values)
        )
    return Submitted(await Demand.get(id=demand_id), [ReviewRequested(review.id)])


def values_text(values: dict[str, Any]) -> dict[str, Any]:
    """Values made JSON-safe for the audit log."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _summary(demand: Demand) -> dict[str, Any]:
    return {
        "title": demand.title,
        "category": demand.category,
        "budget": demand.budget,
        "wanted_by": demand.wanted_by.isoformat(),
        "township": demand.township,
        "attachments": len(demand.attachments),
    }


async def get(demand_id: int) -> Demand:
    """The demand, or NotFound."""
    demand = await Demand.get_or_none(id=demand_id)
    if demand is None:
        raise NotFound("demand.not_found")
    return demand


def parse_reference(raw: str) -> int:
    """The id in a reference code such as D2026-000123 (the year is informative)."""
    text = raw.strip().upper()
    if len(text) < 7 or not text.startswith("D") or "-" not in text:
        raise ValidationFailed("demand.reference_format")
    number = text.split("-", 1)[1]
    # ASCII digits ("²" is a digit to isdigit() but not to int()), few enough for the id column.
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise ValidationFailed("demand.reference_format")
    return int(number)


def is_owner_side(user: User, demand: Demand) -> bool:
    """Active members of the owning enterprise, and the assistant who relayed it."""
    if user.status is not UserStatus.ACTIVE:
        return False
    if user.role is Role.ENTERPRISE and user.organization_id == demand.owner_id:
        return True
    return user.role is Role.ASSISTANT and user.id == demand.submitted_by_id


async def acting_owner(demand_id: int, user: User) -> Demand:
    """The demand, if this user may act for its owner; NotAllowed otherwise."""
    demand = await get(demand_id)
    permissions.require("demand.act_for_owner", user, related=is_owner_side(user, demand))
    return demand


async def cancel_pending_reviews(demand_id: int) -> list[int]:
    """Close the reviews still waiting on a demand that left review; their ids."""
    ids: list[int] = await Review.filter(  # type: ignore[assignment]
        subject_type=SUBJECT, subject_id=demand_id, status=ReviewStatus.PENDING
    ).values_list("id", flat=True)
    if ids:
        await Review.filter(id__in=ids, status=ReviewStatus.PENDING).update(
            status=ReviewStatus.CANCELLED
        )
    return ids


async def editable(demand_id: int, user: User) -> Demand:
    """A rejected demand this user may edit and resubmit."""
    demand = await acting_owner(demand_id, user)
    if demand.status is not DemandStatus.REJECTED:
        raise InvalidTransition("demand.not_rejected", reference=demand.reference)
    return demand


async def draft_of(
    demand: Demand, user: User, platform: PlatformConfig, today: date
) -> dict[str, Any]:
    """A rejected demand's answers as a draft; answers no longer valid (a date now past, a
    category removed from the configuration) are left out so the flow asks them again."""
    owner = await Organization.get(id=demand.owner_id)
    raw: dict[str, Any] = {
        Field.ENTERPRISE.value: demand.owner_id,
        "enterprise_name": owner.name,
        Field.TITLE.value: demand.title,
        Field.CATEGORY.value: demand.category,
        Field.DESCRIPTION.value: demand.description,
        Field.BUDGET.value: demand.budget,
        Field.WANTED_BY.value: demand.wanted_by.isoformat(),
        Field.ATTACHMENTS.value: list(demand.attachments),
        "attachments_done": True,
        Field.TOWNSHIP.value: demand.township,
    }
    for field in steps_for(user):
        if field is Field.ENTERPRISE:
            continue
        try:
            check_answer(field, raw.get(field.value), platform, today)
        except ValidationFailed:
            raw.pop(field.value, None)
    return raw


async def enterprise_members(org_id: int) -> list[User]:
    """The active registered users of an enterprise."""
    return await User.filter(
        organization_id=org_id, role=Role.ENTERPRISE, status=UserStatus.ACTIVE
    ).order_by("id")


async def owner_side(demand: Demand) -> list[User]:
    """Who hears about a demand for its owner: the submitter and the enterprise's users."""
    people = await enterprise_members(demand.owner_id)
    if all(person.id != demand.submitted_by_id for person in people):
        submitter = await User.get_or_none(id=demand.submitted_by_id)
        if submitter is not None and submitter.status is UserStatus.ACTIVE:
            people.insert(0, submitter)
    return people


async def township_demands(user: User, *, offset: int, limit: int) -> tuple[list[Demand], int]:
    """A page of the demands of an assistant's township, newest first, and the total."""
    if user.role is Role.ASSISTANT and user.status is not UserStatus.ACTIVE:
        raise NotAllowed("demand.not_active")
    permissions.require("township.follow", user, related=bool(user.township))
    query = Demand.filter(township=user.township)
    total = await query.count()
    page = await query.order_by("-created_at", "-id").offset(offset).limit(limit)
    return page, total
