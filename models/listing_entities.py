"""Tortoise models of the resource catalogue (issue 9): listings, enquiries and bookings.

Services and instruments of institutions, achievements of research teams (DESIGN §2,
Listing), reviewed before they are shown (Rugao art. 11, 15). New tables only: the
catalogue hangs on organisations, users and demands without altering them. No semicolons
or apostrophes in model docstrings (they become table comments, see DEVELOPERS.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.demand_entities import Demand
from models.entities import Organization, User


class ListingKind(StrEnum):
    """Three kinds of supply (issue 9, item 1)."""

    SERVICE = "service"
    INSTRUMENT = "instrument"
    ACHIEVEMENT = "achievement"


class ListingStatus(StrEnum):
    """Where a listing stands: only published ones are in the catalogue."""

    SUBMITTED = "submitted"  # first review under way
    REJECTED = "rejected"  # may be edited and submitted again
    PUBLISHED = "published"
    HIDDEN = "hidden"  # taken out of the catalogue by its owner, may come back
    RETIRED = "retired"  # for good


class RequestStatus(StrEnum):
    """An enquiry or booking, as the owner answers it."""

    PENDING = "pending"
    COUNTERED = "countered"  # the owner proposed another slot, the requester decides
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class BookingOutcome(StrEnum):
    """What the manager recorded after the slot: no-shows and overlong bookings are
    violations, and repeated ones block booking for a while (DESIGN §2)."""

    USED = "used"
    NO_SHOW = "no_show"
    OVERLONG = "overlong"


VIOLATIONS = (BookingOutcome.NO_SHOW, BookingOutcome.OVERLONG)


class Listing(Model):
    """A service, instrument or achievement offered in the catalogue."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ListingKind, max_length=16)
    owner: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="listings", on_delete=fields.RESTRICT
    )
    owner_id: int
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="listings_written", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    status = fields.CharEnumField(ListingStatus, max_length=16, default=ListingStatus.SUBMITTED)
    title = fields.CharField(max_length=60)
    category = fields.CharField(max_length=24)
    township = fields.CharField(max_length=24, null=True)
    # The answers of the kind (fee basis, model, open hours, maturity, patents, ...).
    details: dict[str, Any] = fields.JSONField(default=dict)
    attachments: list[dict[str, Any]] = fields.JSONField(default=list)
    # An edit of a published listing waiting for review: the shown version stays as it is.
    pending: dict[str, Any] | None = fields.JSONField(null=True)
    # Lower-cased title, answers, category labels and owner name, for substring search.
    search_text = fields.TextField(default="")
    published_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "listings"
        # (status, id): a search walks the published listings newest first and stops early.
        indexes = (("status", "kind", "category"), ("status", "township"), ("status", "id"))

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this listing."""
        return f"L{self.created_at.year}-{self.id:06d}"


class Enquiry(Model):
    """An enquiry of an enterprise about a service or achievement, answered by its owner."""

    id = fields.IntField(primary_key=True)
    listing: fields.ForeignKeyRelation[Listing] = fields.ForeignKeyField(
        "models.Listing", related_name="enquiries", on_delete=fields.CASCADE
    )
    listing_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="enquiries", on_delete=fields.CASCADE
    )
    user_id: int
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="enquiries", on_delete=fields.CASCADE
    )
    organization_id: int
    message = fields.CharField(max_length=1000)
    status = fields.CharEnumField(RequestStatus, max_length=16, default=RequestStatus.PENDING)
    reason = fields.CharField(max_length=300, null=True)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="enquiries_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    # The demand, already matched, that an accepted enquiry became.
    demand: fields.ForeignKeyNullableRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="enquiries", null=True, on_delete=fields.SET_NULL
    )
    demand_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "listing_enquiries"

    @property
    def reference(self) -> str:
        """Reference code of the enquiry."""
        return f"Q{self.created_at.year}-{self.id:06d}"


class Booking(Model):
    """A booking of a shared instrument (Shenyang art. 10), answered by its manager."""

    id = fields.IntField(primary_key=True)
    listing: fields.ForeignKeyRelation[Listing] = fields.ForeignKeyField(
        "models.Listing", related_name="bookings", on_delete=fields.CASCADE
    )
    listing_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="bookings", on_delete=fields.CASCADE
    )
    user_id: int
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="bookings", on_delete=fields.CASCADE
    )
    organization_id: int
    mode = fields.CharField(max_length=8)  # onsite (自测) or sample (送样)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    purpose = fields.CharField(max_length=500)
    status = fields.CharEnumField(RequestStatus, max_length=16, default=RequestStatus.PENDING)
    # A slot the manager proposed instead of the asked one.
    counter_starts_at = fields.DatetimeField(null=True)
    counter_ends_at = fields.DatetimeField(null=True)
    # Shenyang art. 10: a refusal needs a reason (counted in the evaluation).
    reason = fields.CharField(max_length=300, null=True)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="bookings_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    demand: fields.ForeignKeyNullableRelation[Demand] = fields.ForeignKeyField(
        "models.Demand", related_name="bookings", null=True, on_delete=fields.SET_NULL
    )
    demand_id: int | None
    outcome = fields.CharEnumField(BookingOutcome, max_length=16, null=True)
    outcome_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "listing_bookings"
        indexes = (("listing_id", "starts_at"),)

    @property
    def reference(self) -> str:
        """Reference code of the booking."""
        return f"B{self.created_at.year}-{self.id:06d}"


class InstrumentTraining(Model):
    """A user trained by the manager of an instrument that requires it before on-site use."""

    id = fields.IntField(primary_key=True)
    listing: fields.ForeignKeyRelation[Listing] = fields.ForeignKeyField(
        "models.Listing", related_name="trainings", on_delete=fields.CASCADE
    )
    listing_id: int
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="trainings", on_delete=fields.CASCADE
    )
    user_id: int
    trained_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="trainings_given", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "instrument_trainings"
        unique_together = (("listing", "user"),)
