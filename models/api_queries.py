"""What the JSON API reads (issue #6 item 1): pages of records in a stable order by id.

Only what the platform has made public reaches other platforms (Jiangsu art. 10, 16: they
pull data from each other): demands that passed review (Rugao art. 15-16, a demand never
published stays between its owner and the reviewers), organisations that were approved,
evaluation results of published runs only. Personal data is masked here unless the caller
says the token may see it (models/api_tokens.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.demand_entities import Demand, DemandStatus, Engagement
from models.entities import InstitutionTier, Organization, OrgKind, OrgStatus, User
from models.errors import NotFound
from models.evaluation_entities import Evaluation, EvaluationRun, RunStatus
from models.phone import mask_phone
from models.reminder_entities import DeliveryState, ReminderDelivery

M = TypeVar("M", bound=Model)
# Statuses a demand can have once published; the others never leave the platform.
PUBLIC_STATUSES = tuple(
    status
    for status in DemandStatus
    if status not in (DemandStatus.SUBMITTED, DemandStatus.REJECTED)
)
_REFERENCE = re.compile(r"D(\d{4})-(\d{6,9})")


@dataclass(frozen=True)
class Person:
    """Someone a record names; masked unless personal data was asked for and allowed."""

    name: str | None
    phone: str | None
    telegram_id: int | None


def mask_name(name: str | None) -> str | None:
    """张伟 -> 张*: enough to tell people apart on a page, not to identify them."""
    if not name:
        return None
    return name[0] + "*" * (len(name) - 1)


def person(user: User | None, *, personal: bool, telegram_id: int | None = None) -> Person:
    """What the API shows of a person."""
    if user is None:
        return Person(None, None, telegram_id if personal else None)
    name = user.real_name or user.first_name or None
    if personal:
        return Person(name, user.phone, user.id)
    return Person(mask_name(name), mask_phone(user.phone) if user.phone else None, None)


async def _page(query: QuerySet[M], after_id: int, limit: int) -> tuple[list[M], bool]:
    rows = await query.filter(id__gt=after_id).order_by("id").limit(limit + 1)
    return rows[:limit], len(rows) > limit


async def demands(
    *,
    status: DemandStatus | None,
    category: str | None,
    township: str | None,
    updated_since: datetime | None,
    after_id: int,
    limit: int,
) -> tuple[list[Demand], bool]:
    """Published demands (and what became of them), filtered."""
    query = Demand.filter(published_at__isnull=False, status__in=PUBLIC_STATUSES)
    if status is not None:
        query = query.filter(status=status)
    if category is not None:
        query = query.filter(category=category)
    if township is not None:
        query = query.filter(township=township)
    if updated_since is not None:
        query = query.filter(updated_at__gte=updated_since)
    query = query.select_related("owner", "submitted_by", "matched_institution")
    return await _page(query, after_id, limit)


async def demand_by_reference(reference: str) -> Demand:
    """One published demand by its reference code (D2026-000123)."""
    match = _REFERENCE.fullmatch(reference)
    demand = None
    if match is not None:
        demand = (
            await Demand.filter(
                id=int(match[2]), published_at__isnull=False, status__in=PUBLIC_STATUSES
            )
            .select_related("owner", "submitted_by", "matched_institution")
            .first()
        )
    if demand is None or demand.created_at.year != int(match[1] if match else 0):
        raise NotFound("api.demand_not_found", reference=reference)
    return demand


async def organisations(
    *, kind: OrgKind | None, tier: InstitutionTier | None, after_id: int, limit: int
) -> tuple[list[Organization], bool]:
    """Approved organisations (pending applications are not on the platform yet)."""
    query = Organization.exclude(status=OrgStatus.PENDING)
    if kind is not None:
        query = query.filter(kind=kind)
    if tier is not None:
        query = query.filter(tier=tier)
    return await _page(query, after_id, limit)


async def evaluations(year: int, *, after_id: int, limit: int) -> tuple[list[Evaluation], bool]:
    """The results of the published evaluation of a year (an unpublished one is not found)."""
    run = await EvaluationRun.get_or_none(year=year, status=RunStatus.PUBLISHED)
    if run is None:
        raise NotFound("api.evaluation_not_found", year=year)
    query = Evaluation.filter(run_id=run.id).select_related("organization")
    return await _page(query, after_id, limit)


async def engagements(
    *, institution_id: int | None, after_id: int, limit: int
) -> tuple[list[Engagement], bool]:
    """Engagements: a published demand matched with an institution, and how far it went."""
    query = Engagement.all()
    if institution_id is not None:
        query = query.filter(institution_id=institution_id)
    return await _page(query.select_related("demand", "institution"), after_id, limit)


async def deliveries(
    *, rule: str | None, state: DeliveryState | None, after_id: int, limit: int
) -> tuple[list[ReminderDelivery], bool]:
    """Reminder deliveries (DESIGN §4): what was sent, when, and what failed."""
    query = ReminderDelivery.all()
    if rule is not None:
        query = query.filter(rule=rule)
    if state is not None:
        query = query.filter(state=state)
    return await _page(query, after_id, limit)


async def users_by_id(ids: set[int]) -> dict[int, User]:
    """The users a page of records names, in one query."""
    found: list[Any] = await User.filter(id__in=ids) if ids else []
    return {user.id: user for user in found}
