"""What every handler needs: the sender, their language, the platform, the notifier.

`bot/` puts the platform configuration and the notifier into `application.bot_data`; these
helpers give typed access so handlers never import from `bot/` (DESIGN §8: arrows point down).
"""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from locales.i18n import t, use_locale
from models import conversations
from models.entities import User
from models.errors import DomainError, NotAllowed
from models.events import Event
from models.platform import PlatformConfig
from models.users import locale_of, touch_user

log = logging.getLogger(__name__)

PLATFORM = "platform"
NOTIFIER = "notifier"
TIMEZONE = "timezone"
Context = ContextTypes.DEFAULT_TYPE


class Notifier(Protocol):
    """Turns domain events into messages (implemented in bot/notifier.py)."""

    async def publish(self, events: Sequence[Event]) -> None:
        """Deliver the messages these events call for."""

    async def refresh_menu(self, user: User) -> None:
        """Set the user's command menu for their role and language."""


def platform(context: Context) -> PlatformConfig:
    """The platform configuration."""
    config: PlatformConfig = context.application.bot_data[PLATFORM]
    return config


def timezone(context: Context) -> str:
    """The platform's time zone name, for showing times."""
    zone: str = context.application.bot_data[TIMEZONE]
    return zone


def notifier(context: Context) -> Notifier:
    """The notifier that turns domain events into messages."""
    sender: Notifier = context.application.bot_data[NOTIFIER]
    return sender


async def publish(context: Context, events: Sequence[Event]) -> None:
    """Hand domain events to the notifier.

    The user's action is already stored when this runs: a notice that cannot be rendered
    (its record changed meanwhile) is logged, not reported to them as a failure of theirs.
    """
    try:
        await notifier(context).publish(events)
    except DomainError:
        log.warning("notification of %s failed", events, exc_info=True)


_TAG = re.compile(r"<[^>]+>")
UserHandler = Callable[[Update, Context, User], Awaitable[None]]


def with_user(handler: UserHandler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """Load the sender, speak their language, and turn domain refusals into a polite reply."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        sender = update.effective_user
        if sender is None or sender.is_bot:
            return
        if update.callback_query is not None and update.effective_chat is None:
            # A button under an inline-mode message: this bot has no inline mode, so it is
            # none of ours (and there is no chat to hold a conversation in).
            await update.callback_query.answer()
            return
        user = await touch_user(
            sender.id,
            first_name=sender.first_name,
            username=sender.username,
            language_code=sender.language_code,
        )
        with use_locale(locale_of(user)):
            try:
                await handler(update, context, user)
            except DomainError as refusal:
                # The record's code (bot/logs.py) lets support find what a person was refused.
                ref = refusal.params.get("reference")
                log.info("refused: %s", refusal.message_id, extra={"ref": ref})
                await answer_refusal(update, refusal)

    return wrapper


async def answer_refusal(update: Update, refusal: DomainError) -> None:
    """Tell the user why not, as a callback answer or a message."""
    text = t(refusal.message_id, **refusal.params)
    if update.callback_query is not None:
        await update.callback_query.answer(_plain(text), show_alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


def _plain(text: str) -> str:
    # Callback answers are plain text (no parse_mode) and at most 200 characters.
    return html.unescape(_TAG.sub("", text))[:200]


async def answer(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer the callback query (Telegram shows a spinner until it is answered)."""
    if update.callback_query is not None:
        await update.callback_query.answer(_plain(text) if text else None, show_alert=alert)


async def retire_buttons(update: Update, note: str | None = None) -> None:
    """The pressed message's question is settled: its buttons must not be pressed again.

    With a note, the note is appended to the message text (e.g. "accepted").
    """
    message = update.callback_query.message if update.callback_query else None
    if note and isinstance(message, Message) and message.is_accessible and message.text:
        await edit_pressed(update, f"{message.text_html}\n\n{note}")
    else:
        await edit_pressed(update, markup=None)


# The pressed message is gone (deleted while the press travelled) or already shows what we
# want (a second tap on the same button): nothing left to change, nothing failed.
EDIT_MOOT = ("message is not modified", "message to edit not found", "message can't be edited")


async def edit_pressed(
    update: Update,
    text: str | None = None,
    markup: InlineKeyboardMarkup | None = None,
    *,
    resend: bool = False,
) -> None:
    """Show `text` (None: keep the text) with `markup` in the message whose button was pressed.

    Telegram gives only the id of a message too old for the bot to see (date 0, PTB's
    `is_accessible` False): it is left alone, or with `resend` the text comes as a new message.
    An edit that would change nothing is not made (Telegram refuses it as "not modified").
    """
    query = update.callback_query
    message = query.message if query is not None else None
    if query is None or message is None or not message.is_accessible:
        if resend and text is not None and update.effective_chat is not None:
            await update.effective_chat.send_message(text, reply_markup=markup)
        return
    assert isinstance(message, Message)
    shown = message.reply_markup
    if shown is not None and not shown.inline_keyboard:
        shown = None
    if shown == markup and (text is None or text == message.text_html):
        return
    try:
        if text is None:
            await query.edit_message_reply_markup(reply_markup=markup)
        else:
            await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if not any(moot in error.message.lower() for moot in EDIT_MOOT):
            raise
        log.info("pressed message %s left as it is: %s", message.message_id, error.message)


def button_number(raw: str) -> int:
    """A record id or page offset carried by a button; anything else is a forged press.

    ASCII digits only ("²".isdigit() is true, yet int() refuses it), and few enough of them
    for the 32-bit id columns (PostgreSQL refuses a larger parameter outright).
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise NotAllowed("button.forged")
    return int(raw)


def conversation_key(update: Update) -> str:
    """The stored conversation of this user in this chat."""
    assert update.effective_chat
    assert update.effective_user
    return conversations.conversation_key(update.effective_chat.id, update.effective_user.id)


def callback_parts(update: Update) -> list[str]:
    """The colon-separated parts of the callback data."""
    data: Any = update.callback_query.data if update.callback_query else None
    return data.split(":") if isinstance(data, str) else []
