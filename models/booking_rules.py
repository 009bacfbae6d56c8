"""Instrument booking rules of working sharing platforms (DESIGN §2): training before
on-site use where the instrument requires it, violations recorded after the slot (no-show,
far overlong), and a block on booking after repeated violations (3 by default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import audit, listings, permissions
from models.entities import User
from models.errors import InvalidTransition, NotAllowed, NotFound
from models.listing_entities import (
    VIOLATIONS,
    Booking,
    BookingOutcome,
    InstrumentTraining,
    Listing,
    RequestStatus,
)
from models.platform import PlatformConfig

ONSITE = "onsite"


async def blocked_until(user_id: int, config: PlatformConfig, now: datetime) -> datetime | None:
    """Until when this user may not book, after too many violations in the window."""
    rules = config.catalog
    since = now - timedelta(days=rules.violation_window_days)
    ends: list[datetime] = await Booking.filter(  # type: ignore[assignment]
        user_id=user_id, outcome__in=list(VIOLATIONS), ends_at__gte=since
    ).values_list("ends_at", flat=True)
    if len(ends) < rules.violation_limit:
        return None
    until = max(ends) + timedelta(days=rules.block_days)
    return until if until > now else None


async def needs_training(listing: Listing, user_id: int, mode: str) -> bool:
    """On-site use of an instrument that requires training, by a user not yet trained."""
    if mode != ONSITE or listing.details.get("training") != "yes":
        return False
    return not await InstrumentTraining.exists(listing_id=listing.id, user_id=user_id)


async def check_may_book(
    listing: Listing, user: User, mode: str | None, config: PlatformConfig, now: datetime
) -> None:
    """Refuse a blocked user, and on-site use by an untrained one (sample submission stays
    open to them)."""
    until = await blocked_until(user.id, config, now)
    if until is not None:
        raise NotAllowed("booking.blocked", until=until.date().isoformat())
    if mode is not None and await needs_training(listing, user.id, mode):
        raise NotAllowed("booking.training_needed", reference=listing.reference)


async def _managed(booking_id: int, user: User) -> tuple[Booking, Listing]:
    booking = await Booking.get_or_none(id=booking_id)
    if booking is None:
        raise NotFound("request.not_found")
    listing = await Listing.get(id=booking.listing_id)
    permissions.require("listing.answer", user, related=listings.is_owner(user, listing))
    return booking, listing


async def record_outcome(
    booking_id: int, user: User, outcome: BookingOutcome, now: datetime
) -> Booking:
    """The manager records, after the slot, how it went (once)."""
    booking, _ = await _managed(booking_id, user)
    if booking.status is not RequestStatus.ACCEPTED or booking.ends_at > now:
        raise InvalidTransition("booking.outcome_early", reference=booking.reference)
    async with in_transaction():
        won = await Booking.filter(id=booking_id, outcome__isnull=True).update(
            outcome=outcome, outcome_at=now
        )
        if not won:
            raise InvalidTransition("request.answered", reference=booking.reference)
        await audit.record(
            user.id, "booking.outcome", "booking", booking_id, after={"outcome": outcome.value}
        )
    return await Booking.get(id=booking_id)


async def mark_trained(booking_id: int, user: User) -> Booking:
    """The manager records that the booking's user has been trained on the instrument."""
    booking, listing = await _managed(booking_id, user)
    try:
        async with in_transaction():
            await InstrumentTraining.create(
                listing_id=listing.id, user_id=booking.user_id, trained_by_id=user.id
            )
            await audit.record(user.id, "booking.trained", "booking", booking_id)
    except IntegrityError:
        pass  # trained already: nothing to add
    return booking


async def to_settle(user: User, now: datetime) -> list[Booking]:
    """Accepted bookings of this user's organisation's instruments, slot over, outcome not
    recorded yet (oldest first)."""
    permissions.require("listing.write", user)
    return (
        await Booking.filter(
            listing__owner_id=user.organization_id,
            status=RequestStatus.ACCEPTED,
            outcome__isnull=True,
            ends_at__lte=now,
        )
        .order_by("ends_at")
        .limit(20)
    )
