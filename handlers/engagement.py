"""After the match: contract filing, delivery, completion or dispute (issue #3 items 6-7).

The filing is a multi-step flow stored per update (models/conversations.py) like registration:
a restart at any step loses nothing. Every button names its demand and is authorised again
against the database by the domain (models/engagements.py), so a forged or replayed press
changes nothing and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import complaints_chat, feedback, flows, uploads
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
from handlers.engagement_views import (
    CONTRACT_FLOW,
    DISPUTE_FLOW,
    DISPUTE_REASON,
    QUESTIONS,
    VERSION,
    Step,
    dispute_question,
    first_missing,
    question,
)
from locales.i18n import t
from models import conversations, demands, engagements
from models.conversations import ConversationState
from models.entities import User
from models.errors import DomainError, NotAllowed, ValidationFailed
from models.events import Event

log = logging.getLogger(__name__)


def today(context: Context) -> date:
    """Today in the platform's time zone (a signing date is a local date)."""
    return datetime.now(ZoneInfo(timezone(context))).date()


def demand_id_of(raw: str) -> int:
    """The demand id carried by a button; anything else is a forged press."""
    return button_number(raw)


def _reference_arg(context: Context, usage_id: str) -> int:
    if not context.args:
        raise ValidationFailed(usage_id)
    return demands.parse_reference(context.args[0])


# --- contract filing -------------------------------------------------------------------


@with_user
async def contract_command(update: Update, context: Context, user: User) -> None:
    """/contract D2026-000123: file the signed contract of a matched demand."""
    await begin_contract(update, context, user, _reference_arg(context, "engage.contract.usage"))


async def begin_contract(update: Update, context: Context, user: User, demand_id: int) -> None:
    """Start the filing at the file step, once the domain says this user may file now."""
    demand = await engagements.may_file_contract(demand_id, user)
    await answer(update)
    conversation = ConversationState(
        CONTRACT_FLOW,
        Step.FILE.value,
        VERSION,
        {"demand_id": demand.id, "reference": demand.reference},
    )
    await conversations.save(conversation_key(update), conversation)
    await ask(update, conversation)


async def ask(update: Update, conversation: ConversationState) -> None:
    """Send the question of the conversation's current step."""
    assert update.effective_chat
    text, markup = question(conversation.state, conversation.data)
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _resume_contract(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    known = {s.value for s in Step}
    if conversation.version != VERSION or conversation.state not in known:
        missing = first_missing(conversation.data)
        conversation.state = missing.value if missing else Step.CONFIRM.value
        conversation.version = VERSION
        await conversations.save(conversation_key(update), conversation)
        assert update.effective_chat
        await update.effective_chat.send_message(t("engage.restarted"))
    await ask(update, conversation)


async def _advance(update: Update, conversation: ConversationState) -> None:
    missing = first_missing(conversation.data)
    conversation.state = missing.value if missing else Step.CONFIRM.value
    await conversations.save(conversation_key(update), conversation)
    await ask(update, conversation)


async def on_contract_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A message while filing: the file, the amount or the signing date."""
    message = update.effective_message
    assert message is not None
    try:
        if conversation.state == Step.FILE:
            conversation.data.update(await _contract_file(context, message))
        elif conversation.state == Step.AMOUNT:
            amount = engagements.check_amount(message.text or "")
            conversation.data["amount"] = str(amount)
        elif conversation.state == Step.SIGNED_ON:
            signed = engagements.check_signed_on(message.text or "", today(context))
            conversation.data["signed_on"] = signed.isoformat()
        else:
            await message.reply_text(t("engage.use_buttons"))
            await ask(update, conversation)
            return
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        await ask(update, conversation)
        return
    await _advance(update, conversation)


async def _contract_file(context: Context, message: Message) -> dict[str, str]:
    """Check the upload, download it through the Bot API and fingerprint it (SHA-256)."""
    upload = await uploads.fingerprinted(
        context, message, engagements.check_contract_file, "contract.file_kind"
    )
    return {
        "file_id": upload.file_id,
        "file_name": upload.file_name,
        "kind": upload.kind,
        "sha256": upload.sha256,
    }


async def _on_contract_button(
    update: Update, context: Context, user: User, parts: list[str]
) -> None:
    step, action = (parts + ["", ""])[2:4]
    value = parts[4] if len(parts) > 4 else ""
    conversation = await conversations.load(conversation_key(update))
    if conversation is None or conversation.flow != CONTRACT_FLOW or conversation.state != step:
        await answer(update, t("button.outdated"), alert=True)
        return
    if step == Step.CONFIRM and action == "ok":
        await _file(update, context, user, conversation)
        return
    await answer(update)
    await retire_buttons(update)
    if action == "cancel":
        await conversations.clear(conversation_key(update))
        assert update.effective_chat
        await update.effective_chat.send_message(t("engage.cancelled"))
        return
    if action == "back":
        steps = [s.value for s in QUESTIONS]
        if step == Step.CONFIRM:
            conversation.state = steps[-1]
        elif step == Step.EDIT:
            conversation.state = Step.CONFIRM.value
        elif step in steps and steps.index(step) > 0:
            conversation.state = steps[steps.index(step) - 1]
    elif step == Step.CONFIRM and action == "edit":
        conversation.state = Step.EDIT.value
    elif step == Step.EDIT and action == "f" and value in {s.value for s in QUESTIONS}:
        conversation.state = value
    elif step == Step.VOUCHER and action == "v" and value in ("0", "1"):
        if value == "1":
            try:
                await engagements.may_use_voucher(int(str(conversation.data["demand_id"])))
            except ValidationFailed as problem:
                assert update.effective_chat
                await update.effective_chat.send_message(t(problem.message_id, **problem.params))
                await ask(update, conversation)
                return
        conversation.data["voucher"] = value == "1"
        missing = first_missing(conversation.data)
        conversation.state = missing.value if missing else Step.CONFIRM.value
    await conversations.save(conversation_key(update), conversation)
    await ask(update, conversation)


async def _file(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    data = conversation.data
    events = await engagements.file_contract(
        int(data["demand_id"]),
        user,
        file_id=str(data["file_id"]),
        kind="photo" if data.get("kind") == "photo" else "document",
        sha256=str(data["sha256"]),
        amount=Decimal(str(data["amount"])),
        signed_on=date.fromisoformat(str(data["signed_on"])),
        voucher=bool(data.get("voucher")),
        platform=platform(context),
    )
    await answer(update)
    await conversations.clear(conversation_key(update))
    await retire_buttons(update)
    assert update.effective_chat
    due = engagements.one_month_after(date.fromisoformat(str(data["signed_on"])))
    await update.effective_chat.send_message(
        t("engage.filed", reference=data.get("reference", ""), due=due.isoformat())
    )
    await publish(context, events)


# --- delivery, completion, dispute -----------------------------------------------------


@with_user
async def delivered_command(update: Update, context: Context, user: User) -> None:
    """/delivered D2026-000123: the matched institution says the service is delivered."""
    demand_id = _reference_arg(context, "engage.delivered.usage")
    await _deliver(update, context, user, demand_id)


# Passed to _step by name rather than through a literal t(...).
DYNAMIC_IDS = ("engage.delivered.done", "engage.completed.done")


async def _deliver(update: Update, context: Context, user: User, demand_id: int) -> None:
    await _step(
        update, context, engagements.mark_delivered, user, demand_id, "engage.delivered.done"
    )


async def _complete(update: Update, context: Context, user: User, demand_id: int) -> None:
    await _step(
        update, context, engagements.confirm_completion, user, demand_id, "engage.completed.done"
    )


async def _step(
    update: Update,
    context: Context,
    action: Callable[[int, User], Awaitable[list[Event]]],
    user: User,
    demand_id: int,
    done_id: str,
) -> None:
    """One press that moves the engagement on: act, retire the buttons, confirm, notify."""
    events = await action(demand_id, user)
    await answer(update)
    await retire_buttons(update)
    demand = await demands.get(demand_id)
    assert update.effective_chat
    await update.effective_chat.send_message(t(done_id, reference=demand.reference))
    await publish(context, events)


async def _begin_dispute(update: Update, context: Context, user: User, demand_id: int) -> None:
    demand = await engagements.may_dispute(demand_id, user)
    await answer(update)
    conversation = ConversationState(
        DISPUTE_FLOW,
        DISPUTE_REASON,
        VERSION,
        {"demand_id": demand.id, "reference": demand.reference},
    )
    await conversations.save(conversation_key(update), conversation)
    await _ask_reason(update, conversation)


async def _ask_reason(update: Update, conversation: ConversationState) -> None:
    assert update.effective_chat
    text, markup = dispute_question(str(conversation.data.get("reference", "")))
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _resume_dispute(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    await _ask_reason(update, conversation)


async def on_dispute_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """The owner's reason for disputing the delivery."""
    message = update.effective_message
    assert message is not None
    if not message.text:
        await message.reply_text(t("input.text_expected"))
        return
    demand_id = int(conversation.data["demand_id"])
    try:
        events = await engagements.dispute(demand_id, user, message.text)
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        await _ask_reason(update, conversation)
        return
    except DomainError:
        # The demand moved on meanwhile: the flow is over either way.
        await conversations.clear(conversation_key(update))
        raise
    await conversations.clear(conversation_key(update))
    await message.reply_text(
        t("engage.dispute.done", reference=conversation.data.get("reference", ""))
    )
    await publish(context, events)


async def _cancel_dispute(update: Update) -> None:
    conversation = await conversations.load(conversation_key(update))
    if conversation is None or conversation.flow != DISPUTE_FLOW:
        await answer(update, t("button.outdated"), alert=True)
        return
    await answer(update)
    await retire_buttons(update)
    await conversations.clear(conversation_key(update))
    assert update.effective_chat
    await update.effective_chat.send_message(t("engage.cancelled"))


async def _resolve(
    update: Update, context: Context, user: User, demand_id: int, *, completed: bool
) -> None:
    events = await engagements.resolve_dispute(demand_id, user, completed=completed)
    demand = await demands.get(demand_id)
    await answer(update)
    key = "engage.resolved.completed" if completed else "engage.resolved.reopened"
    await retire_buttons(update)
    assert update.effective_chat
    await update.effective_chat.send_message(t(key, reference=demand.reference))
    await publish(context, events)


@with_user
async def on_engagement_button(update: Update, context: Context, user: User) -> None:
    """An `en:` button: start filing, deliver, complete, dispute, resolve, or a flow step."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    if action == "f":
        await _on_contract_button(update, context, user, parts)
        return
    if action == "r" and parts[2:] == ["cancel"]:
        await _cancel_dispute(update)
        return
    if len(parts) != 3:
        raise NotAllowed("button.forged")
    demand_id = demand_id_of(parts[2])
    if action == "c":
        await begin_contract(update, context, user, demand_id)
    elif action == "dl":
        await _deliver(update, context, user, demand_id)
    elif action == "ok":
        await _complete(update, context, user, demand_id)
    elif action == "ds":
        await _begin_dispute(update, context, user, demand_id)
    elif action in ("rc", "ro"):
        await _resolve(update, context, user, demand_id, completed=action == "rc")
    else:
        raise NotAllowed("button.forged")


def handlers() -> list[BaseHandler]:
    """This area's handlers: its CommandHandlers first, then its buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("contract", contract_command, filters=private),
        CommandHandler("delivered", delivered_command, filters=private),
        *complaints_chat.commands(),
        CallbackQueryHandler(on_engagement_button, pattern=r"^en:"),
        *feedback.buttons(),
        *complaints_chat.buttons(),
    ]


flows.register(flows.Flow(CONTRACT_FLOW, on_contract_message, _resume_contract))
flows.register(flows.Flow(DISPUTE_FLOW, on_dispute_message, _resume_dispute))
