"""The owner's feedback on a completed engagement (Rugao art. 12(4): the basis of the
institution's evaluation and of the enterprise's subsidy).

Four scores of 1-5, the outcome, an optional comment, then a summary with Confirm. The state
is stored per update; each button names its step, so a stale press is recognised.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers import flows
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    publish,
    retire_buttons,
    with_user,
)
from locales.i18n import t
from models import conversations, engagements
from models.conversations import ConversationState
from models.demand_entities import Outcome
from models.entities import User
from models.errors import DomainError, ValidationFailed
from models.text import star_bar, storable

FLOW = "feedback"
VERSION = 1
OUTCOME = "outcome"
COMMENT = "comment"
CONFIRM = "confirm"
STEPS = (*engagements.SCORES, OUTCOME, COMMENT)

DYNAMIC_IDS = (
    *(f"rate.ask.{s}" for s in STEPS),
    *(f"rate.field.{s}" for s in STEPS),
    *(f"rate.outcome.{o.value}" for o in Outcome),
)


def cb(step: str, action: str, value: str = "") -> str:
    """Callback data of a feedback button (`fb:`), naming the step it answers."""
    return f"fb:{action}:{step}:{value}" if value else f"fb:{action}:{step}"


def rate_button(demand_id: int) -> InlineKeyboardButton:
    """The "Rate the service" button sent with the completion notice."""
    return InlineKeyboardButton(t("rate.button"), callback_data=f"fb:s:{demand_id}")


def _next_step(data: dict[str, Any]) -> str:
    for step in STEPS:
        if step not in data:
            return step
    return CONFIRM


def _nav(step: str) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton(t("button.cancel"), callback_data=cb(step, "n", "cancel"))]
    if step != STEPS[0]:
        row.insert(0, InlineKeyboardButton(t("button.back"), callback_data=cb(step, "n", "back")))
    return row


def _value_text(step: str, value: Any) -> str:
    if step == OUTCOME:
        return t(f"rate.outcome.{value}")
    if step == COMMENT:
        return str(value) if value else "—"
    return star_bar(int(value))


def summary(data: dict[str, Any]) -> str:
    """The rating as it will be stored."""
    lines = [t("rate.summary_title", reference=data.get("reference", ""))]
    for step in STEPS:
        lines.append(
            t(
                "rate.summary_line",
                field=t(f"rate.field.{step}"),
                value=_value_text(step, data.get(step)),
            )
        )
    return "\n".join(lines)


def question(step: str, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The question of a step (or the summary) with its buttons."""
    if step == CONFIRM:
        rows = [
            [InlineKeyboardButton(t("button.confirm"), callback_data=cb(step, "n", "ok"))],
            _nav(step),
        ]
        return summary(data), InlineKeyboardMarkup(rows)
    header = t(
        "rate.step", reference=data.get("reference", ""), n=STEPS.index(step) + 1, m=len(STEPS)
    )
    text = f"{header}\n{t(f'rate.ask.{step}')}"
    if step == OUTCOME:
        rows = [
            [
                InlineKeyboardButton(
                    t(f"rate.outcome.{o.value}"), callback_data=cb(step, "v", o.value)
                )
            ]
            for o in Outcome
        ]
    elif step == COMMENT:
        rows = [[InlineKeyboardButton(t("rate.skip"), callback_data=cb(step, "n", "skip"))]]
    else:
        rows = [
            [
                InlineKeyboardButton(str(n), callback_data=cb(step, "v", str(n)))
                for n in range(1, 6)
            ]
        ]
    rows.append(_nav(step))
    return text, InlineKeyboardMarkup(rows)


async def _ask(update: Update, conversation: ConversationState) -> None:
    assert update.effective_chat
    text, markup = question(conversation.state, conversation.data)
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _save_and_ask(update: Update, conversation: ConversationState) -> None:
    await conversations.save(conversation_key(update), conversation)
    await _ask(update, conversation)


async def _begin(update: Update, user: User, raw_id: str) -> None:
    demand = await engagements.may_rate(button_number(raw_id), user)
    await answer(update)
    data = {"demand_id": demand.id, "reference": demand.reference}
    await _save_and_ask(update, ConversationState(FLOW, STEPS[0], VERSION, data))


async def _resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    if conversation.version != VERSION or conversation.state not in (*STEPS, CONFIRM):
        conversation.version = VERSION
        conversation.state = _next_step(conversation.data)
        await conversations.save(conversation_key(update), conversation)
    await _ask(update, conversation)


async def on_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A typed comment, or a nudge towards the buttons."""
    message = update.effective_message
    assert message is not None
    if conversation.state != COMMENT or not message.text:
        await message.reply_text(t("rate.use_buttons"))
        await _ask(update, conversation)
        return
    comment = " ".join(storable(message.text).split())
    if len(comment) > engagements.COMMENT_MAX:
        problem = ValidationFailed(
            "demand.too_long", max=engagements.COMMENT_MAX, length=len(comment)
        )
        await message.reply_text(t(problem.message_id, **problem.params))
        await _ask(update, conversation)
        return
    conversation.data[COMMENT] = comment
    conversation.state = CONFIRM
    await _save_and_ask(update, conversation)


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """A feedback button: start rating, a score or outcome, Skip, Back, Cancel, Confirm."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    if action == "s" and len(parts) == 3:
        await _begin(update, user, parts[2])
        return
    step, value = (parts + ["", "", ""])[2:4]
    conversation = await conversations.load(conversation_key(update))
    if conversation is None or conversation.flow != FLOW or conversation.state != step:
        await answer(update, t("button.outdated"), alert=True)
        return
    if action == "n" and value == "ok" and step == CONFIRM:
        await _submit(update, context, user, conversation)
        return
    if action == "v" and step in engagements.SCORES and value in {"1", "2", "3", "4", "5"}:
        conversation.data[step] = int(value)
    elif action == "v" and step == OUTCOME and value in {o.value for o in Outcome}:
        conversation.data[step] = value
    elif action == "n" and value == "skip" and step == COMMENT:
        conversation.data[COMMENT] = None
    elif action == "n" and value == "back":
        order = [*STEPS, CONFIRM]
        previous = order[max(order.index(step) - 1, 0)]
        conversation.data.pop(previous, None)
        await answer(update)
        await retire_buttons(update)
        conversation.state = previous
        await _save_and_ask(update, conversation)
        return
    elif action == "n" and value == "cancel":
        await answer(update)
        await retire_buttons(update)
        await conversations.clear(conversation_key(update))
        assert update.effective_chat
        await update.effective_chat.send_message(t("rate.cancelled"))
        return
    else:
        await answer(update, t("button.outdated"), alert=True)
        return
    await answer(update)
    await retire_buttons(update)
    conversation.state = _next_step(conversation.data)
    await _save_and_ask(update, conversation)


async def _submit(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    data = conversation.data
    scores = {s: int(data[s]) for s in engagements.SCORES}
    try:
        events = await engagements.give_feedback(
            int(data["demand_id"]), user, scores, str(data[OUTCOME]), data.get(COMMENT)
        )
    except DomainError:
        # Rated by someone else of the owner side meanwhile: this draft has no future.
        await conversations.clear(conversation_key(update))
        raise
    await answer(update)
    await conversations.clear(conversation_key(update))
    await retire_buttons(update)
    assert update.effective_chat
    await update.effective_chat.send_message(t("rate.thanks", reference=data.get("reference", "")))
    await publish(context, events)


def buttons() -> list[BaseHandler]:
    """The feedback buttons (`fb:`)."""
    return [CallbackQueryHandler(on_button, pattern=r"^fb:")]


flows.register(flows.Flow(FLOW, on_message, _resume))
