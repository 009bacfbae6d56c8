"""/mydata and /forget (PIPL art. 45 and 47): a person's data as a file, or anonymised.

/forget asks first. The confirmation buttons carry a one-time nonce kept in the stored
conversation, so a forged press, a press on an older prompt or a second press does nothing
but say the button is outdated; the anonymisation runs in the transaction that ends the
conversation (models/conversations.finishing), so two presses at once forget once.
"""

from __future__ import annotations

import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows
from handlers.context import (
    Context,
    answer,
    callback_parts,
    conversation_key,
    notifier,
    publish,
    retire_buttons,
    with_user,
)
from locales.i18n import t
from models import conversations, forget, privacy
from models.conversations import ConversationState
from models.entities import User, UserStatus

FORGET_FLOW = "forget"
CONFIRM = "confirm"
VERSION = 1
PREFIX = "pv"


@with_user
async def mydata(update: Update, context: Context, user: User) -> None:
    """/mydata: everything the platform holds about the sender, as a JSON file."""
    assert update.effective_chat
    await privacy.claim_export(user.id)
    data = await privacy.export(user.id)
    await update.effective_chat.send_document(
        document=privacy.export_file(data),
        filename=f"innobridge-mydata-{user.id}.json",
        caption=t("privacy.mydata_caption"),
    )


@with_user
async def forget_command(update: Update, context: Context, user: User) -> None:
    """/forget: say what it does and ask to confirm (or say what must be settled first)."""
    assert update.effective_chat
    blockers = await privacy.forget_blockers(user)
    if blockers:
        await update.effective_chat.send_message(
            t("privacy.forget_blocked", references=", ".join(blockers))
        )
        return
    stored = ConversationState(FORGET_FLOW, CONFIRM, VERSION, {"nonce": secrets.token_hex(8)})
    await conversations.save(conversation_key(update), stored)
    await _ask(update, stored)


async def _ask(update: Update, stored: ConversationState) -> None:
    assert update.effective_chat
    nonce = stored.data.get("nonce", "")
    buttons = [
        [InlineKeyboardButton(t("privacy.button.forget"), callback_data=f"{PREFIX}:ok:{nonce}")],
        [InlineKeyboardButton(t("button.cancel"), callback_data=f"{PREFIX}:no:{nonce}")],
    ]
    await update.effective_chat.send_message(
        t("privacy.forget_confirm"), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def _resume(update: Update, context: Context, user: User, stored: ConversationState) -> None:
    """Back at the question (after /start, or a message instead of a press)."""
    await _ask(update, stored)


async def _on_message(
    update: Update, context: Context, user: User, stored: ConversationState
) -> None:
    assert update.effective_chat
    await update.effective_chat.send_message(t("privacy.forget_use_buttons"))
    await _ask(update, stored)


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """Confirm or cancel /forget: only the press on the current prompt counts."""
    parts = callback_parts(update)
    action, nonce = (parts + ["", ""])[1:3]
    key = conversation_key(update)
    stored = await conversations.load(key)
    current = (
        stored is not None
        and stored.flow == FORGET_FLOW
        and len(parts) == 3
        and secrets.compare_digest(str(stored.data.get("nonce", "")), nonce)
    )
    if not current or action not in ("ok", "no"):
        await answer(update, t("button.outdated"), alert=True)
        return
    if action == "no":
        await conversations.clear(key)
        await answer(update)
        await retire_buttons(update, t("privacy.forget_cancelled"))
        return
    async with conversations.finishing(key) as mine:
        if not mine:
            await answer(update, t("button.outdated"), alert=True)
            return
        done = await forget.forget(user.id)
    await answer(update)
    await retire_buttons(update, t("privacy.forgotten"))
    await publish(context, done.events)
    # The menu of someone the bot does not know (the row in hand is the one just removed).
    user.status = UserStatus.FORGOTTEN
    await notifier(context).refresh_menu(user)


def handlers() -> list[BaseHandler]:
    """This area's commands and buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("mydata", mydata, filters=private),
        CommandHandler("forget", forget_command, filters=private),
        CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"),
    ]


flows.register(flows.Flow(FORGET_FLOW, _on_message, _resume))
