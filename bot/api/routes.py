"""The endpoints of /api/v1 and the table that both the router and the OpenAPI document read.

Each endpoint parses its path and query with a pydantic model (a bad value is a 400 naming
the parameter), asks models/api_queries.py, and answers with a pydantic model. Lists are
paged by an opaque cursor over a stable order by id.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.api import schemas as s
from bot.api.auth import TOKEN, ApiError
from models import api_queries as q
from models import api_tokens, evaluation
from models.api_entities import ApiScope
from models.demand_entities import DemandStatus
from models.platform import PlatformConfig

PLATFORM = web.AppKey("api_platform", PlatformConfig)
Endpoint = Callable[[web.Request, Any, Any], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Route:
    """One GET endpoint: its path (OpenAPI syntax, which aiohttp shares), its models."""

    path: str
    operation_id: str
    summary: str
    endpoint: Endpoint
    response: type[BaseModel]
    query: type[BaseModel] | None = None
    path_params: type[BaseModel] | None = None


def _parse(model: type[BaseModel], values: dict[str, str]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        raise ApiError(
            400, "invalid_parameter", f"{name}: {first['msg']}", parameter=name
        ) from None


def encode_cursor(resource: str, last_id: int) -> str:
    """Opaque to clients; the resource and the last id seen."""
    return base64.urlsafe_b64encode(f"{resource}:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(resource: str, cursor: str | None) -> int:
    """The id after which the page starts; a cursor of another list or a made-up one is 400."""
    if cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    kind, _, number = raw.partition(":")
    if kind != resource or not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise ApiError(400, "invalid_parameter", "cursor: not a cursor of this list", "cursor")
    return int(number)


def _next(resource: str, rows: list[Any], more: bool) -> str | None:
    return encode_cursor(resource, rows[-1].id) if more and rows else None


async def _personal(request: web.Request, asked: bool) -> bool:
    """Whether to unmask: asked for, allowed by the scope (else 403), and then audited."""
    if not asked:
        return False
    token = request[TOKEN]
    if token.scope is not ApiScope.READ_PERSONAL:
        raise ApiError(403, "insufficient_scope", "personal=true needs a read_personal token.")
    await api_tokens.record_personal_read(token, request.path)
    return True


def _known(value: str | None, codes: set[str], name: str) -> None:
    if value is not None and value not in codes:
        raise ApiError(400, "invalid_parameter", f"{name}: unknown code", parameter=name)


def _person(p: q.Person) -> s.Person:
    return s.Person(name=p.name, phone=p.phone, telegram_id=p.telegram_id)


def _org(org: Any) -> s.OrganisationRef:
    return s.OrganisationRef(id=org.id, name=org.name)


def _demand(demand: Any, personal: bool) -> s.Demand:
    return s.Demand(
        reference=demand.reference,
        title=demand.title,
        category=demand.category,
        description=demand.description,
        budget=demand.budget,
        wanted_by=demand.wanted_by,
        township=demand.township,
        status=cast(s.PublicStatus, demand.status.value),
        owner=_org(demand.owner),
        contact=_person(q.person(demand.submitted_by, personal=personal)),
        matched_institution=_org(demand.matched_institution)
        if demand.matched_institution
        else None,
        attachments=len(demand.attachments),
        published_at=demand.published_at,
        created_at=demand.created_at,
        updated_at=demand.updated_at,
    )


async def list_demands(request: web.Request, query: s.DemandQuery, _: None) -> s.DemandPage:
    """Published demands, filtered."""
    platform = request.app[PLATFORM]
    _known(query.category, {c.code for c in platform.categories}, "category")
    _known(query.township, {t.code for t in platform.townships}, "township")
    personal = await _personal(request, query.personal)
    rows, more = await q.demands(
        status=DemandStatus(query.status) if query.status else None,
        category=query.category,
        township=query.township,
        updated_since=query.updated_since,
        after_id=decode_cursor("demands", query.cursor),
        limit=query.limit,
    )
    return s.DemandPage(
        data=[_demand(row, personal) for row in rows], next_cursor=_next("demands", rows, more)
    )


async def one_demand(
    request: web.Request, query: s.DemandOneQuery, path: s.DemandPath
) -> s.Demand:
    """One published demand by reference code."""
    demand = await q.demand_by_reference(path.reference)
    return _demand(demand, await _personal(request, query.personal))


async def list_organisations(
    request: web.Request, query: s.OrganisationQuery, _: None
) -> s.OrganisationPage:
    """Organisations with their tier and latest published grade."""
    rows, more = await q.organisations(
        kind=query.kind,
        tier=query.tier,
        after_id=decode_cursor("organisations", query.cursor),
        limit=query.limit,
    )
    grades = await evaluation.latest_published([row.id for row in rows])
    data = []
    for org in rows:
        grade = grades.get(org.id)
        latest = (
            s.LatestGrade(
                year=grade.year, grade=grade.grade, stars=grade.stars, score=str(grade.score)
            )
            if grade
            else None
        )
        data.append(
            s.Organisation(
                id=org.id,
                name=org.name,
                kind=org.kind,
                credit_code=org.credit_code,
                township=org.township,
                tier=org.tier,
                status=org.status,
                service_fields=list(org.service_fields),
                latest_grade=latest,
                created_at=org.created_at,
            )
        )
    return s.OrganisationPage(data=data, next_cursor=_next("organisations", rows, more))


async def list_evaluations(
    request: web.Request, query: s.Query, path: s.YearPath
) -> s.EvaluationPage:
    """The published evaluation of a year."""
    resource = f"evaluations{path.year}"
    rows, more = await q.evaluations(
        path.year, after_id=decode_cursor(resource, query.cursor), limit=query.limit
    )
    data = [
        s.Evaluation(
            year=row.year,
            organisation=_org(row.organization),
            score=str(row.score),
            rank=row.rank,
            grade=row.grade,
            stars=row.stars,
            flagged_for_removal=row.flagged_for_removal,
            indicators=row.indicators,
        )
        for row in rows
    ]
    return s.EvaluationPage(data=data, next_cursor=_next(resource, rows, more))


async def list_engagements(
    request: web.Request, query: s.EngagementQuery, _: None
) -> s.EngagementPage:
    """Engagements and how far each went."""
    rows, more = await q.engagements(
        institution_id=query.institution_id,
        after_id=decode_cursor("engagements", query.cursor),
        limit=query.limit,
    )
    data = [
        s.Engagement(
            id=row.id,
            demand_reference=row.demand.reference,
            status=cast(s.PublicStatus, row.demand.status.value),
            institution=_org(row.institution),
            amount=str(row.amount) if row.amount is not None else None,
            signed_on=row.signed_on,
            voucher=row.voucher,
            filing_due=row.filing_due,
            filed_at=row.filed_at,
            delivered_at=row.delivered_at,
            completed_at=row.completed_at,
            contract_sha256=row.contract_sha256,
        )
        for row in rows
    ]
    return s.EngagementPage(data=data, next_cursor=_next("engagements", rows, more))


async def list_deliveries(request: web.Request, query: s.DeliveryQuery, _: None) -> s.DeliveryPage:
    """Reminder deliveries, with the recipient masked unless personal data is asked for."""
    personal = await _personal(request, query.personal)
    rows, more = await q.deliveries(
        rule=query.rule,
        state=query.state,
        after_id=decode_cursor("deliveries", query.cursor),
        limit=query.limit,
    )
    users = await q.users_by_id({row.recipient_id for row in rows})
    data = [
        s.Delivery(
            id=row.id,
            rule=row.rule,
            recipient=_person(
                q.person(
                    users.get(row.recipient_id), personal=personal, telegram_id=row.recipient_id
                )
            ),
            occurrence=row.occurrence,
            due_at=row.due_at,
            state=row.state,
            attempts=row.attempts,
            sent_at=row.sent_at,
            error=row.error,
        )
        for row in rows
    ]
    return s.DeliveryPage(data=data, next_cursor=_next("deliveries", rows, more))


ROUTES: tuple[Route, ...] = (
    Route(
        "/demands", "listDemands", "Published demands", list_demands, s.DemandPage, s.DemandQuery
    ),
    Route(
        "/demands/{reference}",
        "getDemand",
        "One demand by reference code",
        one_demand,
        s.Demand,
        s.DemandOneQuery,
        s.DemandPath,
    ),
    Route(
        "/organisations",
        "listOrganisations",
        "Organisations with tier and latest grade",
        list_organisations,
        s.OrganisationPage,
        s.OrganisationQuery,
    ),
    Route(
        "/evaluations/{year}",
        "listEvaluations",
        "The published evaluation of a year",
        list_evaluations,
        s.EvaluationPage,
        s.Query,
        s.YearPath,
    ),
    Route(
        "/engagements",
        "listEngagements",
        "Engagements",
        list_engagements,
        s.EngagementPage,
        s.EngagementQuery,
    ),
    Route(
        "/reminder-deliveries",
        "listReminderDeliveries",
        "Reminder deliveries",
        list_deliveries,
        s.DeliveryPage,
        s.DeliveryQuery,
    ),
)


def view(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler of a route: parse, call, serialise."""

    async def handle(request: web.Request) -> web.Response:
        path = _parse(route.path_params, dict(request.match_info)) if route.path_params else None
        query = _parse(route.query, dict(request.query)) if route.query else None
        result = await route.endpoint(request, query, path)
        return web.json_response(text=result.model_dump_json())

    return handle
