"""Reports institutions owe (which stop their reminders) and answers to meeting invitations.

Shanghai art. 20: a yearly report, here due on the configured date for the year before.
Keqiao 1(4): a filing report within one month of signing. Keqiao 4(5): a quarterly service
meeting, to which the configured audience answers attend or not.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from models import audit, demands, engagements, permissions
from models.demand_entities import Demand, Engagement
from models.entities import Organization, OrgKind, OrgStatus, User, UserStatus
from models.errors import AlreadyDecided, NotAllowed, NotFound, ValidationFailed
from models.reminder_config import ReminderConfig
from models.reminder_entities import MeetingRsvp, Report, ReportKind
from models.reminders import FILED_OR_DONE, meetings

REPORT_KINDS = (
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "image/jpeg",
    "image/png",
    "photo",
)


def annual_period(today: date) -> str:
    """The year an annual report submitted today is about: the year before."""
    return str(today.year - 1)


async def reporting_institution(user: User) -> Organization:
    """The active institution this user reports for."""
    permissions.require("report.annual", user)
    org = await Organization.get_or_none(id=user.organization_id)
    if org is None or org.kind is not OrgKind.INSTITUTION or org.status is not OrgStatus.ACTIVE:
        raise NotAllowed("report.not_institution")
    return org


async def _already(kind: ReportKind, org_id: int, period: str) -> None:
    done = await Report.get_or_none(kind=kind, organization_id=org_id, period=period)
    if done is not None:
        raise AlreadyDecided("report.already", when=done.submitted_at.date().isoformat())


async def may_report_annual(user: User, today: date) -> Organization:
    """The institution, if it still owes the annual report of last year."""
    org = await reporting_institution(user)
    await _already(ReportKind.ANNUAL, org.id, annual_period(today))
    return org


async def may_report_filing(demand_id: int, user: User) -> tuple[Demand, Engagement]:
    """The demand and engagement, if this user's institution owes its filing report."""
    demand, engagement = await engagements.engagement_of(demand_id)
    related = engagements.is_institution_side(user, engagement)
    permissions.require("report.filing", user, related=related)
    if demand.status not in FILED_OR_DONE or engagement.filing_due is None:
        raise NotAllowed("report.not_filed", reference=demand.reference)
    await _already(ReportKind.FILING, engagement.institution_id, str(engagement.id))
    return demand, engagement


def check_report_file(kind: str, size: int | None) -> None:
    """A report is a PDF, a Word document or an image a bot can download (at most 20 MB)."""
    if kind not in REPORT_KINDS:
        raise ValidationFailed("report.file_kind")
    demands.check_file_size(size)


async def submit(
    user: User,
    kind: ReportKind,
    *,
    today: date,
    demand_id: int | None,
    file_id: str,
    file_name: str,
    sha256: str,
) -> Report:
    """Store the report; its reminders stop because the rules no longer find it owing."""
    if kind is ReportKind.ANNUAL:
        org = await may_report_annual(user, today)
        org_id, period, subject = org.id, annual_period(today), ("organization", org.id)
    else:
        if demand_id is None:
            raise NotFound("demand.not_found")
        demand, engagement = await may_report_filing(demand_id, user)
        org_id, period = engagement.institution_id, str(engagement.id)
        subject = ("demand", demand.id)
    if len(sha256) != 64:
        raise ValidationFailed("report.file_kind")
    try:
        report = await Report.create(
            kind=kind,
            organization_id=org_id,
            period=period,
            file_id=file_id,
            file_name=file_name[:255],
            sha256=sha256,
            submitted_by_id=user.id,
        )
    except IntegrityError:  # a colleague submitted it at the same moment
        raise AlreadyDecided("report.already", when=today.isoformat()) from None
    await audit.record(
        user.id, f"report.{kind.value}", subject[0], subject[1], after={"period": period}
    )
    return report


async def answer_meeting(
    user: User, day: date, attending: bool, config: ReminderConfig, zone: ZoneInfo, now: datetime
) -> MeetingRsvp:
    """Record (or change) a person's answer to the invitation to the meeting on `day`."""
    rule = config.service_meeting
    if user.status is not UserStatus.ACTIVE or user.role not in rule.audience:
        raise NotAllowed("reminder.rsvp.not_invited")
    start = datetime.combine(day, datetime.min.time(), zone)
    found = meetings(config, zone, start, start + timedelta(days=1))
    if not found:
        raise NotFound("button.outdated")
    if found[0] < now:
        raise NotAllowed("reminder.rsvp.past")
    answer, _ = await MeetingRsvp.update_or_create(
        meeting=day, user_id=user.id, defaults={"attending": attending}
    )
    return answer
