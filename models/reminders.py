"""What should have been sent by a given time: the reminder rules of DESIGN §4 as queries.

Every rule turns the calendar (models/reminder_config.py) and the records into `Due` items:
one message to one person for one occurrence, with the time it falls due and what it quotes;
a message to a whole audience (the quarterly meeting, the annual report, the evaluation's
opening) is one `Fan` with the audience as a query (models/reminder_audience.py). The
engine (scheduler/engine.py) asks for a window of time (`plan_between`); the preview asks
for the future, one item per person (`due_between`).
Records that no longer call for a reminder (a report submitted, feedback given, a demand
matched) simply stop producing items, so nothing stale is sent after an outage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.expressions import Subquery

from models import engagements
from models.demand_entities import Demand, DemandStatus, Engagement, Feedback
from models.entities import (
    PROVIDER_ROLES,
    Review,
    ReviewStatus,
    Role,
    User,
    UserStatus,
)
from models.evaluation_entities import Evaluation, EvaluationRun, RunStatus
from models.reminder_audience import Fan, ids_of, institution_query, people_query
from models.reminder_config import ReminderConfig, on_day
from models.reminder_entities import MeetingRsvp, Report, ReportKind

REVIEW_STAGE_ROLES = {"reviewer": (Role.REVIEWER, Role.ADMIN), "publisher": (Role.PUBLISHER,)}
# Filing reports still open this long after they fell due stop being chased.
FILING_OVERDUE_NOTICES = 6
FILED = (DemandStatus.CONTRACTED, DemandStatus.DELIVERED, DemandStatus.DISPUTED)
FILED_OR_DONE = (*FILED, DemandStatus.COMPLETED)


@dataclass(frozen=True)
class Due:
    """One message to one person for one occurrence of a rule."""

    rule: str
    occurrence: str
    recipient_id: int
    due_at: datetime  # UTC
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, int, str]:
        """The delivery key: unique in the database."""
        return self.rule, self.recipient_id, self.occurrence


@dataclass(frozen=True)
class Window:
    """The times asked about (UTC, both ends included) and the platform's zone."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    def at(self, day: date, clock: time) -> datetime:
        """A local day and time of day in the platform's zone, as UTC."""
        return datetime.combine(day, clock, self.zone).astimezone(UTC)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end

    def local_days(self, before: int = 0, after: int = 0) -> list[date]:
        """The local dates the window touches, widened by some days on each side."""
        first = self.start.astimezone(self.zone).date() - timedelta(days=before)
        last = self.end.astimezone(self.zone).date() + timedelta(days=after)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def people(roles: Iterable[Role], org_ids: Iterable[int] | None = None) -> list[int]:
    """Ids of active, reachable users of these roles (of these organisations, if given)."""
    return await ids_of(people_query(roles, org_ids))


def _fan(
    rule: str, occurrence: str, due_at: datetime, ids: Iterable[int], **params: Any
) -> list[Due]:
    return [Due(rule, occurrence, uid, due_at, params) for uid in ids]


# --- calendar rules -------------------------------------------------------------------


def meetings(
    config: ReminderConfig, zone: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """Service meetings (local times) between two moments."""
    trigger = config.service_meeting.trigger(str(zone))
    found: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        found.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return found


async def service_meeting(config: ReminderConfig, window: Window) -> list[Due | Fan]:
    """Invitations before each meeting (RSVP), and the answers so far to admins (Keqiao 4(5))."""
    rule = config.service_meeting
    longest = max([*rule.lead_days, rule.summary_lead_days]) + 1
    found = meetings(
        config, window.zone, window.start - timedelta(days=1), window.end + timedelta(days=longest)
    )
    due: list[Due | Fan] = []
    for meeting in found:
        day = meeting.date()
        params = {"meeting": meeting.strftime("%Y-%m-%d %H:%M"), "date": day.isoformat()}
        for lead in sorted(set(rule.lead_days), reverse=True):
            moment = window.at(day - timedelta(days=lead), rule.send_at)
            if window.holds(moment):
                audience = people_query(rule.audience)
                due.append(Fan("service_meeting", f"{day}/-{lead}d", moment, audience, params))
        moment = window.at(day - timedelta(days=rule.summary_lead_days), rule.send_at)
        if window.holds(moment):
            answers = await MeetingRsvp.filter(meeting=day).values_list("attending", flat=True)
            counts = {
                "attending": sum(1 for a in answers if a),
                "absent": sum(1 for a in answers if not a),
            }
            due += _fan(
                "meeting_summary", str(day), moment, await people([Role.ADMIN]), **params, **counts
            )
    return due


async def annual_report(config: ReminderConfig, window: Window) -> list[Due | Fan]:
    """Before the yearly deadline, then overdue every few days until the report is in."""
    rule = config.annual_report
    due: list[Due | Fan] = []
    for year in range(window.start.year - 1, window.end.year + 1):
        deadline = on_day(year, rule.due)
        notices = [
            (f"{year}/-{lead}d", deadline - timedelta(days=lead), False) for lead in rule.lead_days
        ]
        later = deadline + timedelta(days=rule.overdue_every_days)
        while later.year == year:  # chased until the year ends; a new cycle starts next year
            notices.append((f"{year}/+{(later - deadline).days}d", later, True))
            later += timedelta(days=rule.overdue_every_days)
        moments = [(o, window.at(d, rule.send_at), late) for o, d, late in notices]
        moments = [m for m in moments if window.holds(m[1])]
        if not moments:
            continue
        period = str(year - 1)  # the report due in 2027 is on 2026
        owing = institution_query(without_report=period)
        for occurrence, moment, late in moments:
            params = {"year": period, "due": deadline.isoformat(), "overdue": late}
            due.append(Fan("annual_report", occurrence, moment, owing, params))
    return due


async def evaluation(config: ReminderConfig, window: Window) -> list[Due | Fan]:
    """The annual evaluation opens (announced ahead); then each year's published results."""
    rule = config.evaluation
    due: list[Due | Fan] = []
    for year in range(window.start.year - 1, window.end.year + 1):
        opens = on_day(year, rule.opens)
        for lead in rule.lead_days:
            moment = window.at(opens - timedelta(days=lead), rule.send_at)
            if window.holds(moment):
                params = {"year": str(year - 1), "date": opens.isoformat()}
                occurrence = f"{year}/opens/-{lead}d"
                due.append(
                    Fan("evaluation_opens", occurrence, moment, institution_query(), params)
                )
    return [*due, *await evaluation_results(config, window)]


async def evaluation_results(config: ReminderConfig, window: Window) -> list[Due]:
    """Each evaluated institution's representatives get its own published result (grade,
    stars, score, rank), at `send_at` on the day of publication or at once if later. One
    delivery row per (person, year): published once, told once."""
    send_at = config.evaluation.send_at
    runs = await EvaluationRun.filter(
        status=RunStatus.PUBLISHED,
        published_at__gte=window.start - timedelta(days=1),
        published_at__lte=window.end,
    )
    due: list[Due] = []
    for run in runs:
        assert run.published_at is not None
        local_day = run.published_at.astimezone(window.zone).date()
        moment = max(run.published_at, window.at(local_day, send_at))
        if not window.holds(moment):
            continue
        results = {
            r.organization_id: r
            for r in await Evaluation.filter(run_id=run.id).prefetch_related("organization")
        }
        members = await User.filter(
            status=UserStatus.ACTIVE,
            reachable=True,
            role=Role.INSTITUTION,
            organization_id__in=Subquery(
                Evaluation.filter(run_id=run.id).values("organization_id")
            ),
        ).order_by("id")
        for member in members:
            result = results[member.organization_id or 0]
            due.append(
                Due(
                    "evaluation_results",
                    f"{run.year}/result",
                    member.id,
                    moment,
                    {
                        "year": run.year,
                        "reference": run.reference,
                        "institution": result.organization.name,
                        "score": str(result.score),
                        "rank": result.rank,
                        "total": len(results),
                        "grade": result.grade.value,
                        "stars": result.stars,
                        "flagged": result.flagged_for_removal,
                    },
                )
            )
    return due


# --- record rules ---------------------------------------------------------------------


async def filing_report(config: ReminderConfig, window: Window) -> list[Due]:
    """Per engagement: before the filing report is due, overdue notices, then reviewers."""
    rule = config.filing_report
    span = rule.overdue_every_days * FILING_OVERDUE_NOTICES + rule.escalate_after_days
    days = window.local_days(before=span, after=max(rule.lead_days, default=0))
    open_filings = await Engagement.filter(
        filing_due__gte=days[0], filing_due__lte=days[-1], demand__status__in=list(FILED_OR_DONE)
    ).prefetch_related("demand", "institution")
    if not open_filings:
        return []
    reported = set(
        await Report.filter(
            kind=ReportKind.FILING, period__in=[str(e.id) for e in open_filings]
        ).values_list("period", flat=True)
    )
    due: list[Due] = []
    reviewers: list[int] | None = None
    for item in open_filings:
        if str(item.id) in reported or item.filing_due is None:
            continue
        deadline: date = item.filing_due
        params = {
            "engagement": item.id,
            "demand": item.demand_id,
            "reference": item.demand.reference,
            "title": item.demand.title,
            "institution": item.institution.name,
            "due": deadline.isoformat(),
        }
        notices = [
            (f"E{item.id}/-{lead}d", deadline - timedelta(days=lead)) for lead in rule.lead_days
        ]
        notices += [
            (
                f"E{item.id}/+{n * rule.overdue_every_days}d",
                deadline + timedelta(days=n * rule.overdue_every_days),
            )
            for n in range(1, FILING_OVERDUE_NOTICES + 1)
        ]
        for occurrence, day in notices:
            moment = window.at(day, rule.send_at)
            if window.holds(moment):
                ids = await people(PROVIDER_ROLES, [item.institution_id])
                due += _fan(
                    "filing_report", occurrence, moment, ids, overdue=day > deadline, **params
                )
        moment = window.at(deadline + timedelta(days=rule.escalate_after_days), rule.send_at)
        if window.holds(moment):
            reviewers = reviewers if reviewers is not None else await people([Role.REVIEWER])
            due += _fan("filing_overdue", f"E{item.id}", moment, reviewers, **params)
    return due


async def pending_reviews(config: ReminderConfig, window: Window) -> list[Due]:
    """A daily digest of reviews waiting past the SLA; the long-waiting ones to admins too.

    A digest tells the queue as it stands: after a pause of several days only the latest
    day's is sent, not one identical message per missed day."""
    rule = config.pending_reviews
    due: list[Due] = []
    held = [day for day in window.local_days() if window.holds(window.at(day, rule.send_at))]
    for day in held[-1:]:
        moment = window.at(day, rule.send_at)
        late = moment - timedelta(hours=rule.sla_hours)
        waiting = await Review.filter(status=ReviewStatus.PENDING, created_at__lte=late)
        by_stage: dict[str, int] = defaultdict(int)
        escalated = 0
        for item in waiting:
            by_stage[item.stage] += 1
            if item.created_at <= moment - timedelta(hours=rule.escalate_after_hours):
                escalated += 1
        for stage, count in sorted(by_stage.items()):
            ids = await people(REVIEW_STAGE_ROLES.get(stage, (Role.ADMIN,)))
            due += _fan(
                "pending_reviews",
                f"{day}/{stage}",
                moment,
                ids,
                count=count,
                hours=rule.sla_hours,
            )
        if escalated:
            due += _fan(
                "pending_escalation",
                str(day),
                moment,
                await people([Role.ADMIN]),
                count=escalated,
                hours=rule.escalate_after_hours,
            )
    return due


async def feedback_requests(config: ReminderConfig, window: Window) -> list[Due]:
    """Completed engagements without feedback: asked again a day, then a week, after."""
    rule = config.feedback
    days = window.local_days(before=max(rule.after_days), after=0)
    done = await Engagement.filter(
        completed_at__gte=window.at(days[0], time(0)) - timedelta(days=1),
        completed_at__lte=window.end,
        demand__status=DemandStatus.COMPLETED,
    ).prefetch_related("demand")
    rated = set(
        await Feedback.filter(engagement_id__in=[e.id for e in done]).values_list(
            "engagement_id", flat=True
        )
    )
    due: list[Due] = []
    for item in done:
        if item.id in rated or item.completed_at is None:
            continue
        completed = item.completed_at.astimezone(window.zone).date()
        for after in rule.after_days:
            moment = window.at(completed + timedelta(days=after), rule.send_at)
            if window.holds(moment):
                ids = [u.id for u in await engagements.owner_side_users(item.demand)]
                due += _fan(
                    "feedback",
                    f"D{item.demand_id}/+{after}d",
                    moment,
                    ids,
                    demand=item.demand_id,
                    reference=item.demand.reference,
                    title=item.demand.title,
                )
    return due


async def demand_expiry(config: ReminderConfig, window: Window) -> list[Due]:
    """Published demands without a match, a few days before their wanted-by date."""
    rule = config.demand_expiry
    days = window.local_days(after=max(rule.lead_days, default=0))
    soon = await Demand.filter(
        status=DemandStatus.PUBLISHED, wanted_by__gte=days[0], wanted_by__lte=days[-1]
    )
    due: list[Due] = []
    for demand in soon:
        for lead in rule.lead_days:
            moment = window.at(demand.wanted_by - timedelta(days=lead), rule.send_at)
            if window.holds(moment):
                ids = [u.id for u in await engagements.owner_side_users(demand)]
                due += _fan(
                    "demand_expiry",
                    f"D{demand.id}/-{lead}d",
                    moment,
                    ids,
                    demand=demand.id,
                    reference=demand.reference,
                    title=demand.title,
                    wanted_by=demand.wanted_by.isoformat(),
                )
    return due


Compute = Callable[[ReminderConfig, Window], Awaitable[Sequence[Due | Fan]]]
# Config section -> its computation; the messages each produces are named by Due.rule.
RULES: dict[str, Compute] = {
    "service_meeting": service_meeting,
    "annual_report": annual_report,
    "filing_report": filing_report,
    "evaluation": evaluation,
    "pending_reviews": pending_reviews,
    "feedback": feedback_requests,
    "demand_expiry": demand_expiry,
}


async def plan_between(
    config: ReminderConfig, zone: ZoneInfo, start: datetime, end: datetime
) -> tuple[list[Due], list[Fan]]:
    """What the enabled rules call for between two moments: items one person each, and
    fan-outs to whole audiences, which the engine records in the database in one statement."""
    window = Window(start.astimezone(UTC), end.astimezone(UTC), zone)
    dues: list[Due] = []
    fans: list[Fan] = []
    for section, compute in RULES.items():
        if getattr(config, section).enabled:
            for item in await compute(config, window):
                if isinstance(item, Fan):
                    fans.append(item)
                else:
                    dues.append(item)
    return dues, fans


async def due_between(
    config: ReminderConfig, zone: ZoneInfo, start: datetime, end: datetime
) -> list[Due]:
    """Everything the enabled rules call for between two moments, one item per person, in
    time order (the preview; the engine records fan-outs whole, `plan_between`)."""
    found, fans = await plan_between(config, zone, start, end)
    for fan in fans:
        found += _fan(
            fan.rule, fan.occurrence, fan.due_at, await ids_of(fan.audience), **fan.params
        )
    return sorted(found, key=lambda d: (d.due_at, d.rule, d.occurrence, d.recipient_id))
