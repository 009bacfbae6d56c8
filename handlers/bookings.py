"""/bookings: an instrument manager records how each booking went once its slot is over
(used, no-show, far overlong: DESIGN §2 violations) and that a user has been trained.

Buttons `bo:<u|n|o|t>:<booking>`; the domain (models/booking_rules.py) checks each press
again, so a second press or a forged one changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    retire_buttons,
    timezone,
    with_user,
)
from locales.i18n import t
from models import booking_rules
from models.entities import User
from models.errors import NotAllowed
from models.listing_entities import Booking, BookingOutcome, Listing

OUTCOMES = {"u": BookingOutcome.USED, "n": BookingOutcome.NO_SHOW, "o": BookingOutcome.OVERLONG}
DYNAMIC_IDS = tuple(f"booking.outcome.{o.value}" for o in BookingOutcome)


def _markup(booking: Booking) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(t(f"booking.outcome.{o.value}"), callback_data=f"bo:{c}:{booking.id}")
        for c, o in OUTCOMES.items()
    ]
    trained = InlineKeyboardButton(t("booking.button.trained"), callback_data=f"bo:t:{booking.id}")
    return InlineKeyboardMarkup([row, [trained]])


@with_user
async def bookings_command(update: Update, context: Context, user: User) -> None:
    """/bookings: the bookings whose slot is over and whose outcome is not recorded."""
    assert update.effective_chat
    found = await booking_rules.to_settle(user, datetime.now(UTC))
    if not found:
        await update.effective_chat.send_message(t("booking.settle_none"))
        return
    zone = ZoneInfo(timezone(context))
    for booking in found:
        listing = await Listing.get(id=booking.listing_id)
        when = format_datetime(booking.starts_at, "yyyy-MM-dd HH:mm", tzinfo=zone, locale="en")
        text = t(
            "booking.settle_line",
            reference=booking.reference,
            title=listing.title,
            when=when,
            mode=t(f"booking.mode.{booking.mode}"),
        )
        await update.effective_chat.send_message(text, reply_markup=_markup(booking))


@with_user
async def on_outcome(update: Update, context: Context, user: User) -> None:
    """bo:<u|n|o>:<id> records the outcome; bo:t:<id> records the training."""
    parts = callback_parts(update)
    if len(parts) != 3 or parts[1] not in (*OUTCOMES, "t"):
        raise NotAllowed("button.forged")
    booking_id = button_number(parts[2])
    if parts[1] == "t":
        await booking_rules.mark_trained(booking_id, user)
        await answer(update, t("booking.trained_done"))
        return
    outcome = OUTCOMES[parts[1]]
    await booking_rules.record_outcome(booking_id, user, outcome, datetime.now(UTC))
    await answer(update)
    await retire_buttons(
        update, t("booking.outcome_done", outcome=t(f"booking.outcome.{outcome.value}"))
    )


def handlers() -> list[BaseHandler]:
    """The /bookings command and its buttons."""
    return [
        CommandHandler("bookings", bookings_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(on_outcome, pattern=r"^bo:"),
    ]
