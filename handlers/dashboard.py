"""/dashboard: a single-use link to the web dashboard (issue #6 item 2), for admins and reviewers.

The link carries only a random token (no id, no name); its page is served by bot/dashboard/.
Telegram's link preview would fetch the link and spend it, so the preview is turned off.
"""

from __future__ import annotations

from telegram import LinkPreviewOptions, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers.context import Context, with_user
from locales.i18n import t
from models import dashboard
from models.entities import User

# Where the web server is reached from a browser; bot/app.py puts it in bot_data.
DASHBOARD_URL = "dashboard_url"
LOGIN_PATH = "/dashboard/login/"


@with_user
async def dashboard_command(update: Update, context: Context, user: User) -> None:
    """/dashboard: the login link, valid a few minutes, once."""
    assert update.effective_chat
    token = await dashboard.issue_link(user)
    base = str(context.application.bot_data.get(DASHBOARD_URL, "")).rstrip("/")
    minutes = int(dashboard.LINK_LIFETIME.total_seconds() // 60)
    await update.effective_chat.send_message(
        t("dashboard.link", url=f"{base}{LOGIN_PATH}{token}", minutes=minutes),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


def handlers() -> list[BaseHandler]:
    """/dashboard."""
    return [CommandHandler("dashboard", dashboard_command, filters=filters.ChatType.PRIVATE)]
