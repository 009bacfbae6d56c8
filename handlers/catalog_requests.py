"""Enquire and book from a catalogue card; the owner accepts, proposes another slot or
declines with a reason (issue 9, item 4; Shenyang art. 10).

Buttons: `cq:<listing>` Enquire, `cb:<listing>` Book, `cm:<mode>` the booking mode,
`rq:<a|d|c>:<e|b>:<request>` the owner's Accept / Decline / Other slot, `rk:<y|n>:<booking>`
the requester's answer to another slot. Typed answers go through one stored flow, so a
restart loses nothing; the domain (models/listing_requests.py) checks every press again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers import flows
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    platform,
    publish,
    retire_buttons,
    timezone,
    with_user,
)
from locales.i18n import t
from models import booking_rules, conversations
from models import listing_requests as requests
from models.conversations import ConversationState
from models.entities import User
from models.errors import NotAllowed, ValidationFailed
from models.events import Event
from models.listing_entities import Listing

FLOW = "catalog_request"
VERSION = 1
KINDS = {"e": requests.ENQUIRY, "b": requests.BOOKING}
DYNAMIC_IDS = ("booking.mode.onsite", "booking.mode.sample")


def _now() -> datetime:
    return datetime.now(UTC)


def _today(context: Context) -> date:
    return datetime.now(ZoneInfo(timezone(context))).date()


async def _say(update: Update, text: str, markup: Any = None) -> None:
    assert update.effective_chat
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _save(update: Update, state: str, data: dict[str, Any]) -> None:
    await conversations.save(
        conversation_key(update), ConversationState(FLOW, state, VERSION, data)
    )


def _cancel_row() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t("button.cancel"), callback_data="cm:cancel")]


@with_user
async def on_enquire(update: Update, context: Context, user: User) -> None:
    """Enquire: ask what the enterprise wants (the demand it becomes is prefilled)."""
    listing = await _listing(update, user, requests.ENQUIRY)
    await answer(update)
    await _save(update, "enquiry", {"listing": listing.id})
    await _say(
        update,
        t("enquiry.ask", reference=listing.reference, title=listing.title),
        InlineKeyboardMarkup([_cancel_row()]),
    )


@with_user
async def on_book(update: Update, context: Context, user: User) -> None:
    """Book: the mode (if the instrument has two), then the slot, then the purpose."""
    listing = await _listing(update, user, requests.BOOKING)
    await booking_rules.check_may_book(listing, user, None, platform(context), _now())
    await answer(update)
    modes = list(listing.details.get("modes") or [])
    data: dict[str, Any] = {"listing": listing.id}
    if len(modes) == 1:
        data["mode"] = modes[0]
        await _ask_slot(update, listing, data)
        return
    await _save(update, "mode", data)
    rows = [[InlineKeyboardButton(t(f"booking.mode.{m}"), callback_data=f"cm:{m}")] for m in modes]
    await _say(
        update,
        t("booking.ask_mode", reference=listing.reference),
        InlineKeyboardMarkup([*rows, _cancel_row()]),
    )


async def _listing(update: Update, user: User, kind: str) -> Listing:
    parts = callback_parts(update)
    if len(parts) != 2:
        raise NotAllowed("button.forged")
    return await requests.requestable(button_number(parts[1]), user, kind)


async def _ask_slot(update: Update, listing: Listing, data: dict[str, Any]) -> None:
    await _save(update, "slot", data)
    hours = listing.details.get("open_hours") or {}
    days = hours.get("days") or [1]
    text = t(
        "booking.ask_slot",
        reference=listing.reference,
        first=min(days),
        last=max(days),
        opens=hours.get("from", ""),
        closes=hours.get("to", ""),
    )
    await _say(update, text, InlineKeyboardMarkup([_cancel_row()]))


@with_user
async def on_mode(update: Update, context: Context, user: User) -> None:
    """cm:<mode> (or cm:cancel)."""
    parts = callback_parts(update)
    stored = await conversations.load(conversation_key(update))
    if len(parts) != 2 or stored is None or stored.flow != FLOW:
        await answer(update, t("button.outdated"), alert=True)
        return
    if parts[1] == "cancel":
        await answer(update)
        await retire_buttons(update)
        await conversations.clear(conversation_key(update))
        await _say(update, t("request.cancelled"))
        return
    if stored.state != "mode":
        raise NotAllowed("button.outdated")
    listing = await requests.requestable(int(stored.data["listing"]), user, requests.BOOKING)
    mode = requests.check_mode(listing, parts[1])
    # Refused (untrained for on-site use): the buttons stay, sample submission is still open.
    await booking_rules.check_may_book(listing, user, mode, platform(context), _now())
    await answer(update)
    await retire_buttons(update)
    stored.data["mode"] = mode
    await _ask_slot(update, listing, stored.data)


async def on_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A typed enquiry, slot, purpose, refusal reason or proposed slot."""
    message = update.effective_message
    assert message is not None
    state, data = conversation.state, conversation.data
    if not message.text:
        await message.reply_text(t("input.text_expected"))
        return
    try:
        events = await _on_text(update, context, user, state, data, message.text)
    except ValidationFailed as problem:
        # Nothing lost: the same question stays open, the answers so far are kept.
        await message.reply_text("⚠️ " + t(problem.message_id, **problem.params))
        return
    if events is not None:
        await publish(context, events)


async def _on_text(
    update: Update, context: Context, user: User, state: str, data: dict[str, Any], text: str
) -> list[Event] | None:
    config, zone, today = platform(context), timezone(context), _today(context)
    key = conversation_key(update)
    if state == "enquiry":
        async with conversations.finishing(key) as mine:
            if not mine:
                return None
            enquiry, events = await requests.enquire(int(data["listing"]), user, text)
        await _say(update, t("enquiry.sent", reference=enquiry.reference))
        return events
    if state in ("slot", "counter"):
        listing = await Listing.get(id=int(data["listing"]))
        slot = requests.parse_slot(text, listing, config, zone, today)
        await requests.check_free(listing.id, slot.starts_at, slot.ends_at, data.get("booking"))
        data["slot"] = text
        if state == "counter":
            async with conversations.finishing(key) as mine:
                if not mine:
                    return None
                events = await requests.counter(int(data["booking"]), user, slot)
            await _say(update, t("booking.counter_sent"))
            return events
        await _save(update, "purpose", data)
        await _say(update, t("booking.ask_purpose"), InlineKeyboardMarkup([_cancel_row()]))
        return None
    if state == "purpose":
        # Checked again: a booking left half-done since yesterday may now be too soon.
        listing = await Listing.get(id=int(data["listing"]))
        try:
            slot = requests.parse_slot(str(data.get("slot")), listing, config, zone, today)
            await requests.check_free(listing.id, slot.starts_at, slot.ends_at)
        except ValidationFailed:
            await _ask_slot(update, listing, data)
            raise
        async with conversations.finishing(key) as mine:
            if not mine:
                return None
            booking, events = await requests.book(
                int(data["listing"]), user, str(data.get("mode")), slot, text, config
            )
        # DESIGN §2: the fee is estimated at booking (the instrument's rate) and confirmed
        # after use as the amount of the engagement's filed contract.
        fee = str(listing.details.get("rate") or "—")
        await _say(update, t("booking.sent", reference=booking.reference, fee=fee))
        return events
    if state == "reason":
        async with conversations.finishing(key) as mine:
            if not mine:
                return None
            events = await requests.decline(str(data["kind"]), int(data["request"]), user, text)
        await _say(update, t("request.declined_done"))
        return events
    raise NotAllowed("button.outdated")


@with_user
async def on_answer(update: Update, context: Context, user: User) -> None:
    """rq:<a|d|c>:<e|b>:<id>: the owner accepts, declines (asks a reason) or counters."""
    parts = callback_parts(update)
    if len(parts) != 4 or parts[2] not in KINDS or parts[1] not in ("a", "d", "c"):
        raise NotAllowed("button.forged")
    kind, request_id = KINDS[parts[2]], button_number(parts[3])
    if parts[1] == "a":
        events = await requests.accept(kind, request_id, user, platform(context), _today(context))
        await answer(update)
        await retire_buttons(update, t("request.accepted_note"))
        await publish(context, events)
        return
    request, listing = await requests.answerable(kind, request_id, user)
    await answer(update)
    if parts[1] == "d":
        await _save(update, "reason", {"kind": kind, "request": request_id})
        await _say(update, t("request.ask_reason", reference=request.reference))
    elif kind == requests.BOOKING:
        await _save(update, "counter", {"booking": request_id, "listing": listing.id})
        await _say(update, t("booking.ask_counter", reference=request.reference))
    else:
        raise NotAllowed("button.forged")


@with_user
async def on_counter_answer(update: Update, context: Context, user: User) -> None:
    """rk:<y|n>:<booking>: the requester takes or leaves the proposed slot."""
    parts = callback_parts(update)
    if len(parts) != 3 or parts[1] not in ("y", "n"):
        raise NotAllowed("button.forged")
    agree = parts[1] == "y"
    events = await requests.take_counter(button_number(parts[2]), user, agree, platform(context))
    await answer(update)
    await retire_buttons(update, t("booking.counter_taken" if agree else "booking.counter_left"))
    await publish(context, events)


async def _resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    await _say(update, t("request.resume"))


def handlers() -> list[BaseHandler]:
    """The buttons of enquiries and bookings."""
    return [
        CallbackQueryHandler(on_enquire, pattern=r"^cq:"),
        CallbackQueryHandler(on_book, pattern=r"^cb:"),
        CallbackQueryHandler(on_mode, pattern=r"^cm:"),
        CallbackQueryHandler(on_answer, pattern=r"^rq:"),
        CallbackQueryHandler(on_counter_answer, pattern=r"^rk:"),
    ]


flows.register(flows.Flow(FLOW, on_message, _resume))
