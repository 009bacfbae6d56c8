"""What the domain reports as having happened; bot/notifier.py turns these into messages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReviewRequested:
    """A record waits for a decision at a stage: every eligible reviewer gets a card."""

    review_id: int


@dataclass(frozen=True)
class ReviewDecided:
    """A review was decided: every copy of its card is edited to say by whom."""

    review_id: int


@dataclass(frozen=True)
class RegistrationDecided:
    """The applicant learns the outcome of their registration, in their language."""

    user_id: int
    reference: str
    approved: bool
    reason: str | None


@dataclass(frozen=True)
class RoleGranted:
    """A user received a staff role through an invite (their command menu changes)."""

    user_id: int


@dataclass(frozen=True)
class DemandPublished:
    """A demand passed review: the owner is told and matching institutions are recommended."""

    demand_id: int


@dataclass(frozen=True)
class DemandRejected:
    """A demand was rejected at review: the owner may edit and submit it again."""

    demand_id: int
    reason: str | None


@dataclass(frozen=True)
class DemandRelayed:
    """An assistant submitted a demand for an enterprise: its registered users are told."""

    demand_id: int


@dataclass(frozen=True)
class DemandClosed:
    """A demand left the market (withdrawn or expired): whoever offered help is told."""

    demand_id: int
    intent_ids: tuple[int, ...]


@dataclass(frozen=True)
class IntentReceived:
    """An institution offers help: the owner sees its profile with Accept / Decline."""

    intent_id: int


@dataclass(frozen=True)
class IntentDeclined:
    """The owner declined an offer: the institution is told politely."""

    intent_id: int


@dataclass(frozen=True)
class DemandMatched:
    """The owner accepted an offer: contacts are exchanged, the other offers are closed."""

    demand_id: int
    intent_id: int
    closed_intent_ids: tuple[int, ...]


@dataclass(frozen=True)
class EngagementChanged:
    """A matched demand moved on (contract filed or acknowledged, delivered, completed,
    disputed, resolved, rated): the other side, and admins where needed, are told."""

    demand_id: int
    action: str
    actor_id: int | None


@dataclass(frozen=True)
class ComplaintFiled:
    """A complaint about an institution waits for an admin (Jiangsu art. 31)."""

    complaint_id: int


# --- institutions: tiers (Shenyang art. 7) and sanctions (Rugao art. 21) -------------------


@dataclass(frozen=True)
class TierChanged:
    """An admin moved an institution to another tier at once: its representatives are told."""

    organization_id: int
    tier: str
    raised: bool


@dataclass(frozen=True)
class NoticeOpened:
    """A promotion went under public notice: representatives and admins are told."""

    promotion_id: int


@dataclass(frozen=True)
class NoticeSettled:
    """A notice ended: the promotion took effect or was cancelled; representatives are told."""

    promotion_id: int


@dataclass(frozen=True)
class ObjectionFiled:
    """A user objected to a promotion under notice: every admin gets Uphold / Dismiss."""

    objection_id: int


@dataclass(frozen=True)
class ObjectionDecided:
    """An admin decided an objection: the objector is told."""

    objection_id: int


@dataclass(frozen=True)
class InstitutionSanctioned:
    """Suspended, revoked or reinstated: representatives are told, admins get the open
    engagements that need their attention."""

    organization_id: int
    kind: str
    open_references: tuple[str, ...]


@dataclass(frozen=True)
class VoucherChanged:
    """An innovation voucher moved (applied, granted, refused, withdrawn, redemption asked,
    redeemed, redemption refused): both sides are told."""

    voucher_id: int
    action: str
    actor_id: int | None


# --- the annual evaluation (Shanghai art. 22, Jiangsu art. 26) ------------------------------


@dataclass(frozen=True)
class EvaluationNoticeOpened:
    """A year's results went under public notice (公示): every admin is told until when."""

    run_id: int


@dataclass(frozen=True)
class EvaluationPublished:
    """A year's results were published: admins are told; each institution hears its own
    result through the reminder engine (models/reminders.py `evaluation`), once."""

    run_id: int


# --- the catalogue (issue 9) -------------------------------------------------------------


@dataclass(frozen=True)
class ListingDecided:
    """A listing (or an edit of it) was approved or rejected: its owner is told."""

    listing_id: int
    approved: bool
    edited: bool
    reason: str | None


@dataclass(frozen=True)
class RequestChanged:
    """An enquiry or booking was made, answered (accepted, countered, declined) or taken
    up: the other side is told. kind is enquiry or booking."""

    kind: str
    request_id: int
    action: str


Event = (
    ReviewRequested
    | ReviewDecided
    | RegistrationDecided
    | RoleGranted
    | DemandPublished
    | DemandRejected
    | DemandRelayed
    | DemandClosed
    | IntentReceived
    | IntentDeclined
    | DemandMatched
    | EngagementChanged
    | ComplaintFiled
    | TierChanged
    | NoticeOpened
    | NoticeSettled
    | ObjectionFiled
    | ObjectionDecided
    | InstitutionSanctioned
    | VoucherChanged
    | EvaluationNoticeOpened
    | EvaluationPublished
    | ListingDecided
    | RequestChanged
)
