"""Tortoise models of the demand lifecycle: demands, intents, engagements, feedback, complaints.

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


class DemandStatus(StrEnum):
    """Where a demand stands (DESIGN §2, Demand lifecycle)."""

    SUBMITTED = "submitted"
    REJECTED = "rejected"
    PUBLISHED = "published"
    MATCHED = "matched"
    CONTRACTED = "contracted"
    DELIVERED = "delivered"
    DISPUTED = "disputed"
    COMPLETED = "completed"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class IntentStatus(StrEnum):
    """An institution offer on a published demand."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CLOSED = "closed"  # another institution was accepted, or the demand left the market


class Outcome(StrEnum):
    """What the service achieved, in the owner's words."""

    SOLVED = "solved"
    PARTLY = "partly"
    NOT_SOLVED = "not_solved"


class ComplaintStatus(StrEnum):
    """A complaint waits for an admin, who upholds or dismisses it."""

    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Demand(Model):
    """A technical need of an enterprise, from submission to completion."""

    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="demands", on_delete=fields.RESTRICT
    )
    owner_id: int
    # The person who wrote it: an enterprise user, or an assistant relaying for the enterprise.
    submitted_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="submitted_demands", on_delete=fields.RESTRICT
    )
    submitted_by_id: int
    title = fields.CharField(max_length=60)
    category = fields.CharField(max_length=24)
    description = fields.TextField()
    budget = fields.CharField(max_length=16)
    wanted_by: date = fields.DateField()
    township = fields.CharField(max_length=24)
    attachments: list[dict[str, Any]] = fields.JSONField(default=list)
    status = fields.CharEnumField(DemandStatus, max_length=16, default=DemandStatus.SUBMITTED)
    matched_institution: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="matched_demands", null=True, on_delete=fields.RESTRICT
    )
    matched_institution_id: int | None
    published_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "demands"
        indexes = (("status", "category"), ("township", "status"))

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this demand."""
        return f"D{self.created_at.year}-{self.id:06d}"


class Intent(Model):
    """An offer of help by an institution on a published demand (one per institution)."""

    id = fields.IntField(primary_key=True)
    demand: fields.ForeignKeyRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="intents", on_delete=fields.CASCADE
    )
    demand_id: int
    institution: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="intents", on_delete=fields.RESTRICT
    )
    institution_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="intents", on_delete=fields.RESTRICT
    )
    user_id: int
    proposal = fields.CharField(max_length=500)
    quote = fields.DecimalField(max_digits=12, decimal_places=2, null=True)
    status = fields.CharEnumField(IntentStatus, max_length=16, default=IntentStatus.PENDING)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "intents"
        unique_together = (("demand", "institution"),)


class Engagement(Model):
    """A demand matched with an institution, with its filed contract and delivery."""

    id = fields.IntField(primary_key=True)
    demand: fields.OneToOneRelation[Demand] = fields.OneToOneField(
        "models.Demand", related_name="engagement", on_delete=fields.CASCADE
    )
    demand_id: int
    institution: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="engagements", on_delete=fields.RESTRICT
    )
    institution_id: int
    contract_file_id = fields.CharField(max_length=200, null=True)
    contract_sha256 = fields.CharField(max_length=64, null=True)
    # "document" or "photo": Telegram sends a file back only by the method it came in with.
    contract_kind = fields.CharField(max_length=8, null=True)
    amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    signed_on: date | None = fields.DateField(null=True)
    voucher = fields.BooleanField(default=False)
    # Keqiao 1(4): the filing report is due one month after signing (the scheduler reminds).
    filing_due: date | None = fields.DateField(null=True)
    filed_by_id = fields.BigIntField(null=True)
    filed_at: datetime | None = fields.DatetimeField(null=True)
    delivered_at: datetime | None = fields.DatetimeField(null=True)
    completed_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "engagements"


class Feedback(Model):
    """The owner rating of a completed engagement (Rugao art. 12(4))."""

    id = fields.IntField(primary_key=True)
    engagement: fields.OneToOneRelation[Engagement] = fields.OneToOneField(
        "models.Engagement", related_name="feedback", on_delete=fields.CASCADE
    )
    engagement_id: int
    user_id = fields.BigIntField()
    overall = fields.SmallIntField()
    quality = fields.SmallIntField()
    timeliness = fields.SmallIntField()
    professionalism = fields.SmallIntField()
    outcome = fields.CharEnumField(Outcome, max_length=16)
    comment = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "feedback"


class Complaint(Model):
    """A complaint about an institution (Jiangsu art. 31), decided by an admin."""

    id = fields.IntField(primary_key=True)
    complainant: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="complaints", on_delete=fields.RESTRICT
    )
    complainant_id: int
    institution: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="complaints", on_delete=fields.RESTRICT
    )
    institution_id: int
    demand: fields.ForeignKeyNullableRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="complaints", null=True, on_delete=fields.SET_NULL
    )
    demand_id: int | None
    text = fields.CharField(max_length=1000)
    status = fields.CharEnumField(ComplaintStatus, max_length=16, default=ComplaintStatus.OPEN)
    decided_by_id = fields.BigIntField(null=True)
    decided_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "complaints"

    @property
    def reference(self) -> str:
        """Reference code of the complaint."""
        return f"C{self.created_at.year}-{self.id:06d}"
