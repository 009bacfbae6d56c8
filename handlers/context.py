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

from telegram import Message, Update
from telegram.ext import ContextTypes

from locales.i18n import t, use_locale
from models import conversations
from models.entities import User
from models.errors import DomainError
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
    query = update.callback_query
    if query is None or query.message is None:
        return
    if note and isinstance(query.message, Message) and query.message.text:
        await query.edit_message_text(f"{query.message.text_html}\n\n{note}", reply_markup=None)
    else:
        await query.edit_message_reply_markup(reply_markup=None)


def conversation_key(update: Update) -> str:
    """The stored conversation of this user in this chat."""
    assert update.effective_chat
    assert update.effective_user
    return conversations.conversation_key(update.effective_chat.id, update.effective_user.id)


def callback_parts(update: Update) -> list[str]:
    """The colon-separated parts of the callback data."""
    data: Any = update.callback_query.data if update.callback_query else None
    return data.split(":") if isinstance(data, str) else []
