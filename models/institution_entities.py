"""Tortoise models of institution tiers and sanctions (Shenyang art. 7, Rugao art. 21).

The tier and status themselves stay on the organisation row. These tables keep what led
to them: a promotion to the voucher tier under public notice, the objections raised during
the notice, and each suspension, revocation or reinstatement with its reason. New tables
only (DEVELOPERS.md: altering an existing table on SQLite rebuilds it).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.entities import InstitutionTier, Organization, User


class PromotionStatus(StrEnum):
    """A promotion under public notice (公示) and how it ended."""

    NOTICE = "notice"
    EFFECTIVE = "effective"
    CANCELLED = "cancelled"


class ObjectionStatus(StrEnum):
    """An objection raised during a notice, and the admin decision on it."""

    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class SanctionKind(StrEnum):
    """What an admin did to an institution status (Rugao art. 21)."""

    SUSPEND = "suspend"
    REVOKE = "revoke"
    REINSTATE = "reinstate"


class TierPromotion(Model):
    """A promotion to a tier that takes effect only after a public notice without objection."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="promotions", on_delete=fields.CASCADE
    )
    organization_id: int
    from_tier = fields.CharEnumField(InstitutionTier, max_length=16)
    to_tier = fields.CharEnumField(InstitutionTier, max_length=16)
    status = fields.CharEnumField(PromotionStatus, max_length=16, default=PromotionStatus.NOTICE)
    proposed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="promotions_proposed", null=True, on_delete=fields.SET_NULL
    )
    notice_ends_on = fields.DateField()  # the first day on which it may take effect
    created_at = fields.DatetimeField(auto_now_add=True)
    settled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "tier_promotions"

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this notice."""
        return f"P{self.created_at.year}-{self.id:06d}"


class TierObjection(Model):
    """An objection of a registered user to a promotion under notice."""

    id = fields.IntField(primary_key=True)
    promotion: fields.ForeignKeyRelation[TierPromotion] = fields.ForeignKeyField(
        "models.TierPromotion", related_name="objections", on_delete=fields.CASCADE
    )
    promotion_id: int
    objector: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="objections", on_delete=fields.CASCADE
    )
    objector_id: int
    reason = fields.CharField(max_length=500)
    status = fields.CharEnumField(ObjectionStatus, max_length=16, default=ObjectionStatus.OPEN)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="objections_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tier_objections"

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this objection."""
        return f"O{self.created_at.year}-{self.id:06d}"


class Sanction(Model):
    """A suspension, revocation or reinstatement of an institution, with reason and note."""

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="sanctions", on_delete=fields.CASCADE
    )
    organization_id: int
    kind = fields.CharEnumField(SanctionKind, max_length=16)
    reason_code = fields.CharField(max_length=24, null=True)  # Rugao art. 21 items, or other
    reason = fields.CharField(max_length=500, null=True)  # the free reason of other
    note = fields.CharField(max_length=500, default="")
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sanctions_made", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sanctions"
