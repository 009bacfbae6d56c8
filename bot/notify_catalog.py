"""Messages of the catalogue (issue 9): review outcomes to listing owners, enquiries and
bookings to the owner with Accept / Decline (and Other slot), answers back to the requester,
and on acceptance the contacts both ways with the contract button of the engagement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers import market_views
from handlers.review_views import reason_text
from locales.i18n import current_locale, t
from models import market, matching
from models.demand_entities import Demand
from models.entities import Organization, User, UserStatus
from models.events import ListingDecided, RequestChanged
from models.listing_entities import Booking, Enquiry, Listing
from models.listing_requests import BOOKING, ENQUIRY

DYNAMIC_IDS = tuple(
    f"listing.{outcome}{edit}" for outcome in ("approved", "rejected") for edit in ("", "_edit")
)

if TYPE_CHECKING:
    from datetime import datetime

    from bot.notifier import TelegramNotifier


def _b(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


async def _owner_people(listing: Listing) -> list[User]:
    return await matching.representatives([listing.owner_id])


async def on_listing_decided(notifier: TelegramNotifier, event: ListingDecided) -> None:
    """The owner hears whether the listing (or its edit) is shown, with the reason if not."""
    listing = await Listing.get_or_none(id=event.listing_id)
    if listing is None:
        return
    key = ("listing.approved" if event.approved else "listing.rejected") + (
        "_edit" if event.edited else ""
    )
    for person in await _owner_people(listing):
        await notifier.tell(
            person.id,
            lambda: (
                t(
                    key,
                    reference=listing.reference,
                    title=listing.title,
                    reason=reason_text(event.reason, notifier.platform, current_locale()),
                ),
                None,
            ),
        )


def _when(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "—"
    return format_datetime(moment, "yyyy-MM-dd HH:mm", tzinfo=ZoneInfo(zone), locale="en")


def _slot(booking: Booking, zone: str, counter: bool = False) -> str:
    start = booking.counter_starts_at if counter else booking.starts_at
    end = booking.counter_ends_at if counter else booking.ends_at
    return f"{_when(start, zone)}–{_when(end, zone)[-5:]}"


async def _request(event: RequestChanged) -> tuple[Enquiry | Booking, Listing] | None:
    model = Enquiry if event.kind == ENQUIRY else Booking
    request = await model.get_or_none(id=event.request_id)
    if request is None:
        return None
    return request, await Listing.get(id=request.listing_id)


def _request_card(
    request: Enquiry | Booking, listing: Listing, org: Organization, zone: str
) -> tuple[str, Any]:
    code = "e" if isinstance(request, Enquiry) else "b"
    rows = [[_b(t("request.button.accept"), f"rq:a:{code}:{request.id}")]]
    if isinstance(request, Booking):
        rows.append([_b(t("booking.button.counter"), f"rq:c:{code}:{request.id}")])
        text = t(
            "booking.card",
            reference=request.reference,
            listing=f"{listing.reference} {listing.title}",
            requester=org.name,
            mode=t(f"booking.mode.{request.mode}"),
            slot=_slot(request, zone),
            purpose=request.purpose,
            fee=str(listing.details.get("rate") or "—"),
        )
    else:
        text = t(
            "enquiry.card",
            reference=request.reference,
            listing=f"{listing.reference} {listing.title}",
            requester=org.name,
            message=request.message,
        )
    rows.append([_b(t("request.button.decline"), f"rq:d:{code}:{request.id}")])
    return text, InlineKeyboardMarkup(rows)


async def on_request(notifier: TelegramNotifier, event: RequestChanged) -> None:
    """Tell the other side what became of an enquiry or booking."""
    found = await _request(event)
    if found is None:
        return
    request, listing = found
    zone = notifier.timezone
    requester = await User.get_or_none(id=request.user_id)
    if event.action == "created":
        org = await Organization.get(id=request.organization_id)
        for person in await _owner_people(listing):
            await notifier.tell(person.id, lambda: _request_card(request, listing, org, zone))
    elif event.action in ("accepted", "taken") and request.demand_id is not None:
        await _engaged(notifier, request.demand_id, listing.owner_id)
    elif event.action == "declined" and requester is not None:
        key = "booking.declined" if event.kind == BOOKING else "enquiry.declined"
        await notifier.tell(
            requester.id,
            lambda: (
                t(
                    key,
                    reference=request.reference,
                    title=listing.title,
                    reason=request.reason or "—",
                ),
                None,
            ),
        )
    elif event.action == "countered" and requester is not None and isinstance(request, Booking):
        markup = InlineKeyboardMarkup(
            [
                [
                    _b(t("booking.button.take"), f"rk:y:{request.id}"),
                    _b(t("booking.button.leave"), f"rk:n:{request.id}"),
                ]
            ]
        )
        await notifier.tell(
            requester.id,
            lambda: (
                t(
                    "booking.countered",
                    reference=request.reference,
                    title=listing.title,
                    slot=_slot(request, zone, counter=True),
                ),
                markup,
            ),
        )
    elif event.action == "left":
        for person in await _owner_people(listing):
            await notifier.tell(
                person.id, lambda: (t("booking.left", reference=request.reference), None)
            )


def _contract(demand: Demand) -> InlineKeyboardMarkup:
    # Rendered inside each recipient's locale, like the rest of the message.
    return InlineKeyboardMarkup([[_b(t("engage.button.contract"), f"en:c:{demand.id}")]])


async def _engaged(notifier: TelegramNotifier, demand_id: int, institution_id: int) -> None:
    """Contacts both ways, as when an owner accepts an offer (issue 3), and the contract."""
    demand = await Demand.get(id=demand_id)
    institution = await Organization.get(id=institution_id)
    people = await matching.contacts(institution_id)
    parties = await market.parties(demand)
    contact = parties.submitter
    for person in await market.owner_side(demand):
        await notifier.tell(
            person.id,
            lambda: (
                market_views.contacts_for_owner(demand, institution, people),
                _contract(demand),
            ),
        )
    if parties.owner is None:
        return
    owner = parties.owner
    if contact is not None and contact.status is not UserStatus.ACTIVE:
        contact = None
    for person in await matching.representatives([institution_id]):
        await notifier.tell(
            person.id,
            lambda: (
                market_views.contacts_for_institution(demand, owner, contact),
                _contract(demand),
            ),
        )


HANDLERS: dict[type, Any] = {
    ListingDecided: on_listing_decided,
    RequestChanged: on_request,
}
