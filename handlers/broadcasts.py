"""/broadcast (admins): type the message, pick the audience, preview, confirm (issue #5).

Step 1 of 3 is the typed text (a draft is made), step 2 the audience picker (roles,
townships, tiers toggled by buttons, with the count), step 3 the preview: the exact message
recipients get, then the audience, count and Confirm / Edit / Cancel. Confirm turns the
summary into the live progress message, which the reminder engine edits as it sends
(scheduler/broadcast_progress.py). The step and the draft are stored in the database, so a
restart loses nothing; every press is checked again by the domain (models/broadcasts.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows
from handlers.broadcasts_views import (
    LETTER_KIND,
    PREFIX,
    message,
    picker,
    preview,
    progress_text,
)
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    edit_pressed,
    platform,
    with_user,
)
from locales.i18n import t
from models import broadcasts, conversations, permissions
from models.broadcast_entities import Broadcast
from models.broadcasts import Progress
from models.conversations import ConversationState
from models.entities import User
from models.errors import AlreadyDecided, NotAllowed, NotFound, ValidationFailed

FLOW = "broadcast"
VERSION = 1
KEY = "broadcast_id"


class Step(StrEnum):
    """Where the admin is; stored, so the values must stay stable."""

    TEXT = "text"
    AUDIENCE = "audience"
    PREVIEW = "preview"


def _state(step: Step, broadcast_id: int | None) -> ConversationState:
    return ConversationState(FLOW, step.value, VERSION, {KEY: broadcast_id})


@with_user
async def broadcast_command(update: Update, context: Context, user: User) -> None:
    """/broadcast: start a new broadcast with its text."""
    permissions.require(broadcasts.ACTION, user)
    await conversations.save(conversation_key(update), _state(Step.TEXT, None))
    await _ask_text(update)


async def _ask_text(update: Update) -> None:
    assert update.effective_chat
    await update.effective_chat.send_message(
        t("broadcast.ask_text", max=f"{broadcasts.TEXT_MAX:,}")
    )


async def _send_picker(update: Update, context: Context, item: Broadcast) -> None:
    assert update.effective_chat
    count = await broadcasts.count(item.audience)
    text, markup = picker(item, count, platform(context))
    await update.effective_chat.send_message(text, reply_markup=markup)


async def on_text(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """The typed text (step 1), or a nudge to use the buttons at the later steps."""
    incoming = update.effective_message
    assert incoming is not None
    broadcast_id = conversation.data.get(KEY)
    if conversation.state != Step.TEXT or incoming.text is None:
        if conversation.state == Step.TEXT:  # a photo, a sticker: only text is broadcast
            await incoming.reply_text(t("broadcast.text_only"))
            return
        await incoming.reply_text(t("broadcast.use_buttons"))
        await _resume(update, context, user, conversation)
        return
    try:
        if isinstance(broadcast_id, int):
            item = await broadcasts.edit_text(user, broadcast_id, incoming.text)
        else:
            item = await broadcasts.create(user, incoming.text, platform(context))
    except ValidationFailed as problem:  # nothing stored: the admin types it again
        await incoming.reply_text(t(problem.message_id, **problem.params))
        return
    except (AlreadyDecided, NotFound):  # another admin sent or cancelled this draft
        await conversations.clear(conversation_key(update))
        raise
    await conversations.save(conversation_key(update), _state(Step.AUDIENCE, item.id))
    await _send_picker(update, context, item)


async def _resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """Ask the current step again (after /start, a restart or a stray message)."""
    broadcast_id = conversation.data.get(KEY)
    if conversation.state not in (Step.AUDIENCE, Step.PREVIEW) or not isinstance(
        broadcast_id, int
    ):
        await _ask_text(update)
        return
    try:
        item = await broadcasts.draft(user, broadcast_id)
    except (AlreadyDecided, NotFound):  # sent or cancelled meanwhile: nothing to resume
        await conversations.clear(conversation_key(update))
        raise
    if conversation.state == Step.PREVIEW:
        await _send_preview(update, context, item)
    else:
        await _send_picker(update, context, item)


async def _current(update: Update, step: Step, broadcast_id: int) -> None:
    """This button belongs to the step the admin is at, for this draft; else it is stale."""
    stored = await conversations.load(conversation_key(update))
    if (
        stored is None
        or stored.flow != FLOW
        or stored.state != step
        or stored.data.get(KEY) != broadcast_id
    ):
        raise NotAllowed("button.outdated")


async def _toggle(update: Update, context: Context, user: User, parts: list[str]) -> None:
    broadcast_id = button_number(parts[2])
    kind = LETTER_KIND.get(parts[3])
    if kind is None:
        raise NotAllowed("button.forged")
    await _current(update, Step.AUDIENCE, broadcast_id)
    item = await broadcasts.toggle(user, broadcast_id, kind, parts[4], platform(context))
    text, markup = picker(item, await broadcasts.count(item.audience), platform(context))
    await answer(update)
    await edit_pressed(update, text, markup)


async def _send_preview(update: Update, context: Context, item: Broadcast) -> None:
    assert update.effective_chat
    count = await broadcasts.count(item.audience)
    await update.effective_chat.send_message(message(item.reference, item.text))
    text, markup = preview(item, count, platform(context))
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _preview(update: Update, context: Context, user: User, broadcast_id: int) -> None:
    await _current(update, Step.AUDIENCE, broadcast_id)
    item = await broadcasts.draft(user, broadcast_id)
    if await broadcasts.count(item.audience) == 0:
        raise ValidationFailed("broadcast.nobody", reference=item.reference)
    await conversations.save(conversation_key(update), _state(Step.PREVIEW, item.id))
    await answer(update)
    await edit_pressed(update, markup=None)  # the picker is settled: no stale toggles
    await _send_preview(update, context, item)


async def _edit_text(update: Update, user: User, broadcast_id: int) -> None:
    await _current(update, Step.AUDIENCE, broadcast_id)
    await broadcasts.draft(user, broadcast_id)
    await conversations.save(conversation_key(update), _state(Step.TEXT, broadcast_id))
    await answer(update)
    await edit_pressed(update, markup=None)
    await _ask_text(update)


async def _back_to_audience(
    update: Update, context: Context, user: User, broadcast_id: int
) -> None:
    await _current(update, Step.PREVIEW, broadcast_id)
    item = await broadcasts.draft(user, broadcast_id)
    await conversations.save(conversation_key(update), _state(Step.AUDIENCE, item.id))
    await answer(update)
    await edit_pressed(update, markup=None)
    await _send_picker(update, context, item)


async def _confirm(update: Update, user: User, broadcast_id: int, shown: str) -> None:
    query = update.callback_query
    assert query is not None
    assert update.effective_chat
    pressed = query.message
    if not isinstance(pressed, Message):  # too old to be edited into a progress message
        raise NotAllowed("button.outdated")
    item = await broadcasts.confirm(
        user,
        broadcast_id,
        shown=shown,
        chat_id=update.effective_chat.id,
        message_id=pressed.message_id,
        now=datetime.now(UTC),
    )
    await _end_flow(update, broadcast_id)
    await answer(update)
    # The summary becomes the progress message, unless the engine got there first (its
    # edit then already shows later counts, and this one must not put them back).
    if await broadcasts.take_progress(item, "", "0/0"):
        waiting = Progress(sent=0, failed=0, pending=item.recipients, total=item.recipients)
        await edit_pressed(update, progress_text(item, waiting, done=False))


async def _cancel(update: Update, user: User, broadcast_id: int) -> None:
    item = await broadcasts.cancel(user, broadcast_id)
    await _end_flow(update, broadcast_id)
    await answer(update)
    await edit_pressed(update, t("broadcast.cancelled", reference=item.reference))


async def _end_flow(update: Update, broadcast_id: int) -> None:
    """The presser's flow is over if it was about this broadcast."""
    stored = await conversations.load(conversation_key(update))
    if stored is not None and stored.flow == FLOW and stored.data.get(KEY) == broadcast_id:
        await conversations.clear(conversation_key(update))


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """A `bc:` button: toggle, preview, edit, confirm or cancel; checked again each time."""
    permissions.require(broadcasts.ACTION, user)
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 2 else ""
    if action == "t" and len(parts) == 5:
        await _toggle(update, context, user, parts)
    elif action == "p" and len(parts) == 3:
        await _preview(update, context, user, button_number(parts[2]))
    elif action == "e" and len(parts) == 3:
        await _edit_text(update, user, button_number(parts[2]))
    elif action == "a" and len(parts) == 3:
        await _back_to_audience(update, context, user, button_number(parts[2]))
    elif action == "c" and len(parts) == 4:
        await _confirm(update, user, button_number(parts[2]), parts[3])
    elif action == "x" and len(parts) == 3:
        await _cancel(update, user, button_number(parts[2]))
    else:
        raise NotAllowed("button.forged")


def handlers() -> list[BaseHandler]:
    """/broadcast and the `bc:` buttons."""
    return [
        CommandHandler("broadcast", broadcast_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"),
    ]


flows.register(flows.Flow(FLOW, on_text, _resume))
