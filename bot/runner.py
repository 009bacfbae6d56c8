"""Running the bot and the web server together in one event loop, until a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from telegram.ext import Application, ContextTypes

from bot.app import build_application
from bot.config import Settings
from bot.metrics import metrics_of
from bot.web import BOT_READY, METRICS
from bot.webhook import INBOX, SECRET_KEY, InboxProcessor
from models import inbox
from models.platform import PlatformConfig

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
INBOX_KEEP = timedelta(days=1)


async def forget_done(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Finished updates are kept a day, long enough to recognise any retried delivery."""
    dropped = await inbox.forget_done(datetime.now(UTC) - INBOX_KEEP)
    if dropped:
        log.info("inbox: %d finished update(s) forgotten", dropped)


async def start_webhook(
    settings: Settings,
    application: Application,
    web_app: web.Application,
) -> InboxProcessor:
    """Register the webhook (every worker registers the same URL and shared secret) and start
    taking updates from the inbox."""
    assert settings.webhook_url is not None
    configured = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    secret = await inbox.shared_secret(SECRET_KEY, configured)
    processor = InboxProcessor(application, secret)
    metrics_of(application).inbox = True  # every update now comes from the inbox
    web_app[INBOX]["processor"] = processor
    processor.start()
    if application.job_queue is not None:
        application.job_queue.run_repeating(forget_done, interval=3600, first=60, name="inbox")
    await application.bot.set_webhook(
        url=str(settings.webhook_url),
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )
    log.info("bot @%s on webhook %s", application.bot.username, settings.webhook_url)
    return processor


async def serve(
    settings: Settings,
    platform: PlatformConfig,
    web_app: web.Application,
    *,
    before_bot: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Start the web server, then the bot (long polling, or the webhook when its URL is set);
    stop both on SIGTERM/SIGINT, letting the updates in hand finish."""
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("web server on http://%s:%s", settings.http_host, settings.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if before_bot is not None:
            await before_bot()
        application = build_application(settings, platform, metrics=web_app[METRICS])
        async with application:
            # PTB runs post_init itself only inside run_polling(); here we own the loop.
            assert application.post_init is not None
            await application.post_init(application)
            web_app[BOT_READY]["username"] = application.bot.username
            web_app[BOT_READY]["application"] = application  # the sandbox's clock runs jobs
            await application.start()
            if settings.webhook_url is None:
                assert application.updater is not None
                await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
                log.info("bot @%s polling", application.bot.username)
                await stop.wait()
                await application.updater.stop()
            else:
                processor = await start_webhook(settings, application, web_app)
                await stop.wait()
                await processor.stop()  # drain what is in hand; the rest stays in the inbox
            await application.stop()
            assert application.post_shutdown is not None
            await application.post_shutdown(application)
    finally:
        await runner.cleanup()
