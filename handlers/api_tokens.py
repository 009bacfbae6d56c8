"""/apitoken: admins issue, list and revoke the bearer tokens of the JSON API (issue #6).

`/apitoken` lists the tokens with a Revoke button each; `/apitoken new read|read_personal
NAME` issues one and shows its secret this once (only its digest is kept). Each press is
checked again by models/api_tokens.py, so an old, forged or second press revokes nothing.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    edit_pressed,
    timezone,
    with_user,
)
from locales.i18n import current_locale, t
from models import api_tokens, permissions
from models.api_entities import ApiScope, ApiToken
from models.entities import User
from models.errors import NotAllowed, ValidationFailed
from models.users import display_name

DYNAMIC_IDS = tuple(f"apitoken.scope.{scope.value}" for scope in ApiScope)


def _when(moment: datetime | None, context: Context) -> str:
    if moment is None:
        return t("apitoken.never")
    zone = ZoneInfo(timezone(context))
    return format_datetime(moment, "yyyy-MM-dd HH:mm", tzinfo=zone, locale=current_locale())


def _line(token: ApiToken, context: Context) -> str:
    by = display_name(token.created_by) if token.created_by else "-"
    if token.revoked_at is None:
        state = t("apitoken.live")
    else:
        who = display_name(token.revoked_by) if token.revoked_by else "-"
        state = t("apitoken.revoked_state", when=_when(token.revoked_at, context), by=who)
    return t(
        "apitoken.line",
        reference=token.reference,
        name=token.name,
        scope=t(f"apitoken.scope.{token.scope.value}"),
        hint=token.hint,
        created=_when(token.created_at, context),
        by=by,
        used=_when(token.last_used_at, context),
        state=state,
    )


async def _listing(admin: User, context: Context) -> tuple[str, InlineKeyboardMarkup | None]:
    tokens = await api_tokens.listing(admin)
    if not tokens:
        return f"{t('apitoken.none')}\n\n{t('apitoken.usage')}", None
    lines = "\n\n".join(_line(token, context) for token in tokens)
    buttons = [
        [
            InlineKeyboardButton(
                t("apitoken.revoke_button", reference=token.reference, name=token.name),
                callback_data=f"ak:r:{token.id}",
            )
        ]
        for token in tokens
        if token.revoked_at is None
    ]
    text = f"{t('apitoken.list_title', count=len(tokens))}\n\n{lines}\n\n{t('apitoken.usage')}"
    return text, InlineKeyboardMarkup(buttons) if buttons else None


@with_user
async def apitoken_command(update: Update, context: Context, user: User) -> None:
    """/apitoken [new SCOPE NAME]: list the tokens, or issue one."""
    assert update.effective_chat
    permissions.require("apitoken.manage", user)
    args = context.args or []
    if not args:
        text, markup = await _listing(user, context)
        await update.effective_chat.send_message(text, reply_markup=markup)
        return
    if args[0].lower() != "new" or len(args) < 3:
        await update.effective_chat.send_message(t("apitoken.usage"))
        return
    try:
        scope = api_tokens.check_scope(args[1])
        issued = await api_tokens.issue(user, " ".join(args[2:]), scope)
    except ValidationFailed as problem:
        text = t(problem.message_id, **problem.params)
        await update.effective_chat.send_message(f"{text}\n\n{t('apitoken.usage')}")
        return
    await update.effective_chat.send_message(
        t(
            "apitoken.issued",
            reference=issued.token.reference,
            name=issued.token.name,
            scope=t(f"apitoken.scope.{scope.value}"),
            secret=issued.secret,
        )
    )


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """An `ak:r:<id>` press: revoke that token, then show the list as it is now."""
    parts = callback_parts(update)
    if len(parts) != 3 or parts[1] != "r":
        raise NotAllowed("button.forged")
    token = await api_tokens.revoke(user, button_number(parts[2]))
    await answer(update, t("apitoken.revoked", reference=token.reference, name=token.name))
    text, markup = await _listing(user, context)
    await edit_pressed(update, text, markup)


def handlers() -> list[BaseHandler]:
    """/apitoken and the `ak:` buttons."""
    return [
        CommandHandler("apitoken", apitoken_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(on_button, pattern=r"^ak:"),
    ]
