"""The JSON API under /api/v1 (issue #6 item 1), an aiohttp sub-application of bot/web.py.

Read-only: demands, organisations, evaluations, engagements, reminder deliveries, for the
provincial platform and the city portal (Jiangsu art. 10, 16). docs/API.md says how to
get a token and call it.
"""

from __future__ import annotations

from aiohttp import web

from bot.api import openapi
from bot.api.auth import api_middleware
from bot.api.routes import PLATFORM, ROUTES, view
from models.platform import PlatformConfig

PREFIX = "/api/v1"
DOCUMENT = web.AppKey("api_document", dict)


async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document (no token needed)."""
    return web.json_response(request.app[DOCUMENT])


def create_api_app(platform: PlatformConfig) -> web.Application:
    """The sub-application mounted at PREFIX."""
    api = web.Application(middlewares=[api_middleware])
    api[PLATFORM] = platform
    api[DOCUMENT] = openapi.document(platform, server=PREFIX)
    for route in ROUTES:
        api.router.add_get(route.path, view(route), allow_head=False)
    api.router.add_get("/openapi.json", openapi_json, allow_head=False)
    return api


def add_api(app: web.Application, platform: PlatformConfig) -> None:
    """Mount the API on the main web application."""
    app.add_subapp(PREFIX, create_api_app(platform))
