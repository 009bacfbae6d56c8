"""The reminder rules of DESIGN §4 as configured in the TOML file (`[reminders]`).

Each rule can be switched off and has its calendar, lead days and audience. Bad entries stop
start-up naming the key: pydantic reports the path (`reminders.annual_report.due`) and the
reason (an impossible date such as 02-30, a negative lead day, an unknown rule key).
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.entities import Role

LeadDays = Annotated[list[Annotated[int, Field(ge=0, le=366)]], Field(max_length=10)]


def check_month_day(raw: str) -> str:
    """A yearly date written MM-DD that exists in every year (02-29 does not)."""
    try:
        date.fromisoformat(f"2023-{raw}")  # not a leap year
    except (TypeError, ValueError):
        message = f"{raw!r} is not a date of every year, write MM-DD such as 03-31"
        raise ValueError(message) from None
    return raw


def on_day(year: int, month_day: str) -> date:
    """The date of a configured MM-DD in a year."""
    month, day = month_day.split("-")
    return date(year, int(month), int(day))


class Rule(BaseModel):
    """What every rule has: on/off and the local time of day its messages go out."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    send_at: time = time(9, 0)


class MeetingRule(Rule):
    """Quarterly service meeting (Keqiao 4(5)): invitation with RSVP buttons, then a summary."""

    # Cron fields of the meeting itself (APScheduler CronTrigger): by default the last
    # Friday of each quarter at 14:30.
    month: str = "3,6,9,12"
    day: str = "last fri"
    hour: int = Field(default=14, ge=0, le=23)
    minute: int = Field(default=30, ge=0, le=59)
    lead_days: LeadDays = Field(default_factory=lambda: [7, 1])
    audience: list[Role] = Field(
        default_factory=lambda: [Role.INSTITUTION, Role.ASSISTANT, Role.REVIEWER], min_length=1
    )
    # Admins get the answers so far this many days before the meeting.
    summary_lead_days: int = Field(default=1, ge=0, le=60)

    @model_validator(mode="after")
    def _valid_calendar(self) -> MeetingRule:
        try:
            self.trigger("UTC")
        except ValueError as problem:
            raise ValueError(f"meeting calendar: {problem}") from None
        return self

    def trigger(self, zone: str) -> CronTrigger:
        """The meetings as an APScheduler trigger in the platform's zone."""
        return CronTrigger(
            month=self.month, day=self.day, hour=self.hour, minute=self.minute, timezone=zone
        )


class AnnualReportRule(Rule):
    """Annual report (Shanghai art. 20): due every year on `due` for the year before."""

    due: str = "03-31"
    lead_days: LeadDays = Field(default_factory=lambda: [30, 7, 1])
    overdue_every_days: int = Field(default=7, ge=1, le=90)

    @field_validator("due")
    @classmethod
    def _every_year(cls, raw: str) -> str:
        return check_month_day(raw)


class FilingReportRule(Rule):
    """Filing report one month after signing (Keqiao 1(4)); overdue goes to reviewers too."""

    lead_days: LeadDays = Field(default_factory=lambda: [7, 1])
    overdue_every_days: int = Field(default=7, ge=1, le=90)
    escalate_after_days: int = Field(default=1, ge=0, le=365)


class EvaluationRule(Rule):
    """Annual evaluation notices (Shanghai art. 22, Jiangsu art. 25): the opening, announced
    ahead; the results go to each institution when an admin's run is published."""

    opens: str = "01-15"
    lead_days: LeadDays = Field(default_factory=lambda: [7])

    @field_validator("opens")
    @classmethod
    def _every_year(cls, raw: str) -> str:
        return check_month_day(raw)


class PendingReviewRule(Rule):
    """Reviews waiting past the SLA: a daily digest to reviewers, then to admins."""

    sla_hours: int = Field(default=48, ge=1, le=24 * 30)
    escalate_after_hours: int = Field(default=120, ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _escalation_after_sla(self) -> PendingReviewRule:
        if self.escalate_after_hours <= self.sla_hours:
            raise ValueError("escalate_after_hours must be longer than sla_hours")
        return self


class FeedbackRule(Rule):
    """Feedback requests after completion until given (Rugao art. 12(4))."""

    after_days: LeadDays = Field(default_factory=lambda: [1, 7], min_length=1)


class ExpiryRule(Rule):
    """Notices before a published demand without a match expires."""

    lead_days: LeadDays = Field(default_factory=lambda: [3])


class ReminderConfig(BaseModel):
    """The reminder engine and its rules (`[reminders]` and `[reminders.<rule>]`)."""

    model_config = ConfigDict(extra="forbid")

    tick_seconds: int = Field(default=60, ge=5, le=3600)
    # Missed occurrences younger than this are still sent after downtime; older are skipped.
    grace_hours: int = Field(default=36, ge=1, le=24 * 14)
    # A claim holds this long, renewed just before each message. Keep it well above the
    # longest wait of one send (a 429's retry_after, waited up to three times by the rate
    # limiter): a lease that runs out during a send lets another sender send the row too.
    lease_seconds: int = Field(default=300, ge=5, le=3600)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    # Reminders per second to all chats together; replies to people keep the rest of
    # Telegram's overall rate (about 30, bot/retrying.py caps everything at 28).
    rate_per_second: int = Field(default=25, ge=1, le=28)
    max_attempts: int = Field(default=6, ge=1, le=20)

    service_meeting: MeetingRule = Field(default_factory=MeetingRule)
    annual_report: AnnualReportRule = Field(default_factory=AnnualReportRule)
    filing_report: FilingReportRule = Field(default_factory=FilingReportRule)
    evaluation: EvaluationRule = Field(default_factory=EvaluationRule)
    pending_reviews: PendingReviewRule = Field(default_factory=PendingReviewRule)
    feedback: FeedbackRule = Field(default_factory=FeedbackRule)
    demand_expiry: ExpiryRule = Field(default_factory=ExpiryRule)

    @model_validator(mode="after")
    def _grace_outlasts_quiet_hours(self) -> ReminderConfig:
        # A message due just as quiet hours begin waits until they end: it must still be
        # within the grace window then, or quiet hours would silently drop it.
        start = self.quiet_start.hour * 60 + self.quiet_start.minute
        end = self.quiet_end.hour * 60 + self.quiet_end.minute
        quiet_minutes = (end - start) % (24 * 60)
        if self.grace_hours * 60 <= quiet_minutes + 60:
            raise ValueError("grace_hours must exceed the quiet hours by more than an hour")
        return self

    def is_quiet(self, local: time) -> bool:
        """Whether a local time of day falls in quiet hours (which may span midnight)."""
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end
