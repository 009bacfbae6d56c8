"""The annual evaluation of service institutions (Jiangsu art. 26-30, Shanghai art. 22-23,
Rugao art. 20, Keqiao 4(3)-(4)).

    compute (and recompute) -> open_notice (公示, `notice_days`) -> publish (after the notice)

Who is evaluated: organisations of kind institution, active or suspended, registered before
the year ended (DESIGN §1: the evaluation is of service institutions; research teams serve
demands too, but none of the regulations evaluates them, so they are left out). Revoked
institutions are out of the platform's sequence (Shanghai art. 23) and pending ones never
served. The indicators come from the year's records (local calendar year of the platform's
zone); models/evaluation_scoring.py turns them into scores and grades. Each step is a
compare-and-set on the run's status under a row lock, audited; a published run is final.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import audit, permissions
from models.demand_entities import (
    Complaint,
    ComplaintStatus,
    DemandStatus,
    Engagement,
    Feedback,
    Intent,
)
from models.entities import AuditLog, Organization, OrgKind, OrgStatus, User
from models.errors import AlreadyDecided, InvalidTransition, NotFound, ValidationFailed
from models.evaluation_config import EvaluationConfig
from models.evaluation_entities import Evaluation, EvaluationRun, Grade, RunStatus
from models.evaluation_scoring import Indicators, Result, evaluate
from models.events import EvaluationNoticeOpened, EvaluationPublished, Event
from models.listing_entities import Booking, RequestStatus
from models.reminder_entities import Report, ReportKind
from models.users import display_name

FIRST_YEAR = 2000
EVALUATED = (OrgStatus.ACTIVE, OrgStatus.SUSPENDED)
MARKS = ("overall", "quality", "timeliness", "professionalism")  # Rugao art. 12(4)


def check_year(raw: str | int, today: date) -> int:
    """A finished calendar year: from FIRST_YEAR to last year."""
    text = str(raw).strip()
    year = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else 0
    if not FIRST_YEAR <= year < today.year:
        raise ValidationFailed(
            "evaluation.bad_year", year=text[:10], first=FIRST_YEAR, last=today.year - 1
        )
    return year


def _bounds(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    return start, datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)


async def gather(year: int, zone: ZoneInfo) -> dict[int, Indicators]:
    """Each evaluated institution's indicator values for the year."""
    start, end = _bounds(year, zone)
    ids: list[int] = await Organization.filter(  # type: ignore[assignment]
        kind=OrgKind.INSTITUTION, status__in=list(EVALUATED), created_at__lt=end
    ).values_list("id", flat=True)
    if not ids:
        return {}
    in_year = {"created_at__gte": start, "created_at__lt": end}
    volume: dict[int, int] = defaultdict(int)
    for org_id in await Engagement.filter(
        institution_id__in=ids,
        completed_at__gte=start,
        completed_at__lt=end,
        demand__status=DemandStatus.COMPLETED,
    ).values_list("institution_id", flat=True):
        volume[int(org_id)] += 1  # type: ignore[call-overload]
    hours: dict[int, list[Decimal]] = defaultdict(list)
    for org_id, offered, published in await Intent.filter(
        institution_id__in=ids, **in_year
    ).values_list("institution_id", "created_at", "demand__published_at"):
        if published is not None:
            seconds = max(0, int((offered - published).total_seconds()))
            hours[org_id].append(Decimal(seconds) / 3600)
    due: dict[int, int] = defaultdict(int)
    on_time: dict[int, int] = defaultdict(int)
    filings = await Engagement.filter(
        institution_id__in=ids,
        filing_due__gte=date(year, 1, 1),
        filing_due__lt=date(year + 1, 1, 1),
    ).values_list("id", "institution_id", "filing_due")
    reported = dict(
        await Report.filter(
            kind=ReportKind.FILING, period__in=[str(f[0]) for f in filings]
        ).values_list("period", "submitted_at")
    )
    for engagement_id, org_id, deadline in filings:
        due[org_id] += 1
        sent = reported.get(str(engagement_id))
        if sent is not None and sent.astimezone(zone).date() <= deadline:
            on_time[org_id] += 1
    upheld: dict[int, int] = defaultdict(int)
    for org_id in await Complaint.filter(
        institution_id__in=ids, status=ComplaintStatus.UPHELD, **in_year
    ).values_list("institution_id", flat=True):
        upheld[int(org_id)] += 1  # type: ignore[call-overload]
    bookings: dict[int, int] = defaultdict(int)
    refusals: dict[int, int] = defaultdict(int)
    for org_id, status in await Booking.filter(listing__owner_id__in=ids, **in_year).values_list(
        "listing__owner_id", "status"
    ):
        bookings[org_id] += 1
        refusals[org_id] += status == RequestStatus.DECLINED
    marks: dict[int, list[int]] = defaultdict(list)
    rated = Feedback.filter(engagement__institution_id__in=ids, **in_year)
    for org_id, *four in await rated.values_list("engagement__institution_id", *MARKS):
        marks[org_id] += four
    return {
        org_id: Indicators(
            volume=volume[org_id],
            response_hours=statistics.median(hours[org_id]) if hours[org_id] else None,
            filings_due=due[org_id],
            filings_on_time=on_time[org_id],
            upheld_complaints=upheld[org_id],
            rating=Decimal(sum(marks[org_id])) / len(marks[org_id]) if marks[org_id] else None,
            bookings=bookings[org_id],
            refusals=refusals[org_id],
        )
        for org_id in ids
    }


async def failed_in(year: int) -> set[int]:
    """Institutions not qualified in that year's published results."""
    ids = await Evaluation.filter(
        year=year, grade=Grade.UNQUALIFIED, run__status=RunStatus.PUBLISHED
    ).values_list("organization_id", flat=True)
    return {int(i) for i in ids}  # type: ignore[call-overload]


async def compute(
    actor: User | None, year: int, config: EvaluationConfig, zone: ZoneInfo
) -> EvaluationRun:
    """Compute the year's results, or recompute them while the run is still a draft.

    `actor` None is the operator's command line. A year without any record is refused and
    nothing is written; so is a run under notice or published.
    """
    if actor is not None:
        permissions.require("evaluation.run", actor)
    values = await gather(year, zone)
    if not any(v.has_data() for v in values.values()):
        raise ValidationFailed("evaluation.no_data", year=year)
    results = evaluate(values, config, await failed_in(year - 1))
    try:
        return await _store(actor, year, config, results)
    except IntegrityError:
        # Two first computations at once: the other created the run; recompute it.
        return await _store(actor, year, config, results)


async def _store(
    actor: User | None, year: int, config: EvaluationConfig, results: list[Result]
) -> EvaluationRun:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "scheme": config.scheme,
        "weights": config.weights.as_dict(),
        "computed_by_id": actor.id if actor else None,
        "computed_at": now,
    }
    async with in_transaction():
        run = await EvaluationRun.filter(year=year).select_for_update().first()
        if run is None:
            run = await EvaluationRun.create(year=year, **fields)
        elif run.status is not RunStatus.COMPUTED:
            raise InvalidTransition("evaluation.frozen", reference=run.reference)
        else:
            await EvaluationRun.filter(id=run.id, status=RunStatus.COMPUTED).update(**fields)
            await Evaluation.filter(run_id=run.id).delete()
        await Evaluation.bulk_create(
            [
                Evaluation(
                    run_id=run.id,
                    year=year,
                    organization_id=r.organization_id,
                    indicators=r.indicators,
                    score=r.score,
                    rank=r.rank,
                    grade=r.grade,
                    stars=r.stars,
                    flagged_for_removal=r.flagged,
                )
                for r in results
            ]
        )
        await audit.record(
            actor.id if actor else None,
            "evaluation.computed",
            "evaluation_run",
            run.id,
            after={"year": year, "scheme": config.scheme, "institutions": len(results)},
        )
    return await EvaluationRun.get(id=run.id)


async def _who_moved(run: EvaluationRun) -> str:
    row = (
        await AuditLog.filter(subject_type="evaluation_run", subject_id=str(run.id))
        .exclude(action="evaluation.computed")
        .order_by("-id")
        .first()
    )
    user = await User.get_or_none(id=row.actor_id) if row and row.actor_id else None
    return display_name(user) if user else "—"


async def _locked(year: int) -> EvaluationRun:
    run = await EvaluationRun.filter(year=year).select_for_update().first()
    if run is None:
        raise NotFound("evaluation.not_computed", year=year)
    return run


async def open_notice(
    admin: User, year: int, *, today: date, days: int
) -> tuple[EvaluationRun, list[Event]]:
    """Put a computed run under public notice until `today + days`."""
    permissions.require("evaluation.run", admin)
    async with in_transaction():
        run = await _locked(year)
        moved = await EvaluationRun.filter(id=run.id, status=RunStatus.COMPUTED).update(
            status=RunStatus.NOTICE, notice_ends_on=today + timedelta(days=days)
        )
        if not moved:
            current = await EvaluationRun.get(id=run.id)
            key = (
                "evaluation.already_published"
                if current.status is RunStatus.PUBLISHED
                else "evaluation.already_notice"
            )
            raise AlreadyDecided(key, reference=run.reference, by=await _who_moved(run))
        await audit.record(
            admin.id,
            "evaluation.notice_opened",
            "evaluation_run",
            run.id,
            before={"status": RunStatus.COMPUTED.value},
            after={"status": RunStatus.NOTICE.value, "until": str(today + timedelta(days=days))},
        )
    return await EvaluationRun.get(id=run.id), [EvaluationNoticeOpened(run.id)]


async def publish(
    actor: User | None, year: int, *, today: date
) -> tuple[EvaluationRun, list[Event]]:
    """Publish a run whose notice has ended (`actor` None: the daily job)."""
    if actor is not None:
        permissions.require("evaluation.run", actor)
    async with in_transaction():
        run = await _locked(year)
        if run.status is RunStatus.COMPUTED:
            raise InvalidTransition("evaluation.not_under_notice", reference=run.reference)
        ends = run.notice_ends_on
        if run.status is RunStatus.NOTICE and ends is not None and today < ends:
            raise InvalidTransition(
                "evaluation.notice_running", reference=run.reference, until=ends.isoformat()
            )
        moved = await EvaluationRun.filter(id=run.id, status=RunStatus.NOTICE).update(
            status=RunStatus.PUBLISHED, published_at=datetime.now(UTC)
        )
        if not moved:
            raise AlreadyDecided(
                "evaluation.already_published", reference=run.reference, by=await _who_moved(run)
            )
        await audit.record(
            actor.id if actor else None,
            "evaluation.published",
            "evaluation_run",
            run.id,
            before={"status": RunStatus.NOTICE.value},
            after={"status": RunStatus.PUBLISHED.value},
        )
    return await EvaluationRun.get(id=run.id), [EvaluationPublished(run.id)]


async def publish_due(today: date) -> list[Event]:
    """Daily: publish every run whose notice has ended. Twice, or in two workers, once."""
    events: list[Event] = []
    for year in await EvaluationRun.filter(
        status=RunStatus.NOTICE, notice_ends_on__lte=today
    ).values_list("year", flat=True):
        try:
            events += (await publish(None, int(year), today=today))[1]  # type: ignore[call-overload]
        except (AlreadyDecided, InvalidTransition):
            continue  # another worker published it a moment ago
    return events


async def run_of(year: int) -> EvaluationRun | None:
    """The run of a year, if computed."""
    return await EvaluationRun.get_or_none(year=year)


async def results_of(run: EvaluationRun) -> list[Evaluation]:
    """A run's results, best first, with their institutions."""
    return list(
        await Evaluation.filter(run_id=run.id)
        .order_by("rank", "organization_id")
        .prefetch_related("organization")
    )


async def own_result(user: User) -> Evaluation | None:
    """The latest result of the user's institution that is under notice or published."""
    permissions.require("evaluation.own", user)
    if user.organization_id is None:
        return None
    return (
        await Evaluation.filter(
            organization_id=user.organization_id,
            run__status__in=[RunStatus.NOTICE, RunStatus.PUBLISHED],
        )
        .order_by("-year")
        .prefetch_related("run", "organization")
        .first()
    )


async def latest_published(organization_ids: list[int]) -> dict[int, Evaluation]:
    """Each organisation's result in the latest published evaluation it took part in: the
    grade and stars the public sees (Rugao art. 20), on the catalogue, the dashboard and the API.
    """
    if not organization_ids:
        return {}
    rows = await Evaluation.filter(
        organization_id__in=organization_ids, run__status=RunStatus.PUBLISHED
    ).order_by("organization_id", "-year")
    latest: dict[int, Evaluation] = {}
    for row in rows:
        latest.setdefault(row.organization_id, row)
    return latest
