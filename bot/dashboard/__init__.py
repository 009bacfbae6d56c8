"""The admin dashboard (issue #6 items 2 and 4): server-rendered pages beside the bot.

Login comes from the chat (/dashboard, models/dashboard.py); the session cookie is HttpOnly,
SameSite=Lax, and Secure when the request came over HTTPS (directly or, behind nginx, as
X-Forwarded-Proto says: docs/DEPLOY.md). Every request re-reads the session and the role.
Decisions go through the same domain functions as the chat and their events through the
running bot's notifier, so the applicant hears in Telegram. No JavaScript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.dashboard import pages
from bot.dashboard.render import TEMPLATES


def add_routes(app: web.Application) -> None:
    """Mount the dashboard under /dashboard."""
    aiohttp_jinja2.setup(
        app,
        app_key=TEMPLATES,
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
    )
    routes: list[Any] = [
        web.get("/dashboard", pages.overview),
        web.get("/dashboard/login/{token}", pages.login),
        web.post("/dashboard/logout", pages.logout),
        web.get("/dashboard/reviews", pages.reviews),
        web.post("/dashboard/reviews/{review_id:\\d+}", pages.decide),
        web.get("/dashboard/chart.png", pages.chart),
        web.get("/dashboard/institutions", pages.institutions),
        web.get("/dashboard/reminders", pages.reminders),
        web.get("/dashboard/audit", pages.audit),
    ]
    app.router.add_routes(routes)
