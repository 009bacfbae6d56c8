"""Rendering a dashboard page in the viewer's language, with the headers every page needs."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from locales.i18n import t, use_locale
from models.entities import User
from models.users import locale_of

TEMPLATES = web.AppKey("dashboard_templates", jinja2.Environment)
COOKIE = "innobridge_dashboard"
# No framing, no scripts, no referrer (the login path must not travel onwards).
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
    "script-src 'none'; frame-ancestors 'none'; form-action 'self'",
}


def guess_locale(request: web.Request) -> str:
    """For someone not logged in: English if the browser asks for it first, else Chinese."""
    accept = request.headers.get("Accept-Language", "").lower()
    return "en" if accept.startswith("en") else "zh_CN"


def page(
    request: web.Request,
    template: str,
    *,
    user: User | None = None,
    locale: str | None = None,
    status: int = 200,
    **context: Any,
) -> web.Response:
    """The page rendered in the user's language (or the given one)."""
    env = aiohttp_jinja2.get_env(request.app, app_key=TEMPLATES)
    chosen = locale or (locale_of(user) if user else guess_locale(request))
    with use_locale(chosen):
        body = env.get_template(template).render(
            t=t, html=Markup, user=user, lang="en" if chosen == "en" else "zh-CN", **context
        )
    return web.Response(
        text=body, content_type="text/html", charset="utf-8", status=status, headers=HEADERS
    )


def message(
    request: web.Request,
    message_id: str,
    *,
    status: int,
    user: User | None = None,
    locale: str | None = None,
    **params: Any,
) -> web.Response:
    """A page that only says something (link used, please log in, …)."""
    chosen = locale or (locale_of(user) if user else guess_locale(request))
    with use_locale(chosen):
        text = t(message_id, **params)
    return page(request, "message.html", user=user, locale=chosen, status=status, text=text)


def is_https(request: web.Request) -> bool:
    """Whether the browser reached us over HTTPS (nginx says so in X-Forwarded-Proto)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"
