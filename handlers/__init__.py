"""Telegram handlers, registered in one ordered list (the order matters: first match wins)."""

from __future__ import annotations

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import (
    admin,
    api_tokens,
    broadcasts,
    catalog,
    common,
    dashboard,
    demand_submit,
    engagement,
    evaluation,
    institutions,
    market,
    privacy,
    reminders,
    review,
    stats,
    vouchers,
)

# (command, handler, shown in menus) — the menus themselves are set by bot/notifier.py.
COMMANDS = {
    "start": common.start,
    "help": common.help_command,
    "status": common.status,
    "language": common.language,
    "cancel": common.cancel,
    "pending": review.pending,
    "invite": admin.invite,
}
# The demand lifecycle (issue #3), one module per area; each brings its commands and buttons.
# Then /mydata and /forget (issue #7), which every user has; then tiers and sanctions (#5),
# then innovation vouchers, the annual evaluation, the admins' /stats and /export
# and broadcasts (#5); then the dashboard's login links and the JSON API's tokens (#6);
# then the resource catalogue (#9).
AREAS = (
    demand_submit,
    market,
    engagement,
    reminders,
    privacy,
    institutions,
    vouchers,
    evaluation,
    stats,
    broadcasts,
    dashboard,
    api_tokens,
    catalog,
)


def build_handlers() -> list[BaseHandler]:
    """Every handler, in the order PTB should try them."""
    private = filters.ChatType.PRIVATE
    return [
        # Commands first, so /cancel or /start always work, whatever step a user is at.
        *(CommandHandler(name, callback, filters=private) for name, callback in COMMANDS.items()),
        # Each area of the demand lifecycle: its commands, then its buttons.
        *(handler for area in AREAS for handler in area.handlers()),
        # Buttons by prefix; the callback data carries its flow so each module checks its own.
        CallbackQueryHandler(common.on_registration_button, pattern=r"^rg:"),
        CallbackQueryHandler(review.on_review_button, pattern=r"^rv:"),
        CallbackQueryHandler(review.on_pending_button, pattern=r"^pq:"),
        CallbackQueryHandler(common.on_language_button, pattern=r"^lang:"),
        # Anything else pressed: an old or forged button gets a polite "outdated".
        CallbackQueryHandler(common.on_stale_button),
        MessageHandler(private & filters.COMMAND, common.unknown_command),
        # Every other private message is an answer to the step the user is at (or a nudge).
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, common.on_message),
    ]
