"""Tortoise models for the walking skeleton: users, organisations, registrations, reviews.

Times are stored in UTC (Tortoise use_tz); the platform's zone is applied when rendering.
Model docstrings become table comments in the migrations, and Tortoise's SQLite schema
editor splits DDL at semicolons: keep semicolons and apostrophes out of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.crypto import EncryptedCharField


class Role(StrEnum):
    """What a user is on the platform (DESIGN §1)."""

    ENTERPRISE = "enterprise"
    RESEARCH = "research"
    INSTITUTION = "institution"
    ASSISTANT = "assistant"
    REVIEWER = "reviewer"
    PUBLISHER = "publisher"
    ADMIN = "admin"


# Roles a person may choose when registering; the others come only from invites or config.
SELF_SERVICE_ROLES = (Role.ENTERPRISE, Role.RESEARCH, Role.INSTITUTION)
STAFF_ROLES = (Role.REVIEWER, Role.PUBLISHER, Role.ASSISTANT, Role.ADMIN)
# Who may offer help on a demand and serve it (DESIGN §1): service institutions and
# university research teams. The data model calls either side "institution".
PROVIDER_ROLES = frozenset({Role.INSTITUTION, Role.RESEARCH})


class UserStatus(StrEnum):
    """Account status: only active accounts can act (Rugao art. 10, Shenyang art. 14)."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    # Anonymised at their request (/forget): the row keeps the platform statistics whole.
    FORGOTTEN = "forgotten"


class OrgKind(StrEnum):
    """Kind of organisation behind a registration."""

    ENTERPRISE = "enterprise"
    RESEARCH = "research"
    INSTITUTION = "institution"


class OrgStatus(StrEnum):
    """Organisation status: pending until its first registration is approved."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class InstitutionTier(StrEnum):
    """Institution tiers (Shenyang art. 7): new institutions start cultivating."""

    CULTIVATING = "cultivating"
    SERVICE = "service"
    VOUCHER = "voucher"


class RegistrationStatus(StrEnum):
    """Where a registration application stands."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the applicant asked to be forgotten while it waited


class ReviewStatus(StrEnum):
    """One review decision: waiting, approved or rejected."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # the record was withdrawn before anyone decided


class User(Model):
    """A Telegram user known to the bot, keyed by the Telegram user id."""

    id = fields.BigIntField(primary_key=True, generated=False)
    first_name = fields.CharField(max_length=128, default="")
    username = fields.CharField(max_length=64, null=True)
    language_code = fields.CharField(max_length=16, null=True)
    locale = fields.CharField(
        max_length=8, null=True
    )  # chosen with /language; wins over the above
    role = fields.CharEnumField(Role, max_length=16, null=True)
    status = fields.CharEnumField(UserStatus, max_length=16, default=UserStatus.PENDING)
    real_name = fields.CharField(max_length=64, null=True)
    phone = EncryptedCharField(null=True)  # E.164, encrypted at rest (models/crypto.py)
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    organization_id: int | None
    township = fields.CharField(max_length=24, null=True)
    # Telegram lets a bot write only to people who started it and have not blocked it since.
    reachable = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"


class Organization(Model):
    """An enterprise, research team or service institution."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    kind = fields.CharEnumField(OrgKind, max_length=16)
    credit_code = fields.CharField(max_length=18, null=True, unique=True)
    township = fields.CharField(max_length=24, null=True)
    service_fields: list[str] = fields.JSONField(default=list)
    tier = fields.CharEnumField(InstitutionTier, max_length=16, null=True)
    status = fields.CharEnumField(OrgStatus, max_length=16, default=OrgStatus.PENDING)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organizations"


class Registration(Model):
    """One registration application, as submitted. A rejected one stays as history."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="registrations", on_delete=fields.CASCADE
    )
    user_id: int
    role = fields.CharEnumField(Role, max_length=16)
    real_name = fields.CharField(max_length=64)
    phone = EncryptedCharField()  # E.164, encrypted at rest (models/crypto.py)
    org_name = fields.CharField(max_length=100)
    credit_code = fields.CharField(max_length=18, null=True)
    township = fields.CharField(max_length=24, null=True)
    service_fields: list[str] = fields.JSONField(default=list)
    status = fields.CharEnumField(
        RegistrationStatus, max_length=16, default=RegistrationStatus.SUBMITTED
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "registrations"

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this application."""
        return f"R{self.created_at.year}-{self.id:06d}"


class Review(Model):
    """One decision at one stage on one record (DESIGN §2: Review)."""

    id = fields.IntField(primary_key=True)
    subject_type = fields.CharField(max_length=24)
    subject_id = fields.IntField()
    stage = fields.CharField(max_length=16)
    # A record reviewed again (a rejected demand, edited and resubmitted) starts a new round.
    round = fields.SmallIntField(default=1)
    status = fields.CharEnumField(ReviewStatus, max_length=16, default=ReviewStatus.PENDING)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="decisions", null=True, on_delete=fields.SET_NULL
    )
    reason = fields.CharField(max_length=500, null=True)
    # Items of the publishing checklist (Rugao art. 15) ticked so far, for demands and listings.
    checklist: list[str] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reviews"
        unique_together = (("subject_type", "subject_id", "stage", "round"),)


class ReviewCard(Model):
    """A copy of a review card sent to one reviewer, so every copy can be edited later."""

    id = fields.IntField(primary_key=True)
    review: fields.ForeignKeyRelation[Review] = fields.ForeignKeyField(
        "models.Review", related_name="cards", on_delete=fields.CASCADE
    )
    review_id: int
    reviewer_id = fields.BigIntField()
    message_id = fields.BigIntField()
    # The checklist items this reviewer has ticked on their copy (each attests for themself).
    checklist: list[str] = fields.JSONField(default=list)

    class Meta:
        table = "review_cards"
        unique_together = (("review", "reviewer_id"),)


class Invite(Model):
    """A single-use, expiring deep link into a staff role."""

    id = fields.IntField(primary_key=True)
    token = fields.CharField(max_length=48, unique=True)
    role = fields.CharEnumField(Role, max_length=16)
    township = fields.CharField(max_length=24, null=True)  # the township of an assistant
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invites_created", on_delete=fields.CASCADE
    )
    expires_at = fields.DatetimeField()
    used_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invites_used", null=True, on_delete=fields.SET_NULL
    )
    used_by_id: int | None
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "invites"


class AuditLog(Model):
    """Who did what to which record, when, with before/after (DESIGN §2)."""

    id = fields.BigIntField(primary_key=True)
    actor_id = fields.BigIntField(null=True)  # null: the system itself
    action = fields.CharField(max_length=48)
    subject_type = fields.CharField(max_length=24)
    subject_id = fields.CharField(max_length=48)
    before: dict[str, Any] | None = fields.JSONField(null=True)
    after: dict[str, Any] | None = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_log"


class Conversation(Model):
    """Conversation state and draft answers of one user in one chat, written per update."""

    key = fields.CharField(max_length=64, primary_key=True)
    flow = fields.CharField(max_length=32)
    state = fields.CharField(max_length=32)
    version = fields.IntField()
    data: dict[str, Any] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "conversations"
