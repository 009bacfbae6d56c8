"""The composition root: the python-telegram-bot Application with everything wired in."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, TypeHandler

from bot.config import ConfigError, Settings
from bot.metrics import InstrumentedApplication, Metrics, metrics_of
from bot.notifier import TelegramNotifier
from bot.per_chat import PerChatProcessor
from bot.retrying import RetryingRateLimiter
from bot.webhook import RETRY_UPDATES
from handlers import build_handlers
from handlers.context import NOTIFIER, PLATFORM, TIMEZONE
from handlers.dashboard import DASHBOARD_URL
from locales.i18n import t, use_locale
from models.conversations import CURRENT_UPDATE
from models.crypto import KEYRING, SecretKeyError
from models.db import close_database, is_outage, open_database
from models.entities import User
from models.platform import PlatformConfig
from models.users import check_secret_key, ensure_admins, locale_of
from scheduler import daily
from scheduler import engine as reminder_engine

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    platform: PlatformConfig,
    *,
    own_database: bool = True,
    metrics: Metrics | None = None,
) -> Application:
    """The bot; with own_database it opens and closes the database in post_init/post_shutdown.
    It counts into `metrics` (the web app's, so that /metrics shows them), or its own."""
    if settings.bot_token is None:
        raise ValueError("INNOBRIDGE_BOT_TOKEN is required")

    async def post_init(application: Application) -> None:
        if own_database:
            await open_database(settings.database_url, secret_key=settings.secret)
        else:
            KEYRING.use(settings.secret)
        try:
            await check_secret_key()
        except SecretKeyError as error:
            raise ConfigError(f"environment: INNOBRIDGE_SECRET_KEY: {error}") from None
        notifier = TelegramNotifier(application.bot, platform, settings.timezone)
        application.bot_data[NOTIFIER] = notifier
        await ensure_admins(settings.admin_ids)
        # Per-chat menus only once a person has started the bot (Telegram: "chat not found").
        await notifier.set_default_menus()

    async def post_shutdown(application: Application) -> None:
        if own_database:
            await close_database()

    application = (
        ApplicationBuilder()
        .application_class(InstrumentedApplication, kwargs={"metrics": metrics or Metrics()})
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .rate_limiter(
            # Everything stays under Telegram's overall rate; the reminder engine paces its
            # fan-out lower (DESIGN §4), so replies keep the difference. A 429 pauses every
            # request for its retry_after; network failures are retried with backoff.
            RetryingRateLimiter()
        )
        .concurrent_updates(PerChatProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data[PLATFORM] = platform
    application.bot_data[TIMEZONE] = settings.timezone
    application.bot_data[DASHBOARD_URL] = settings.public_base_url
    # Group -1 runs first for every update: it names the update for conversations.save.
    application.add_handler(TypeHandler(Update, mark_update), group=-1)
    application.add_handlers(build_handlers())
    application.add_error_handler(on_error)
    daily.schedule(application, settings.tz)
    engine = reminder_engine.schedule(application, platform, settings.tz)
    engine.on_tick = metrics_of(application).observe_tick
    return application


async def mark_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let the conversation store know which update it is writing for."""
    CURRENT_UPDATE.set(update.update_id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and tell the user their answers are kept (they are: state is stored)."""
    if isinstance(context.error, Forbidden):
        log.info("user blocked the bot: %s", context.error)
        return
    if is_outage(context.error) and isinstance(update, Update):
        # The database is away: in webhook mode the inbox gives the update back for another
        # try (bot/webhook.py); no apology, since the answer will come.
        log.warning("update %s hit a database outage: %s", update.update_id, context.error)
        context.bot_data.setdefault(RETRY_UPDATES, set()).add(update.update_id)
        return
    log.exception("update failed", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = await User.get_or_none(id=update.effective_user.id) if update.effective_user else None
    with use_locale(locale_of(user) if user else "zh_CN"):
        try:
            await context.bot.send_message(update.effective_chat.id, t("error.generic"))
        except Exception:  # noqa: BLE001 — the apology itself must never crash the handler
            log.exception("could not send the error message")
