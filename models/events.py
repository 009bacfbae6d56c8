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


Event = ReviewRequested | ReviewDecided | RegistrationDecided | RoleGranted
