"""Tortoise model of innovation vouchers (创新券; Shenyang art. 7, Jiangsu art. 22, 30).

A voucher is asked for by an enterprise for one engagement with a voucher-tier institution,
granted (an amount) by a reviewer, and redeemed by the institution after completion and
feedback (Rugao art. 12(4)). The ledger per enterprise and institution and year is the sum
of these rows; the yearly caps are checked against it. New table only (DEVELOPERS.md).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.demand_entities import Engagement
from models.entities import Organization, User


class VoucherStatus(StrEnum):
    """applied -> granted | refused; granted -> redeem_requested -> redeemed | granted (refused
    redemption goes back to granted with its reason); applied | granted -> withdrawn."""

    APPLIED = "applied"
    GRANTED = "granted"
    REFUSED = "refused"
    REDEEM_REQUESTED = "redeem_requested"
    REDEEMED = "redeemed"
    WITHDRAWN = "withdrawn"


class Voucher(Model):
    """One innovation voucher for one engagement."""

    id = fields.IntField(primary_key=True)
    engagement: fields.ForeignKeyRelation[Engagement] = fields.ForeignKeyField(
        "models.Engagement", related_name="vouchers", on_delete=fields.CASCADE
    )
    engagement_id: int
    # Copied from the engagement so the ledger is one indexed query per side and year.
    enterprise: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="vouchers_used", on_delete=fields.CASCADE
    )
    enterprise_id: int
    institution: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="vouchers_served", on_delete=fields.CASCADE
    )
    institution_id: int
    year = fields.SmallIntField()  # the budget year the caps count it in
    applicant: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="vouchers_applied", null=True, on_delete=fields.SET_NULL
    )
    purpose = fields.CharField(max_length=500)
    amount_requested: Decimal = fields.DecimalField(max_digits=14, decimal_places=2)
    amount_granted: Decimal | None = fields.DecimalField(
        max_digits=14, decimal_places=2, null=True
    )
    status = fields.CharEnumField(VoucherStatus, max_length=16, default=VoucherStatus.APPLIED)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="vouchers_decided", null=True, on_delete=fields.SET_NULL
    )
    decided_at: datetime | None = fields.DatetimeField(null=True)
    reason = fields.CharField(max_length=500, null=True)  # of a refusal, of either step
    redeem_requested_at: datetime | None = fields.DatetimeField(null=True)
    redeemed_at: datetime | None = fields.DatetimeField(null=True)
    redeemed_on: date | None = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "vouchers"
        indexes = (("enterprise_id", "year"), ("institution_id", "year"), ("status",))

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this voucher."""
        return f"V{self.created_at.year}-{self.id:06d}"
