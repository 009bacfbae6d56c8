"""Tortoise models of the annual evaluation of institutions (Jiangsu art. 26-30, Shanghai
art. 22-23, Rugao art. 20, Keqiao 4(3)-(4)).

One run per year: computed (a draft an admin may recompute), then under public notice, then
published. One result per institution and year, with the indicator values it was computed
from, so a published grade can always be explained. New tables only (DEVELOPERS.md).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.entities import Organization, User


class RunStatus(StrEnum):
    """computed -> notice -> published; computed may be recomputed, nothing after."""

    COMPUTED = "computed"
    NOTICE = "notice"
    PUBLISHED = "published"


class Grade(StrEnum):
    """Jiangsu art. 26: 优秀/良好/合格/不合格; Shanghai art. 22: 优秀/良好/一般/不合格."""

    EXCELLENT = "excellent"
    GOOD = "good"
    QUALIFIED = "qualified"  # 合格 (Jiangsu)
    ORDINARY = "ordinary"  # 一般 (Shanghai)
    UNQUALIFIED = "unqualified"


class EvaluationRun(Model):
    """The evaluation of one year: the scheme and weights it used, and how far it has gone."""

    id = fields.IntField(primary_key=True)
    year = fields.SmallIntField(unique=True)
    status = fields.CharEnumField(RunStatus, max_length=16, default=RunStatus.COMPUTED)
    scheme = fields.CharField(max_length=16)  # "shanghai" (quotas) or "jiangsu" (scores)
    weights: dict[str, Any] = fields.JSONField(default=dict)
    computed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="evaluations_computed", null=True, on_delete=fields.SET_NULL
    )
    computed_at: datetime = fields.DatetimeField()
    notice_ends_on: date | None = fields.DateField(null=True)
    published_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "evaluation_runs"

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this evaluation."""
        return f"E{self.year}"


class Evaluation(Model):
    """The result of one institution in the evaluation of one year."""

    id = fields.IntField(primary_key=True)
    run: fields.ForeignKeyRelation[EvaluationRun] = fields.ForeignKeyField(
        "models.EvaluationRun", related_name="results", on_delete=fields.CASCADE
    )
    run_id: int
    year = fields.SmallIntField()
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="evaluations", on_delete=fields.CASCADE
    )
    organization_id: int
    # Raw indicator values and their 0-100 scores, e.g. {"volume": {"value": 12, "score": 80}}.
    indicators: dict[str, Any] = fields.JSONField(default=dict)
    score: Decimal = fields.DecimalField(max_digits=5, decimal_places=2)
    rank = fields.IntField()
    grade = fields.CharEnumField(Grade, max_length=16)
    stars = fields.SmallIntField()
    # Not qualified this year and the year before (Shanghai art. 23, Keqiao 4(4)).
    flagged_for_removal = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "evaluations"
        unique_together = (("year", "organization_id"),)
