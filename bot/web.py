"""The aiohttp app beside the bot: health, readiness, metrics, the JSON API (more routes
come with later issues)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from tortoise import Tortoise

from bot import dashboard, webhook
from bot.api import add_api
from bot.config import Settings, load_platform
from bot.metrics import Metrics
from models.platform import PlatformConfig

SETTINGS = web.AppKey("settings", Settings)
BOT_READY = web.AppKey("bot_ready", dict)
METRICS = web.AppKey("metrics", Metrics)


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


async def prometheus(request: web.Request) -> web.Response:
    """Prometheus text format; the inbox depth is read from the database for each scrape."""
    body = await request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_web_app(
    settings: Settings, metrics: Metrics | None = None, platform: PlatformConfig | None = None
) -> web.Application:
    """The web application; the runner fills BOT_READY once the bot is identified and builds
    the bot with this app's METRICS, so that /metrics shows what the bot counts."""
    app = web.Application()
    app[SETTINGS] = settings
    app[BOT_READY] = {}
    app[METRICS] = metrics or Metrics()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", prometheus)
    webhook.add_routes(app)
    dashboard.add_routes(app)
    add_api(app, platform or load_platform(settings.config))
    return app
