"""Complaints about institutions (Jiangsu art. 31): /complaint for users, /complaints for admins.

A user complains only about an institution they dealt with (models/complaints.py checks it
again on filing, so a forged `cp:` button changes nothing). Admins uphold or dismiss; the
first decision wins and the complainant is told the outcome in their language.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    edit_pressed,
    publish,
    retire_buttons,
    with_user,
)
from locales.i18n import t, use_locale
from models import complaints, conversations
from models.conversations import ConversationState
from models.demand_entities import Complaint, ComplaintStatus
from models.entities import Organization, Role, User, UserStatus
from models.errors import NotAllowed, ValidationFailed
from models.users import display_name, locale_of

log = logging.getLogger(__name__)

FLOW = "complaint"
VERSION = 1
INSTITUTION = "institution"
TEXT = "text"
CONFIRM = "confirm"
STEPS = (INSTITUTION, TEXT)

DYNAMIC_IDS = tuple(f"complain.status.{s.value}" for s in ComplaintStatus)


def _nav(step: str) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton(t("button.cancel"), callback_data=f"cp:n:{step}:cancel")]
    if step != INSTITUTION:
        row.insert(0, InlineKeyboardButton(t("button.back"), callback_data=f"cp:n:{step}:back"))
    return row


def complaint_card(complaint: Complaint) -> tuple[str, InlineKeyboardMarkup | None]:
    """What an admin sees of a complaint; open ones carry Uphold / Dismiss."""
    text = t(
        "complain.card",
        reference=complaint.reference,
        institution=complaint.institution.name,
        complainant=display_name(complaint.complainant),
        text=complaint.text,
        status=t(f"complain.status.{complaint.status.value}"),
    )
    if complaint.status is not ComplaintStatus.OPEN:
        return text, None
    buttons = [
        InlineKeyboardButton(t("complain.uphold"), callback_data=f"cp:u:{complaint.id}"),
        InlineKeyboardButton(t("complain.dismiss"), callback_data=f"cp:x:{complaint.id}"),
    ]
    return text, InlineKeyboardMarkup([buttons])


async def _ask(update: Update, user: User, conversation: ConversationState) -> None:
    assert update.effective_chat
    step, data = conversation.state, conversation.data
    if step == INSTITUTION:
        orgs = await complaints.institutions_dealt_with(user)
        rows = [[InlineKeyboardButton(o.name, callback_data=f"cp:i:{o.id}")] for o in orgs]
        rows.append(_nav(step))
        text = f"{t('complain.step', n=1, m=len(STEPS))}\n{t('complain.ask.institution')}"
    elif step == TEXT:
        rows = [_nav(step)]
        text = t(
            "complain.ask.text",
            institution=data.get("institution_name", ""),
            min=complaints.TEXT_MIN,
            max=complaints.TEXT_MAX,
        )
        text = f"{t('complain.step', n=2, m=len(STEPS))}\n{text}"
    else:
        rows = [
            [InlineKeyboardButton(t("button.confirm"), callback_data=f"cp:n:{CONFIRM}:ok")],
            _nav(CONFIRM),
        ]
        text = t(
            "complain.summary",
            institution=data.get("institution_name", ""),
            text=data.get(TEXT, ""),
        )
    await update.effective_chat.send_message(text, reply_markup=InlineKeyboardMarkup(rows))


async def _save_and_ask(update: Update, user: User, conversation: ConversationState) -> None:
    await conversations.save(conversation_key(update), conversation)
    await _ask(update, user, conversation)


@with_user
async def complaint_command(update: Update, context: Context, user: User) -> None:
    """/complaint: choose an institution you dealt with, say what happened, confirm."""
    assert update.effective_chat
    if not await complaints.institutions_dealt_with(user):
        await update.effective_chat.send_message(t("complain.nothing"))
        return
    await _save_and_ask(update, user, ConversationState(FLOW, INSTITUTION, VERSION, {}))


async def _resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    if conversation.version != VERSION or conversation.state not in (*STEPS, CONFIRM):
        conversation.version = VERSION
        conversation.state = INSTITUTION
        await conversations.save(conversation_key(update), conversation)
    await _ask(update, user, conversation)


async def on_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """What happened, typed; anything else is a nudge towards the buttons."""
    message = update.effective_message
    assert message is not None
    if conversation.state != TEXT:
        await message.reply_text(t("complain.use_buttons"))
        await _ask(update, user, conversation)
        return
    try:
        conversation.data[TEXT] = complaints.check_text(message.text or "")
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        await _ask(update, user, conversation)
        return
    conversation.state = CONFIRM
    await _save_and_ask(update, user, conversation)


async def _choose(
    update: Update, user: User, conversation: ConversationState, raw_id: str
) -> None:
    allowed = {o.id: o for o in await complaints.institutions_dealt_with(user)}
    org: Organization | None = allowed.get(button_number(raw_id))
    if org is None:
        raise NotAllowed("complaint.not_dealt_with")
    await answer(update)
    await retire_buttons(update)
    conversation.data.update({"institution_id": org.id, "institution_name": org.name})
    conversation.state = TEXT
    await _save_and_ask(update, user, conversation)


async def _file(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    complaint, events = await complaints.file(
        user, int(conversation.data["institution_id"]), str(conversation.data.get(TEXT, ""))
    )
    await answer(update)
    await conversations.clear(conversation_key(update))
    await retire_buttons(update)
    assert update.effective_chat
    await update.effective_chat.send_message(t("complain.filed", reference=complaint.reference))
    await publish(context, events)


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """A `cp:` button: an institution, Back / Cancel / Confirm, or an admin's decision."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    if action in ("u", "x") and len(parts) == 3:
        await _decide(update, context, user, parts[2], upheld=action == "u")
        return
    step = INSTITUTION if action == "i" else (parts[2] if len(parts) > 2 else "")
    conversation = await conversations.load(conversation_key(update))
    if conversation is None or conversation.flow != FLOW or conversation.state != step:
        await answer(update, t("button.outdated"), alert=True)
        return
    if action == "i" and len(parts) == 3:
        await _choose(update, user, conversation, parts[2])
        return
    choice = parts[3] if action == "n" and len(parts) == 4 else ""
    if choice == "ok" and step == CONFIRM:
        await _file(update, context, user, conversation)
        return
    if choice not in ("back", "cancel"):
        raise NotAllowed("button.forged")
    await answer(update)
    await retire_buttons(update)
    if choice == "cancel":
        await conversations.clear(conversation_key(update))
        assert update.effective_chat
        await update.effective_chat.send_message(t("complain.cancelled"))
        return
    conversation.state = TEXT if step == CONFIRM else INSTITUTION
    await _save_and_ask(update, user, conversation)


async def _decide(
    update: Update, context: Context, admin: User, raw_id: str, *, upheld: bool
) -> None:
    decided = await complaints.decide(button_number(raw_id), admin, upheld=upheld)
    complaint = await complaints.complaint_with_parties(decided.id)
    await answer(update)
    text, _ = complaint_card(complaint)
    await edit_pressed(update, text)
    await _tell_complainant(context, complaint)


async def _tell_complainant(context: Context, complaint: Complaint) -> None:
    complainant = complaint.complainant
    key = (
        "complain.outcome.upheld"
        if complaint.status is ComplaintStatus.UPHELD
        else ("complain.outcome.dismissed")
    )
    with use_locale(locale_of(complainant)):
        text = t(key, reference=complaint.reference, institution=complaint.institution.name)
        try:
            await context.bot.send_message(complainant.id, text)
        except (Forbidden, BadRequest) as error:
            log.info("complainant %s not told: %s", complainant.id, error)


@with_user
async def complaints_command(update: Update, context: Context, user: User) -> None:
    """/complaints (admins): the open complaints, each with Uphold / Dismiss."""
    assert update.effective_chat
    if user.role is not Role.ADMIN or user.status is not UserStatus.ACTIVE:
        raise NotAllowed("complaint.admin_only")
    waiting = await complaints.open_complaints()
    if not waiting:
        await update.effective_chat.send_message(t("complain.none_open"))
        return
    await update.effective_chat.send_message(t("complain.open_title", count=len(waiting)))
    for complaint in waiting:
        text, markup = complaint_card(complaint)
        await update.effective_chat.send_message(text, reply_markup=markup)


def commands() -> list[BaseHandler]:
    """/complaint and /complaints."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("complaint", complaint_command, filters=private),
        CommandHandler("complaints", complaints_command, filters=private),
    ]


def buttons() -> list[BaseHandler]:
    """The complaint buttons (`cp:`)."""
    return [CallbackQueryHandler(on_button, pattern=r"^cp:")]


flows.register(flows.Flow(FLOW, on_message, _resume))
