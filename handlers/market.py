"""The market: /demands to browse, "I can help" (the intent flow), Accept / Decline, withdraw,
/my and /demand.

Every press is authorised against the database by the domain (models/market.py), so a forged
or replayed callback changes nothing and says why. Accepting is first-wins: of two accepts at
once only one matches the demand (models/market.py `accept`).
"""

from __future__ import annotations

from decimal import Decimal

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows
from handlers import market_views as views
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    edit_pressed,
    platform,
    publish,
    retire_buttons,
    with_user,
)
from locales.i18n import current_locale, t
from models import conversations, demands, market, matching
from models.conversations import ConversationState
from models.demand_entities import DemandStatus
from models.entities import User
from models.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed

FLOW = "intent"
# Bump when the steps change meaning; a stored state of another version restarts politely.
VERSION = 1
PROPOSAL, QUOTE, CONFIRM = "proposal", "quote", "confirm"
STATES = (PROPOSAL, QUOTE, CONFIRM)


def _number(parts: list[str], index: int) -> int:
    return button_number(parts[index] if len(parts) > index else "")


async def _send(update: Update, rendered: views.Rendered) -> None:
    assert update.effective_chat
    text, markup = rendered
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _edit(update: Update, rendered: views.Rendered) -> None:
    text, markup = rendered
    await edit_pressed(update, text, markup, resend=True)


# --- browsing ---------------------------------------------------------------------------


@with_user
async def demands_command(update: Update, context: Context, user: User) -> None:
    """/demands: published demands, newest first, with filters and paging."""
    market.may_browse(user)
    await _send(update, await _page(context, (views.ALL, views.ALL), 0))


async def _page(context: Context, chosen: tuple[str, str], page: int) -> views.Rendered:
    config = platform(context)
    size = config.demands.browse_page_size
    category, township = (None if code == views.ALL else code for code in chosen)
    items, total = await market.browse(category, township, offset=page * size, limit=size)
    if not items and page > 0 and total:
        # The list shrank since the page was shown: go to its last page.
        page = (total - 1) // size
        items, total = await market.browse(category, township, offset=page * size, limit=size)
    return views.browse_page(items, total, chosen, page, config, current_locale())


def _filters(context: Context, parts: list[str]) -> tuple[str, str]:
    config = platform(context)
    category = parts[2] if len(parts) > 2 else ""
    township = parts[3] if len(parts) > 3 else ""
    if category != views.ALL and config.category(category) is None:
        raise NotAllowed("button.forged")
    if township != views.ALL and config.township(township) is None:
        raise NotAllowed("button.forged")
    return category, township


async def _on_browse(update: Update, context: Context, user: User, parts: list[str]) -> None:
    market.may_browse(user)
    chosen = _filters(context, parts)
    if parts[1] == "b":
        page = _number(parts, 4)
        rendered = await _page(context, chosen, min(page, 9999))
        await answer(update)
        await _edit(update, rendered)
        return
    markup = views.filter_choice(parts[1], chosen, platform(context), current_locale())
    await answer(update)
    await edit_pressed(update, markup=markup)


# --- the intent flow ("I can help") -----------------------------------------------------


async def _on_help(update: Update, context: Context, user: User, demand_id: int) -> None:
    demand = await market.open_for_offers(demand_id, user)
    stored = await conversations.load(conversation_key(update))
    await answer(update)
    if stored is not None and stored.flow == FLOW and stored.data.get("demand") == demand_id:
        await _ask(update, stored)  # pressed again: carry on where they were
        return
    conversation = ConversationState(
        FLOW,
        PROPOSAL,
        VERSION,
        {"demand": demand_id, "reference": demand.reference, "title": demand.title},
    )
    await conversations.save(conversation_key(update), conversation)
    await _ask(update, conversation)


async def _ask(update: Update, conversation: ConversationState) -> None:
    await _send(update, views.intent_question(conversation.state, conversation.data))


def _next_state(data: dict[str, object]) -> str:
    if not data.get("proposal"):
        return PROPOSAL
    return CONFIRM if "quote" in data else QUOTE


async def resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """Pick the intent flow up again; an outdated state restarts with the answers kept."""
    if conversation.version != VERSION or conversation.state not in STATES:
        conversation.state = _next_state(conversation.data)
        conversation.version = VERSION
        await conversations.save(conversation_key(update), conversation)
        assert update.effective_chat
        await update.effective_chat.send_message(t("market.intent.restarted"))
    await _ask(update, conversation)


async def on_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A typed answer: the proposal, or the quote; anything else points at the buttons."""
    message = update.effective_message
    assert message is not None
    state = conversation.state
    if state not in (PROPOSAL, QUOTE):
        await message.reply_text(t("market.intent.use_buttons"))
        return await resume(update, context, user, conversation)
    if not message.text:
        await message.reply_text(t("input.text_expected"))
        return await _ask(update, conversation)
    try:
        if state == PROPOSAL:
            conversation.data["proposal"] = market.check_proposal(message.text)
        else:
            conversation.data["quote"] = str(market.check_quote(message.text))
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        return await _ask(update, conversation)
    conversation.state = QUOTE if state == PROPOSAL else CONFIRM
    await conversations.save(conversation_key(update), conversation)
    await _ask(update, conversation)


async def _on_intent_button(
    update: Update, context: Context, user: User, parts: list[str]
) -> None:
    step, action = (parts + ["", "", ""])[2:4]
    stored = await conversations.load(conversation_key(update))
    if stored is None or stored.flow != FLOW or stored.state != step:
        await answer(update, t("button.outdated"), alert=True)
        return
    if step == CONFIRM and action == "ok":
        return await _confirm(update, context, user, stored)
    if action not in ("cancel", "back") and not (step == QUOTE and action == "skip"):
        raise NotAllowed("button.forged")
    await answer(update)
    await retire_buttons(update)
    if action == "cancel":
        await conversations.clear(conversation_key(update))
        assert update.effective_chat
        await update.effective_chat.send_message(t("market.intent.cancelled"))
        return
    if action == "skip":
        stored.data["quote"] = None
        stored.state = CONFIRM
    else:
        stored.state = STATES[max(0, STATES.index(step) - 1)]
    await conversations.save(conversation_key(update), stored)
    await _ask(update, stored)


async def _confirm(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    data = conversation.data
    quote = Decimal(str(data["quote"])) if data.get("quote") else None
    try:
        events = await market.offer(int(data["demand"]), user, str(data["proposal"]), quote)
    except ValidationFailed:
        raise
    except DomainError:
        # Already offered, demand gone, institution no longer serving: this draft is done.
        # (Its buttons are left alone: a concurrent press may already have retired them.)
        await conversations.clear(conversation_key(update))
        raise
    await answer(update)
    await conversations.clear(conversation_key(update))
    await retire_buttons(update)
    assert update.effective_chat
    await update.effective_chat.send_message(
        t("market.intent.sent", reference=data.get("reference", ""))
    )
    await publish(context, events)


# --- the owner decides ------------------------------------------------------------------


async def _on_decision(update: Update, context: Context, user: User, parts: list[str]) -> None:
    intent_id = _number(parts, 2)
    try:
        if parts[1] == "a":
            events = await market.accept(intent_id, user)
        else:
            events = await market.decline(intent_id, user)
    except InvalidTransition as late:
        # Another offer was accepted first, or the demand moved on: "already dealt with".
        raise InvalidTransition(
            "intent.not_pending", reference=late.params.get("reference", "")
        ) from None
    accepted = parts[1] == "a"
    await answer(update, t("market.offer.accepted" if accepted else "market.offer.declined"))
    await retire_buttons(
        update, t("market.offer.accepted" if accepted else "market.offer.declined")
    )
    await publish(context, events)


async def _on_offers(update: Update, context: Context, user: User, demand_id: int) -> None:
    demand, waiting = await market.pending_offers(demand_id, user)
    await answer(update)
    if not waiting:
        await _send(update, (t("market.offers.none", reference=demand.reference), None))
    for intent in waiting:
        await _send(
            update, views.offer_card(intent, demand, await matching.profile(intent.institution_id))
        )


async def _on_withdraw(update: Update, context: Context, user: User, parts: list[str]) -> None:
    demand_id = _number(parts, 2)
    if parts[1] == "w":
        demand = await market.check_withdrawable(demand_id, user)
        await answer(update)
        await _send(update, views.withdraw_question(demand))
    elif parts[1] == "wy":
        events = await market.withdraw(demand_id, user)
        demand = await demands.get(demand_id)
        await answer(update)
        await _edit(update, (t("market.withdraw.done", reference=demand.reference), None))
        await publish(context, events)
    else:  # "wn": keep it. Only the owner side was asked; anyone else has nothing to keep.
        await demands.acting_owner(demand_id, user)
        await answer(update)
        await _edit(update, (t("market.withdraw.kept"), None))


# --- /my and /demand --------------------------------------------------------------------


@with_user
async def my_command(update: Update, context: Context, user: User) -> None:
    """/my: the user's demands with their status and what to do next."""
    items, total = await market.my_demands(user)
    await _send(update, views.my_list(items, total, user))


@with_user
async def demand_command(update: Update, context: Context, user: User) -> None:
    """/demand D2026-000123: one demand, to those allowed to see it."""
    if not context.args:
        await _send(update, (t("market.demand.usage"), None))
        return
    await _send(update, await _view(context, user, demands.parse_reference(context.args[0])))


async def _view(context: Context, user: User, demand_id: int) -> views.Rendered:
    demand, view = await market.view_of(demand_id, user)
    parties = market.Parties(None, None, None)
    if view is not market.View.PUBLIC:
        parties = await market.parties(demand)
    offers = 0
    if view is market.View.OWNER and demand.status is DemandStatus.PUBLISHED:
        offers = len((await market.pending_offers(demand_id, user))[1])
    return views.demand_view(
        demand,
        view,
        (parties.owner, parties.submitter, parties.matched),
        offers,
        user,
        platform(context),
        current_locale(),
    )


# --- the buttons ------------------------------------------------------------------------


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """Every `mk:` button; each branch answers the callback query exactly once."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    if action in ("b", "fc", "ft"):
        await _on_browse(update, context, user, parts)
    elif action == "h":
        await _on_help(update, context, user, _number(parts, 2))
    elif action == "i":
        await _on_intent_button(update, context, user, parts)
    elif action in ("a", "d"):
        await _on_decision(update, context, user, parts)
    elif action == "o":
        await _on_offers(update, context, user, _number(parts, 2))
    elif action in ("w", "wy", "wn"):
        await _on_withdraw(update, context, user, parts)
    elif action == "v":
        rendered = await _view(context, user, _number(parts, 2))
        await answer(update)
        await _send(update, rendered)
    else:
        raise NotAllowed("button.forged")


def handlers() -> list[BaseHandler]:
    """This area's handlers: its CommandHandlers first, then its buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("demands", demands_command, filters=private),
        CommandHandler("demand", demand_command, filters=private),
        CommandHandler("my", my_command, filters=private),
        CallbackQueryHandler(on_button, pattern=r"^mk:"),
    ]


flows.register(flows.Flow(FLOW, on_message, resume))
