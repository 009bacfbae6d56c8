"""The JSON API's pydantic models: what each endpoint accepts and returns.

The OpenAPI document (bot/api/openapi.py) is generated from these classes, and the handlers
parse and answer with them, so the document cannot drift from what the server does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from models.entities import InstitutionTier, OrgKind, OrgStatus
from models.evaluation_entities import Grade
from models.reminder_entities import DeliveryState

# Published demands and what became of them (models/api_queries.PUBLIC_STATUSES).
PublicStatus = Literal[
    "published",
    "matched",
    "contracted",
    "delivered",
    "disputed",
    "completed",
    "expired",
    "withdrawn",
]
CODE_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"  # platform codes: townships, categories, rules
ID_MAX = 2**31 - 1  # the id columns are 32-bit (PostgreSQL refuses a larger parameter)


class Query(BaseModel):
    """Paging shared by every list: `limit` records after the `cursor` of the previous page."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(50, ge=1, le=100, description="Records per page, 1 to 100.")
    cursor: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="next_cursor of the previous page; send the same filters with it.",
    )


def _personal() -> Any:
    return Field(
        False,
        description="Unmask names, phones and Telegram ids: needs a read_personal token; "
        "every such request is audited.",
    )


class PersonalQuery(Query):
    """A list whose records name people."""

    personal: bool = _personal()


class DemandQuery(PersonalQuery):
    """Filters of GET /demands."""

    status: PublicStatus | None = None
    category: str | None = Field(None, pattern=CODE_PATTERN)
    township: str | None = Field(None, pattern=CODE_PATTERN)
    updated_since: AwareDatetime | None = Field(
        None, description="Only demands changed at or after this time (with a time zone)."
    )

    @field_validator("updated_since")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # Year 9999 with a negative offset overflows when the database converts it to UTC.
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:
            raise ValueError("out of range") from None


class DemandOneQuery(BaseModel):
    """Options of GET /demands/{reference}."""

    model_config = ConfigDict(extra="ignore")

    personal: bool = _personal()


class OrganisationQuery(Query):
    """Filters of GET /organisations."""

    kind: OrgKind | None = None
    tier: InstitutionTier | None = None


class EngagementQuery(Query):
    """Filters of GET /engagements."""

    institution_id: int | None = Field(None, ge=1, le=ID_MAX)


class DeliveryQuery(PersonalQuery):
    """Filters of GET /reminder-deliveries."""

    rule: str | None = Field(None, pattern=CODE_PATTERN)
    state: DeliveryState | None = None


class DemandPath(BaseModel):
    """A demand reference code, as every message about it quotes it."""

    reference: str = Field(pattern=r"^D\d{4}-\d{6,9}$", examples=["D2026-000123"])


class YearPath(BaseModel):
    """The year of an evaluation."""

    year: int = Field(ge=2000, le=2100)


class ErrorDetail(BaseModel):
    """What went wrong: `code` is stable, `message` is for people."""

    code: str = Field(examples=["invalid_parameter"])
    message: str
    parameter: str | None = Field(None, description="The parameter at fault, if one is.")


class ErrorResponse(BaseModel):
    """Every error answer."""

    error: ErrorDetail


class Person(BaseModel):
    """Someone a record names; masked (张* / 138****0201 / null) unless personal=true."""

    name: str | None
    phone: str | None
    telegram_id: int | None


class OrganisationRef(BaseModel):
    """An organisation named by a record."""

    id: int
    name: str


class Demand(BaseModel):
    """A published demand of an enterprise (Rugao art. 12)."""

    reference: str = Field(examples=["D2026-000123"])
    title: str
    category: str
    description: str
    budget: str
    wanted_by: date
    township: str
    status: PublicStatus
    owner: OrganisationRef
    contact: Person = Field(description="Who submitted it: an enterprise user or an assistant.")
    matched_institution: OrganisationRef | None
    attachments: int = Field(description="How many files are attached (not served here).")
    published_at: datetime
    created_at: datetime
    updated_at: datetime


class DemandPage(BaseModel):
    """A page of demands."""

    data: list[Demand]
    next_cursor: str | None


class LatestGrade(BaseModel):
    """The result in the latest published evaluation (Jiangsu art. 26, Rugao art. 20)."""

    year: int
    grade: Grade
    stars: int
    score: str = Field(examples=["86.50"])


class Organisation(BaseModel):
    """An enterprise, research team or service institution on the platform."""

    id: int
    name: str
    kind: OrgKind
    credit_code: str | None
    township: str | None
    tier: InstitutionTier | None = Field(description="Institution tier (Shenyang art. 7).")
    status: OrgStatus
    service_fields: list[str]
    latest_grade: LatestGrade | None
    created_at: datetime


class OrganisationPage(BaseModel):
    """A page of organisations."""

    data: list[Organisation]
    next_cursor: str | None


class Evaluation(BaseModel):
    """One institution in a published annual evaluation (Jiangsu art. 29, Shanghai art. 22)."""

    year: int
    organisation: OrganisationRef
    score: str = Field(examples=["86.50"])
    rank: int
    grade: Grade
    stars: int
    flagged_for_removal: bool = Field(description="Not qualified two years running.")
    indicators: dict[str, Any]


class EvaluationPage(BaseModel):
    """A page of evaluation results."""

    data: list[Evaluation]
    next_cursor: str | None


class Engagement(BaseModel):
    """A demand matched with an institution: contract, delivery, completion."""

    id: int
    demand_reference: str
    status: PublicStatus = Field(description="The status of its demand.")
    institution: OrganisationRef
    amount: str | None = Field(examples=["50000.00"])
    signed_on: date | None
    voucher: bool
    filing_due: date | None = Field(description="Filing report due (Keqiao 1(4)).")
    filed_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    contract_sha256: str | None


class EngagementPage(BaseModel):
    """A page of engagements."""

    data: list[Engagement]
    next_cursor: str | None


class Delivery(BaseModel):
    """One reminder to one person (DESIGN §4)."""

    id: int
    rule: str
    recipient: Person
    occurrence: str
    due_at: datetime
    state: DeliveryState
    attempts: int
    sent_at: datetime | None
    error: str | None


class DeliveryPage(BaseModel):
    """A page of reminder deliveries."""

    data: list[Delivery]
    next_cursor: str | None
