"""Enquiries about services and achievements, bookings of instruments (issue 9, item 4).

An enterprise enquires or books; the listing's owner accepts, proposes another slot, or
declines with a reason (Shenyang art. 10: an instrument open to society is not refused
without one; refusals are counted in the evaluation's service credit). An instrument
serves one booking at a time: a slot overlapping an accepted booking is refused when asked,
proposed, accepted or taken (`check_free`, under a lock of the listing's row). An accepted request
becomes a demand addressed to the owner, already matched, with its engagement: it skips
the open market and its review (nothing is published), and continues as in issue 3 with
contract, delivery, completion and feedback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from models import audit, booking_rules, listings, market, permissions
from models.demand_entities import Demand, DemandStatus, Engagement
from models.entities import Organization, User
from models.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.events import Event, RequestChanged
from models.listing_entities import (
    Booking,
    Enquiry,
    Listing,
    ListingKind,
    ListingStatus,
    RequestStatus,
)
from models.platform import PlatformConfig
from models.review import check_reason
from models.text import storable

MESSAGE_MIN, MESSAGE_MAX = 10, 1000
PURPOSE_MIN, PURPOSE_MAX = 5, 500
ENQUIRY, BOOKING = "enquiry", "booking"


async def requestable(listing_id: int, user: User, kind: str) -> Listing:
    """A published listing this enterprise user may enquire about or book (not their own)."""
    permissions.require("listing.request", user)
    listing = await listings.visible(listing_id, user)
    if listing.status is not ListingStatus.PUBLISHED:
        raise InvalidTransition("listing.not_shown", reference=listing.reference)
    wants_booking = listing.kind is ListingKind.INSTRUMENT
    if (kind == BOOKING) is not wants_booking:
        raise NotAllowed("button.forged")
    if listings.is_owner(user, listing):
        raise NotAllowed("booking.own", reference=listing.reference)
    if user.organization_id is None:
        raise NotAllowed("listing.request_not_allowed")
    return listing


def _text(raw: object, minimum: int, maximum: int) -> str:
    text = storable(raw).strip() if isinstance(raw, str) else ""
    if len(text) < minimum:
        raise ValidationFailed("demand.too_short", min=minimum)
    if len(text) > maximum:
        raise ValidationFailed("demand.too_long", max=maximum, length=len(text))
    return text


async def enquire(listing_id: int, user: User, message: str) -> tuple[Enquiry, list[Event]]:
    """An enquiry about a service or an achievement, addressed to its owner."""
    listing = await requestable(listing_id, user, ENQUIRY)
    text = _text(message, MESSAGE_MIN, MESSAGE_MAX)
    async with in_transaction():
        enquiry = await Enquiry.create(
            listing=listing, user=user, organization_id=user.organization_id, message=text
        )
        await audit.record(user.id, "enquiry.created", ENQUIRY, enquiry.id)
    return enquiry, [RequestChanged(ENQUIRY, enquiry.id, "created")]


@dataclass(frozen=True)
class Slot:
    """A booked time, in UTC, with the local day it falls on."""

    starts_at: datetime
    ends_at: datetime


def parse_slot(raw: str, listing: Listing, config: PlatformConfig, zone: str, today: date) -> Slot:
    """A slot typed as YYYY-MM-DD HH:MM-HH:MM: ahead enough, within the open hours."""
    parts = " ".join(storable(raw or "").replace("：", ":").split()).split(" ")
    try:
        day = date.fromisoformat(parts[0])
        first, last = parts[1].split("-")
        opens, closes = time.fromisoformat(first), time.fromisoformat(last)
    except (ValueError, IndexError):
        raise ValidationFailed("booking.slot_format") from None
    if len(parts) != 2 or opens >= closes:
        raise ValidationFailed("booking.slot_format")
    rules = config.catalog
    earliest = today + timedelta(days=rules.booking_lead_days)
    if day < earliest:
        raise ValidationFailed("booking.too_soon", first=earliest.isoformat())
    if day > today + timedelta(days=rules.booking_horizon_days):
        raise ValidationFailed("booking.too_far", days=rules.booking_horizon_days)
    hours = listing.details.get("open_hours") or {}
    days = hours.get("days") or []
    start, end = str(hours.get("from", "00:00")), str(hours.get("to", "23:59"))
    if day.isoweekday() not in days or not (
        time.fromisoformat(start) <= opens and closes <= time.fromisoformat(end)
    ):
        raise ValidationFailed(
            "booking.outside_hours",
            first=min(days or [1]),
            last=max(days or [7]),
            opens=start,
            closes=end,
        )
    local = ZoneInfo(zone)
    begin = datetime.combine(day, opens, local)
    finish = datetime.combine(day, closes, local)
    if finish - begin > timedelta(hours=rules.booking_max_hours):
        raise ValidationFailed("booking.too_long", hours=rules.booking_max_hours)
    return Slot(begin.astimezone(UTC), finish.astimezone(UTC))


async def check_free(
    listing_id: int, starts_at: datetime, ends_at: datetime, exclude: int | None = None
) -> None:
    """Refuse a slot that overlaps a booking of the instrument already accepted. In a
    transaction, lock the listing first (`_lock`) so that two accepts cannot both pass."""
    taken = Booking.filter(
        listing_id=listing_id,
        status=RequestStatus.ACCEPTED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if exclude is not None:
        taken = taken.exclude(id=exclude)
    if await taken.exists():
        raise ValidationFailed("booking.slot_taken")


async def _lock(listing_id: int) -> None:
    """Row lock of the listing: bookings of one instrument are accepted one at a time."""
    await Listing.select_for_update().get(id=listing_id)


def check_mode(listing: Listing, mode: str) -> str:
    """On-site use or sample submission, among those the instrument offers."""
    if mode not in (listing.details.get("modes") or []):
        raise NotAllowed("button.forged")
    return mode


async def book(
    listing_id: int,
    user: User,
    mode: str,
    slot: Slot,
    purpose: str,
    config: PlatformConfig,
) -> tuple[Booking, list[Event]]:
    """Ask for an instrument at a slot; its manager answers. Blocked users and on-site use
    without the training the instrument requires are refused (DESIGN §2)."""
    listing = await requestable(listing_id, user, BOOKING)
    await booking_rules.check_may_book(listing, user, mode, config, datetime.now(UTC))
    text = _text(purpose, PURPOSE_MIN, PURPOSE_MAX)
    await check_free(listing.id, slot.starts_at, slot.ends_at)
    async with in_transaction():
        booking = await Booking.create(
            listing=listing,
            user=user,
            organization_id=user.organization_id,
            mode=check_mode(listing, mode),
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            purpose=text,
        )
        await audit.record(user.id, "booking.created", BOOKING, booking.id)
    return booking, [RequestChanged(BOOKING, booking.id, "created")]


async def answerable(kind: str, request_id: int, user: User) -> tuple[Enquiry | Booking, Listing]:
    """The request and its listing, if this user answers for the listing owner."""
    model = Enquiry if kind == ENQUIRY else Booking
    request = await model.get_or_none(id=request_id)
    if request is None:
        raise NotFound("request.not_found")
    listing = await Listing.get(id=request.listing_id)
    permissions.require("listing.answer", user, related=listings.is_owner(user, listing))
    return request, listing


async def _engage(
    request: Enquiry | Booking, listing: Listing, config: PlatformConfig, wanted_by: date
) -> Demand:
    """The demand, addressed and matched, that an accepted request becomes."""
    org = await Organization.get(id=request.organization_id)
    description = request.message if isinstance(request, Enquiry) else request.purpose
    budgets = [b.code for b in config.demands.budgets]
    demand = await Demand.create(
        owner=org,
        submitted_by_id=request.user_id,
        title=listing.title[:60],
        category=listing.category,
        description=description,
        budget="negotiable" if "negotiable" in budgets else budgets[0],
        wanted_by=wanted_by,
        township=org.township or listing.township or config.townships[0].code,
        status=DemandStatus.MATCHED,
        matched_institution_id=listing.owner_id,
    )
    await Engagement.create(demand_id=demand.id, institution_id=listing.owner_id)
    return demand


async def accept(
    kind: str, request_id: int, user: User, config: PlatformConfig, today: date
) -> list[Event]:
    """The owner accepts: an engagement starts (the cultivating tier may not serve, Shenyang
    art. 7). Two presses at once accept once."""
    request, listing = await answerable(kind, request_id, user)
    await market.serving_institution(user)
    model = Enquiry if kind == ENQUIRY else Booking
    async with in_transaction():
        if isinstance(request, Booking):
            await _lock(listing.id)
            await check_free(listing.id, request.starts_at, request.ends_at, exclude=request.id)
        won = await model.filter(id=request_id, status=RequestStatus.PENDING).update(
            status=RequestStatus.ACCEPTED, decided_by_id=user.id
        )
        if not won:
            raise InvalidTransition("request.answered", reference=request.reference)
        wanted = request.starts_at.date() if isinstance(request, Booking) else today
        demand = await _engage(request, listing, config, wanted + timedelta(days=30))
        await model.filter(id=request_id).update(demand_id=demand.id)
        await audit.record(user.id, f"{kind}.accepted", kind, request_id)
    return [RequestChanged(kind, request_id, "accepted")]


async def decline(kind: str, request_id: int, user: User, reason: str) -> list[Event]:
    """The owner declines, with a reason (Shenyang art. 10)."""
    request, _ = await answerable(kind, request_id, user)
    text = check_reason(reason)
    model = Enquiry if kind == ENQUIRY else Booking
    async with in_transaction():
        won = await model.filter(id=request_id, status=RequestStatus.PENDING).update(
            status=RequestStatus.DECLINED, decided_by_id=user.id, reason=text
        )
        if not won:
            raise InvalidTransition("request.answered", reference=request.reference)
        await audit.record(user.id, f"{kind}.declined", kind, request_id, after={"reason": text})
    return [RequestChanged(kind, request_id, "declined")]


async def counter(booking_id: int, user: User, slot: Slot) -> list[Event]:
    """The manager proposes another slot; the requester takes it or leaves it."""
    _, listing = await answerable(BOOKING, booking_id, user)
    await check_free(listing.id, slot.starts_at, slot.ends_at, exclude=booking_id)
    async with in_transaction():
        won = await Booking.filter(id=booking_id, status=RequestStatus.PENDING).update(
            status=RequestStatus.COUNTERED,
            decided_by_id=user.id,
            counter_starts_at=slot.starts_at,
            counter_ends_at=slot.ends_at,
        )
        if not won:
            booking = await Booking.get(id=booking_id)
            raise InvalidTransition("request.answered", reference=booking.reference)
        await audit.record(user.id, "booking.countered", BOOKING, booking_id)
    return [RequestChanged(BOOKING, booking_id, "countered")]


async def take_counter(
    booking_id: int, user: User, agree: bool, config: PlatformConfig
) -> list[Event]:
    """The requester takes the proposed slot (an engagement starts) or leaves it."""
    booking = await Booking.get_or_none(id=booking_id)
    if booking is None or booking.user_id != user.id:
        raise NotFound("request.not_found")
    listing = await Listing.get(id=booking.listing_id)
    async with in_transaction():
        if agree and booking.counter_starts_at and booking.counter_ends_at:
            await _lock(listing.id)
            await check_free(
                listing.id, booking.counter_starts_at, booking.counter_ends_at, exclude=booking.id
            )
        target = RequestStatus.ACCEPTED if agree else RequestStatus.CANCELLED
        values: dict[str, object] = {"status": target}
        if agree and booking.counter_starts_at and booking.counter_ends_at:
            values |= {"starts_at": booking.counter_starts_at, "ends_at": booking.counter_ends_at}
        won = await Booking.filter(id=booking_id, status=RequestStatus.COUNTERED).update(**values)
        if not won:
            raise InvalidTransition("request.answered", reference=booking.reference)
        if agree:
            day = (booking.counter_starts_at or booking.starts_at).date()
            demand = await _engage(booking, listing, config, day + timedelta(days=30))
            await Booking.filter(id=booking_id).update(demand_id=demand.id)
        await audit.record(
            user.id, f"booking.counter_{'taken' if agree else 'left'}", BOOKING, booking_id
        )
    return [RequestChanged(BOOKING, booking_id, "taken" if agree else "left")]
