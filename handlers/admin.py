"""Admin commands: /invite creates a single-use deep link into a staff role."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from telegram import Update

from handlers.context import Context, platform, timezone, with_user
from locales.i18n import current_locale, t
from models import invites
from models.entities import STAFF_ROLES, User


@with_user
async def invite(update: Update, context: Context, user: User) -> None:
    """/invite reviewer|publisher|assistant|admin → a link that works once, until it expires."""
    assert update.effective_chat
    roles = "|".join(r.value for r in STAFF_ROLES)
    if not context.args or len(context.args) != 1:
        await update.effective_chat.send_message(t("invite.usage", roles=roles))
        return
    created = await invites.create(
        user.id, context.args[0].lower(), platform(context).invites.ttl_hours
    )
    link = f"https://t.me/{context.bot.username}?start={invites.PREFIX}{created.token}"
    until = format_datetime(
        created.expires_at,
        "yyyy-MM-dd HH:mm",
        tzinfo=ZoneInfo(timezone(context)),
        locale=current_locale(),
    )
    await update.effective_chat.send_message(
        t("invite.created", role=t(f"role.{created.role.value}"), link=link, until=until)
    )
