"""The platform's own data: townships, service categories, review stages (from the TOML file).

It lives in the domain because the rules check answers against it; bot/config.py reads the file.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.evaluation_config import EvaluationConfig
from models.reminder_config import ReminderConfig


class Label(BaseModel):
    """A configurable choice shown to users in both languages."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")
    zh: str = Field(min_length=1, max_length=40)
    en: str = Field(min_length=1, max_length=60)

    def label(self, locale: str) -> str:
        """The label in the given locale (zh_CN or en)."""
        return self.zh if locale.startswith("zh") else self.en


class ReviewConfig(BaseModel):
    """Review stages per kind of record (Rugao art. 15-16: review, then optionally publish)."""

    model_config = ConfigDict(extra="forbid")

    registration_stages: list[str] = Field(default_factory=lambda: ["reviewer"], min_length=1)
    demand_stages: list[str] = Field(default_factory=lambda: ["reviewer"], min_length=1)
    listing_stages: list[str] = Field(default_factory=lambda: ["reviewer"], min_length=1)
    reject_reasons: list[Label] = Field(default_factory=list)
    pending_page_size: int = Field(default=5, ge=1, le=20)

    def stages_for(self, subject_type: str) -> list[str]:
        """The review stages of a kind of record; contract filings take one acknowledgement."""
        return {
            "registration": self.registration_stages,
            "demand": self.demand_stages,
            "listing": self.listing_stages,
        }.get(subject_type, ["reviewer"])

    @field_validator("registration_stages", "demand_stages", "listing_stages")
    @classmethod
    def _known_stages(cls, stages: list[str]) -> list[str]:
        unknown = [s for s in stages if s not in ("reviewer", "publisher")]
        if unknown:
            raise ValueError(f"unknown stage {unknown[0]!r}; use 'reviewer' or 'publisher'")
        if len(set(stages)) != len(stages):
            raise ValueError("a stage appears twice")
        return stages


class InviteConfig(BaseModel):
    """Invite deep links for staff roles."""

    model_config = ConfigDict(extra="forbid")

    ttl_hours: int = Field(default=72, ge=1, le=24 * 30)


class DemandConfig(BaseModel):
    """Demand submission and matching (Rugao art. 11-16)."""

    model_config = ConfigDict(extra="forbid")

    # Budget bands offered as buttons; the code is stored.
    budgets: list[Label] = Field(min_length=1)
    # How many institutions are recommended a newly published demand.
    recommend_max: int = Field(default=10, ge=1, le=100)
    browse_page_size: int = Field(default=5, ge=1, le=20)


class InstitutionConfig(BaseModel):
    """Institution tiers (Shenyang art. 7)."""

    model_config = ConfigDict(extra="forbid")

    # Days of public notice (公示) before a promotion to the voucher tier takes effect.
    notice_days: int = Field(default=7, ge=1, le=60)


class VoucherConfig(BaseModel):
    """Innovation vouchers (创新券; Shenyang art. 7, Jiangsu art. 22 and 30)."""

    model_config = ConfigDict(extra="forbid")

    # The share of the contract amount a voucher may cover.
    subsidy_ratio: Decimal = Field(default=Decimal("0.5"), gt=0, le=1, decimal_places=4)
    # Yearly caps in yuan, counted over granted, redemption-requested and redeemed vouchers.
    enterprise_cap_per_year: Decimal = Field(
        default=Decimal(200000), gt=0, le=100_000_000, decimal_places=2
    )
    # The platform's own cap for one institution (no regulation sets one).
    institution_cap_per_year: Decimal = Field(
        default=Decimal(500000), gt=0, le=100_000_000, decimal_places=2
    )
    # Jiangsu art. 30: institutions that serve vouchers may be rewarded up to this share of
    # their actual voucher service total of the year, at most reward_cap_per_year each.
    reward_ratio: Decimal = Field(default=Decimal("0.05"), ge=0, le=1, decimal_places=4)
    reward_cap_per_year: Decimal = Field(
        default=Decimal(500000), ge=0, le=100_000_000, decimal_places=2
    )


class StatsConfig(BaseModel):
    """/stats and /export for admins (issue #5 items 5-6)."""

    model_config = ConfigDict(extra="forbid")

    # Months of history in the /stats bars, up to the current month.
    months: int = Field(default=12, ge=1, le=36)
    # Largest export the bot sends in the chat; Telegram's Bot API takes uploads to 50 MB.
    upload_limit_mb: float = Field(default=50, gt=0, le=50)


class BroadcastConfig(BaseModel):
    """How often an admin's broadcast progress message is edited while it is sent."""

    model_config = ConfigDict(extra="forbid")

    # Edit after this many more deliveries settle, or this many seconds after the last
    # edit, whichever comes first (Telegram limits edits too); always once more at the end.
    progress_every: int = Field(default=200, ge=1, le=100_000)
    progress_seconds: int = Field(default=5, ge=1, le=600)


class CatalogConfig(BaseModel):
    """The resource catalogue and instrument booking (issue 9, DESIGN §2)."""

    model_config = ConfigDict(extra="forbid")

    page_size: int = Field(default=5, ge=1, le=20)
    # Bookings start at least this many days ahead (shared platforms ask for a day).
    booking_lead_days: int = Field(default=1, ge=0, le=30)
    # and at most this many days ahead.
    booking_horizon_days: int = Field(default=90, ge=1, le=365)
    booking_max_hours: int = Field(default=8, ge=1, le=24)
    # No-shows and overlong bookings (DESIGN §2): this many within the window block booking
    # for block_days after the last one.
    violation_limit: int = Field(default=3, ge=1, le=20)
    violation_window_days: int = Field(default=180, ge=1, le=730)
    block_days: int = Field(default=30, ge=1, le=365)


class PlatformConfig(BaseModel):
    """The platform's own data: townships, service categories, review stages."""

    model_config = ConfigDict(extra="forbid")

    townships: list[Label] = Field(min_length=1)
    categories: list[Label] = Field(min_length=1)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    invites: InviteConfig = Field(default_factory=InviteConfig)
    demands: DemandConfig
    reminders: ReminderConfig = Field(default_factory=ReminderConfig)
    institutions: InstitutionConfig = Field(default_factory=InstitutionConfig)
    vouchers: VoucherConfig = Field(default_factory=VoucherConfig)
    stats: StatsConfig = Field(default_factory=StatsConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    broadcasts: BroadcastConfig = Field(default_factory=BroadcastConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)

    @model_validator(mode="after")
    def _unique_codes(self) -> PlatformConfig:
        for key in ("townships", "categories"):
            codes = [item.code for item in getattr(self, key)]
            dupes = {c for c in codes if codes.count(c) > 1}
            if dupes:
                raise ValueError(f"{key}: code {sorted(dupes)[0]!r} appears twice")
        return self

    def township(self, code: str) -> Label | None:
        """The township with this code, if configured."""
        return next((t for t in self.townships if t.code == code), None)

    def category(self, code: str) -> Label | None:
        """The service category with this code, if configured."""
        return next((c for c in self.categories if c.code == code), None)

    def budget(self, code: str) -> Label | None:
        """The budget band with this code, if configured."""
        return next((b for b in self.demands.budgets if b.code == code), None)
