"""The aiohttp app beside the bot: health and readiness (more routes come with later issues)."""

from __future__ import annotations

from aiohttp import web
from tortoise import Tortoise

from bot import webhook
from bot.config import Settings

SETTINGS = web.AppKey("settings", Settings)
BOT_READY = web.AppKey("bot_ready", dict)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers and the bot has identified itself with getMe."""
    checks: dict[str, bool] = {"bot": bool(request.app[BOT_READY].get("username"))}
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
        checks["database"] = True
    except Exception:  # noqa: BLE001 — any failure means "not ready", reported as such
        checks["database"] = False
    status = 200 if all(checks.values()) else 503
    return web.json_response({"ready": status == 200, "checks": checks}, status=status)


def create_web_app(settings: Settings) -> web.Application:
    """The web application; the runner fills BOT_READY once the bot is identified."""
    app = web.Application()
    app[SETTINGS] = settings
    app[BOT_READY] = {}
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    webhook.add_routes(app)
    return app
