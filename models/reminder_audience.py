"""Who a reminder goes to, as queries: the rules of models/reminders.py name an audience,
and a fan-out to a whole audience (`Fan`) is recorded by the database itself
(models/fan_deliveries.py) instead of one Python object per person.

At 100,000 institutions a quarterly invitation as 100,000 `Due` items and rows built in
Python took seconds a tick (issue #8, T5); as one `INSERT … SELECT` it takes a fraction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from models.entities import OrgKind, OrgStatus, Role, User, UserStatus
from models.reminder_entities import Report, ReportKind


@dataclass(frozen=True)
class Fan:
    """One message of one occurrence of a rule to everyone of an audience."""

    rule: str
    occurrence: str
    due_at: datetime  # UTC
    audience: QuerySet[User] = field(compare=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def pair(self) -> tuple[str, str]:
        """(rule, occurrence): the part of the delivery key all its rows share."""
        return self.rule, self.occurrence


def people_query(roles: Iterable[Role], org_ids: Iterable[int] | None = None) -> QuerySet[User]:
    """Active, reachable users of these roles (of these organisations, if given)."""
    query = User.filter(status=UserStatus.ACTIVE, reachable=True, role__in=list(roles))
    if org_ids is not None:
        query = query.filter(organization_id__in=list(org_ids))
    return query


def institution_query(*, without_report: str | None = None) -> QuerySet[User]:
    """The active, reachable representatives of active institutions; with `without_report`,
    only of those that have not submitted that year's annual report.

    A join and a subquery: a list of ids as parameters would pass PostgreSQL's limit of
    32,767 query arguments on a large platform (issue #8's bench).
    """
    query = User.filter(
        status=UserStatus.ACTIVE,
        reachable=True,
        role=Role.INSTITUTION,
        organization__kind=OrgKind.INSTITUTION,
        organization__status=OrgStatus.ACTIVE,
    )
    if without_report is not None:
        reported = Report.filter(kind=ReportKind.ANNUAL, period=without_report)
        query = query.exclude(organization_id__in=Subquery(reported.values("organization_id")))
    return query


async def ids_of(query: QuerySet[User]) -> list[int]:
    """The audience's user ids, in id order."""
    ids: list[int] = await query.order_by("id").values_list("id", flat=True)  # type: ignore[assignment]
    return ids


def sql_of(query: QuerySet[User]) -> tuple[str, list[Any]]:
    """The audience as a parameterised `SELECT` of user ids (column alias "0"), to be used
    as a subquery. Tortoise builds it, so the SQL is the one `ids_of` runs."""
    values = query.values_list("id", flat=True)
    values._choose_db_if_not_chosen()
    values._make_query()
    sql, params = values.query.get_parameterized_sql()
    return sql, list(params)
