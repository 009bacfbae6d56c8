"""The `[evaluation]` section of the platform TOML: how the annual evaluation scores and grades.

Indicators and their weights: Jiangsu art. 29 (service volume, response speed, service
credit, user rating). Grades: Jiangsu art. 26 (four grades by score) or Shanghai art. 22
(quotas). Stars: Rugao art. 20. Validated at start-up: a bad table is a clear error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

INDICATORS = ("volume", "response", "credit", "rating")


class Weights(BaseModel):
    """Weight of each indicator in percent; together exactly 100."""

    model_config = ConfigDict(extra="forbid")

    # Jiangsu-style default: the table of the Jiangsu measures gives service effectiveness
    # (开放服务成效) half the weight; here it is split between volume and rating.
    volume: int = Field(default=30, ge=0, le=100)
    response: int = Field(default=20, ge=0, le=100)
    credit: int = Field(default=20, ge=0, le=100)
    rating: int = Field(default=30, ge=0, le=100)

    @model_validator(mode="after")
    def _sum_100(self) -> Weights:
        total = sum(self.as_dict().values())
        if total != 100:
            raise ValueError(f"the weights must add up to 100, not {total}")
        return self

    def as_dict(self) -> dict[str, int]:
        """The weights by indicator, in the order of INDICATORS."""
        return {name: int(getattr(self, name)) for name in INDICATORS}


class JiangsuGrades(BaseModel):
    """Jiangsu art. 26: 优秀 / 良好 / 合格 / 不合格 by the lowest score of each grade."""

    model_config = ConfigDict(extra="forbid")

    excellent: int = Field(default=90, ge=1, le=100)
    good: int = Field(default=75, ge=1, le=100)
    qualified: int = Field(default=60, ge=1, le=100)

    @model_validator(mode="after")
    def _descending(self) -> JiangsuGrades:
        if not self.excellent > self.good > self.qualified:
            raise ValueError("jiangsu: excellent > good > qualified is required")
        return self


class ShanghaiQuotas(BaseModel):
    """Shanghai art. 22: excellent + good at most 30 %, the bottom 10 % not qualified."""

    model_config = ConfigDict(extra="forbid")

    top_percent: int = Field(default=30, ge=0, le=100)  # excellent + good, at most
    excellent_percent: int = Field(default=10, ge=0, le=100)  # of all, within top_percent
    fail_percent: int = Field(default=10, ge=0, le=100)  # the bottom of the ranking

    @model_validator(mode="after")
    def _fits(self) -> ShanghaiQuotas:
        if self.excellent_percent > self.top_percent:
            raise ValueError("shanghai: excellent_percent cannot exceed top_percent")
        if self.top_percent + self.fail_percent > 100:
            raise ValueError("shanghai: top_percent + fail_percent cannot exceed 100")
        return self


class EvaluationConfig(BaseModel):
    """The annual evaluation of institutions (Jiangsu art. 26-30, Shanghai art. 22-23)."""

    model_config = ConfigDict(extra="forbid")

    scheme: Literal["jiangsu", "shanghai"] = "jiangsu"
    weights: Weights = Field(default_factory=Weights)
    # Response speed: the median time from a demand's publication to the institution's
    # offer. This fast or faster scores 100, this slow or slower scores 0, linear between.
    response_fast_hours: int = Field(default=24, ge=1, le=24 * 30)
    response_slow_hours: int = Field(default=168, ge=2, le=24 * 90)
    # Service credit: the share of filing reports in on time (Keqiao 1(4)), less this many
    # points for each upheld complaint (Jiangsu art. 31).
    complaint_penalty: int = Field(default=20, ge=0, le=100)
    # ... and this many for each instrument booking it declined (Shenyang art. 10).
    refusal_penalty: int = Field(default=5, ge=0, le=100)
    jiangsu: JiangsuGrades = Field(default_factory=JiangsuGrades)
    shanghai: ShanghaiQuotas = Field(default_factory=ShanghaiQuotas)
    # Rugao art. 20: the lowest score of 5, 4, 3 and 2 stars; below the last, 1 star.
    stars: list[int] = Field(default_factory=lambda: [90, 80, 70, 60], min_length=4, max_length=4)
    # Days of public notice (公示) before the results are published (Shanghai art. 22).
    notice_days: int = Field(default=7, ge=1, le=60)

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationConfig:
        if self.response_slow_hours <= self.response_fast_hours:
            raise ValueError("response_slow_hours must be longer than response_fast_hours")
        if any(not 0 < s <= 100 for s in self.stars) or any(
            a <= b for a, b in zip(self.stars, self.stars[1:], strict=False)
        ):
            raise ValueError("stars: four scores from 100 down, each lower than the one before")
        return self
