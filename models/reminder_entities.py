"""Tortoise models of the reminders (DESIGN §4): deliveries, meeting answers, submitted reports.

Same rules as models/entities.py: times in UTC, and no semicolons or apostrophes in model
docstrings (they become table comments and Tortoise splits SQLite DDL at semicolons).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.entities import Organization, User


class DeliveryState(StrEnum):
    """Where one reminder to one person stands."""

    PENDING = "pending"  # due, nobody has claimed it yet
    CLAIMED = "claimed"  # a sender holds it until lease_until
    SENT = "sent"
    RETRY = "retry"  # failed for now, tried again from lease_until
    FAILED = "failed"  # given up, the reason is in error
    UNREACHABLE = "unreachable"  # the person blocked the bot (403)
    SKIPPED = "skipped"  # missed by more than the grace window, or no longer due


class ReminderDelivery(Model):
    """One reminder (rule, recipient, occurrence), claimed in the database before it is sent.

    The unique key makes every delivery once-only across processes and restarts. The row
    carries what the message quotes (params) so any worker can send it.
    """

    id = fields.BigIntField(primary_key=True)
    rule = fields.CharField(max_length=32)
    recipient_id = fields.BigIntField()  # a Telegram user id
    occurrence = fields.CharField(max_length=64)
    due_at = fields.DatetimeField()
    state = fields.CharEnumField(DeliveryState, max_length=16, default=DeliveryState.PENDING)
    attempts = fields.IntField(default=0)
    claimed_by = fields.CharField(max_length=32, null=True)
    # The claim lease while CLAIMED, the time of the next attempt while RETRY.
    lease_until: datetime | None = fields.DatetimeField(null=True)
    sent_at: datetime | None = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=200, null=True)
    params: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reminder_deliveries"
        unique_together = (("rule", "recipient_id", "occurrence"),)
        indexes = (("state", "lease_until"), ("rule", "occurrence"))


class MeetingRsvp(Model):
    """An answer to the invitation to a quarterly service meeting (Keqiao 4(5))."""

    id = fields.IntField(primary_key=True)
    meeting: date = fields.DateField()
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="rsvps", on_delete=fields.CASCADE
    )
    user_id: int
    attending = fields.BooleanField()
    answered_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "meeting_rsvps"
        unique_together = (("meeting", "user"),)


class ReportKind(StrEnum):
    """Reports an institution owes the platform."""

    ANNUAL = "annual"  # Shanghai art. 20, period is the year reported on
    FILING = "filing"  # Keqiao 1(4), period is the engagement id


class Report(Model):
    """A report document an institution submitted, which stops its reminders."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ReportKind, max_length=16)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="reports", on_delete=fields.RESTRICT
    )
    organization_id: int
    period = fields.CharField(max_length=24)
    file_id = fields.CharField(max_length=255)
    file_name = fields.CharField(max_length=255, default="")
    sha256 = fields.CharField(max_length=64)
    submitted_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reports", on_delete=fields.RESTRICT
    )
    submitted_by_id: int
    submitted_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reports"
        unique_together = (("kind", "organization", "period"),)
