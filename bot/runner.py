"""Running the bot and the web server together in one event loop, until a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import build_application
from bot.config import Settings
from bot.web import BOT_READY
from models.platform import PlatformConfig

log = logging.getLogger(__name__)


async def serve(
    settings: Settings,
    platform: PlatformConfig,
    web_app: web.Application,
    *,
    before_bot: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Start the web server, then the bot (long polling); stop both on SIGTERM/SIGINT."""
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
        application = build_application(settings, platform)
        async with application:
            # PTB runs post_init itself only inside run_polling(); here we own the loop.
            assert application.post_init is not None
            await application.post_init(application)
            web_app[BOT_READY]["username"] = application.bot.username
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=["message", "callback_query"])
            log.info("bot @%s polling", application.bot.username)
            await stop.wait()
            await application.updater.stop()
            await application.stop()
            assert application.post_shutdown is not None
            await application.post_shutdown(application)
    finally:
        await runner.cleanup()
