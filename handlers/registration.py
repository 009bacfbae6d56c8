"""Registration flow: role → name → phone → organisation → credit code → township/fields → confirm.

State and answers are stored per update (models/conversations.py): a restart at any step
loses nothing. Handlers only parse and render; every rule is in models/registration.py.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update

from handlers import flows
from handlers.context import (
    Context,
    answer,
    callback_parts,
    conversation_key,
    edit_pressed,
    platform,
    publish,
    retire_buttons,
)
from handlers.registration_views import (
    CONFIRM,
    EDIT,
    FLOW,
    TEXT_STEPS,
    VERSION,
    chosen,
    question,
)
from locales.i18n import current_locale, t
from models import conversations, registration
from models.conversations import ConversationState
from models.entities import Role, User
from models.errors import ValidationFailed
from models.registration import Field, first_missing, steps_for


async def begin(update: Update, context: Context, user: User) -> None:
    """Start (or restart) registration at the first question."""
    conversation = ConversationState(FLOW, Field.ROLE.value, VERSION, {})
    await conversations.save(conversation_key(update), conversation)
    await ask(update, context, conversation)


async def ask(update: Update, context: Context, conversation: ConversationState) -> None:
    """Send the question of the conversation's current step."""
    assert update.effective_chat
    text, markup = question(
        conversation.state, conversation.data, platform(context), current_locale()
    )
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _resume_flow(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    await resume(update, context, conversation)


async def resume(update: Update, context: Context, conversation: ConversationState) -> None:
    """Pick a stored conversation up again; an outdated one restarts with its answers kept."""
    if conversation.version != VERSION or conversation.state not in _known_states():
        conversation.state = _next_state(conversation.data)
        conversation.version = VERSION
        await conversations.save(conversation_key(update), conversation)
        assert update.effective_chat
        await update.effective_chat.send_message(t("registration.restarted"))
    await ask(update, context, conversation)


def _known_states() -> set[str]:
    return {f.value for f in Field} | {CONFIRM, EDIT}


def _next_state(draft: dict[str, Any]) -> str:
    missing = first_missing(draft)
    return missing.value if missing else CONFIRM


async def _advance(update: Update, context: Context, conversation: ConversationState) -> None:
    conversation.state = _next_state(conversation.data)
    await conversations.save(conversation_key(update), conversation)
    await ask(update, context, conversation)


async def _cancel(update: Update) -> None:
    await conversations.clear(conversation_key(update))
    assert update.effective_chat
    await update.effective_chat.send_message(
        t("registration.cancelled"), reply_markup=ReplyKeyboardRemove()
    )


async def _back(update: Update, context: Context, conversation: ConversationState) -> None:
    steps = [s.value for s in steps_for(_role(conversation))]
    if conversation.state == CONFIRM:
        conversation.state = steps[-1]
    elif conversation.state in steps and steps.index(conversation.state) > 0:
        conversation.state = steps[steps.index(conversation.state) - 1]
    await conversations.save(conversation_key(update), conversation)
    await ask(update, context, conversation)


def _role(conversation: ConversationState) -> Role | None:
    raw = conversation.data.get(Field.ROLE)
    return Role(raw) if raw else None


async def on_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A message while registering: the answer to a text step, or a nudge to use the buttons."""
    message = update.effective_message
    assert message is not None
    state = conversation.state
    if message.text in (t("button.cancel"),):
        await _cancel(update)
        return
    if message.text in (t("button.back"),):
        await _back(update, context, conversation)
        return
    if state not in {f.value for f in TEXT_STEPS}:
        await message.reply_text(t("registration.use_buttons"))
        await ask(update, context, conversation)
        return
    field = Field(state)
    raw = _raw_answer(field, message)
    if raw is None:
        return await _reject_input(update, context, conversation, "input.text_expected")
    try:
        value = registration.check_answer(field, raw, platform(context))
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        await ask(update, context, conversation)
        return
    conversation.data[field.value] = value
    if field is Field.PHONE:
        # Take the contact keyboard away once the phone is known.
        await message.reply_text(
            chosen(field, value, platform(context), current_locale()),
            reply_markup=ReplyKeyboardRemove(),
        )
    await _advance(update, context, conversation)


def _raw_answer(field: Field, message: Message) -> str | None:
    if field is Field.PHONE and message.contact is not None:
        # Only the sender's own card counts: Telegram fills user_id when they share their own.
        if message.contact.user_id != (message.from_user.id if message.from_user else None):
            raise ValidationFailed("phone.not_yours")
        return message.contact.phone_number
    return message.text


async def _reject_input(
    update: Update, context: Context, conversation: ConversationState, message_id: str
) -> None:
    assert update.effective_message
    await update.effective_message.reply_text(t(message_id))
    await ask(update, context, conversation)


async def on_callback(
    update: Update, context: Context, user: User, conversation: ConversationState | None
) -> None:
    """A registration button: checked against the stored step, so old buttons do nothing."""
    parts = callback_parts(update)
    step, action = (parts + ["", ""])[1:3]
    value = parts[3] if len(parts) > 3 else ""
    if conversation is None or conversation.flow != FLOW or conversation.state != step:
        await answer(update, t("button.outdated"), alert=True)
        return
    # Each branch answers the query exactly once (Telegram refuses a second answer).
    if action in ("cancel", "back") or step == EDIT or (step == CONFIRM and action != "ok"):
        await answer(update)
    if action == "cancel":
        await retire_buttons(update)
        await _cancel(update)
    elif action == "back":
        await retire_buttons(update)
        await _back(update, context, conversation)
    elif step == CONFIRM:
        await _on_confirm(update, context, user, conversation, action)
    elif step == EDIT and action == "f" and value in {f.value for f in Field}:
        await retire_buttons(update)
        conversation.state = value
        await conversations.save(conversation_key(update), conversation)
        await ask(update, context, conversation)
    elif step == Field.FIELDS and action in ("t", "done"):
        await _on_fields(update, context, conversation, action, value)
    elif step in (Field.ROLE, Field.TOWNSHIP) and action == "v":
        await _on_choice(update, context, conversation, Field(step), value)
    else:
        await answer(update, t("button.outdated"), alert=True)


async def _on_choice(
    update: Update, context: Context, conversation: ConversationState, field: Field, value: str
) -> None:
    try:
        value = registration.check_answer(field, value, platform(context))
    except ValidationFailed as problem:
        await answer(update, t(problem.message_id, **problem.params), alert=True)
        return
    await answer(update)
    if field is Field.ROLE and conversation.data.get(Field.ROLE) != value:
        # Another role asks other questions: drop answers the new role does not owe.
        conversation.data = {
            k: v
            for k, v in conversation.data.items()
            if k in {f.value for f in steps_for(registration.parse_role(value))}
        }
    conversation.data[field.value] = value
    await _show_answer(update, context, field, value)
    await _advance(update, context, conversation)


async def _show_answer(update: Update, context: Context, field: Field, value: Any) -> None:
    await edit_pressed(update, chosen(field, value, platform(context), current_locale()))


async def _on_fields(
    update: Update, context: Context, conversation: ConversationState, action: str, code: str
) -> None:
    picked: list[str] = list(
        conversation.data.get("picked", conversation.data.get(Field.FIELDS) or [])
    )
    if action == "t":
        if platform(context).category(code) is None:
            await answer(update, t("button.outdated"), alert=True)
            return
        await answer(update)
        picked = [c for c in picked if c != code] if code in picked else [*picked, code]
        conversation.data["picked"] = picked
        await conversations.save(conversation_key(update), conversation)
        _, markup = question(
            conversation.state, conversation.data, platform(context), current_locale()
        )
        assert isinstance(markup, InlineKeyboardMarkup)
        await edit_pressed(update, markup=markup)
        return
    try:
        value = registration.check_answer(Field.FIELDS, picked, platform(context))
    except ValidationFailed as problem:
        await answer(update, t(problem.message_id), alert=True)
        return
    await answer(update)
    conversation.data.pop("picked", None)
    conversation.data[Field.FIELDS.value] = value
    await _show_answer(update, context, Field.FIELDS, value)
    await _advance(update, context, conversation)


async def _on_confirm(
    update: Update, context: Context, user: User, conversation: ConversationState, action: str
) -> None:
    if action == "edit":
        await retire_buttons(update)
        conversation.state = EDIT
        await conversations.save(conversation_key(update), conversation)
        await ask(update, context, conversation)
        return
    if action != "ok":
        return
    outcome = await registration.submit(user.id, conversation.data, platform(context))
    await answer(update)
    await conversations.clear(conversation_key(update))
    await retire_buttons(update)
    assert update.effective_chat
    await update.effective_chat.send_message(
        t("registration.submitted", reference=outcome.registration.reference)
    )
    await publish(context, outcome.events)


flows.register(flows.Flow(FLOW, on_message, _resume_flow))
