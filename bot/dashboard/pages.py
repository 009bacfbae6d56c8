"""The dashboard's pages: login, review queue, overview, institutions, reminders, audit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup
from telegram.ext import Application

from bot.dashboard.render import COOKIE, is_https, message, page
from handlers import stats_chart
from handlers.context import NOTIFIER, PLATFORM, TIMEZONE
from handlers.review import late_text
from handlers.review_views import card_text
from handlers.stats_views import chart_text, summary
from locales.i18n import current_locale, t, use_locale
from models import dashboard, dashboard_data, permissions, review, stats
from models.deliveries import BROADCAST
from models.entities import User
from models.errors import AlreadyDecided, DomainError
from models.platform import PlatformConfig
from models.reminder_entities import DeliveryState
from models.users import locale_of
from scheduler.messages import RENDER

log = logging.getLogger(__name__)
# Reminder rules and delivery states by name on the reminders page (templates/reminders.html).
DYNAMIC_IDS = {f"dashboard.rule.{rule}" for rule in (*RENDER, BROADCAST)} | {
    f"dashboard.state.{state.value}" for state in DeliveryState
}
PAGE_SIZE = 20
Handler = Callable[[web.Request, User, str], Awaitable[web.StreamResponse]]


def _application(request: web.Request) -> Application | None:
    # bot.web mounts this package, so it is imported here, not at the top (an import cycle).
    from bot.web import BOT_READY

    application: Application | None = request.app[BOT_READY].get("application")
    return application


def staff(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Only with a live session of someone who may still use the dashboard."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(COOKIE, "")
        user = await dashboard.session_user(token)
        if user is None:
            response = message(request, "dashboard.login_needed", status=401)
            if token:
                response.del_cookie(COOKIE, path="/dashboard")
            return response
        if _application(request) is None:
            return message(request, "dashboard.not_ready", status=503, user=user)
        return await handler(request, user, token)

    return wrapper


def _offset(request: web.Request) -> int:
    raw = request.query.get("offset", "0")
    return int(raw) if raw.isdigit() and len(raw) < 9 else 0


def _pager(offset: int, total: int) -> dict[str, Any]:
    return {
        "previous": max(0, offset - PAGE_SIZE) if offset > 0 else None,
        "next": offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
        "number": offset // PAGE_SIZE + 1,
    }


async def login(request: web.Request) -> web.StreamResponse:
    """The link from the chat: spend it, start a session, go to the dashboard."""
    token = request.match_info["token"]
    try:
        user, session = await dashboard.redeem(token)
    except DomainError as refusal:
        owner = await dashboard.link_owner(token)
        status = 404 if refusal.message_id == "dashboard.link_unknown" else 410
        if refusal.message_id == "dashboard.not_allowed":
            status = 403
        return message(request, refusal.message_id, status=status, user=owner)
    response = web.Response(status=302, headers={"Location": "/dashboard"})
    response.set_cookie(
        COOKIE,
        session,
        max_age=int(dashboard.SESSION_LIFETIME.total_seconds()),
        path="/dashboard",
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
    )
    log.info("dashboard login")  # who is in the audit log, not in the server's log
    return response


@staff
async def logout(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """End the session (POST with the form's CSRF token)."""
    form = await request.post()
    if not dashboard.csrf_ok(token, _field(form, "csrf")):
        return message(request, "dashboard.csrf_refused", status=403, user=user)
    await dashboard.end_session(token)
    response = message(request, "dashboard.logged_out", status=200, user=user)
    response.del_cookie(COOKIE, path="/dashboard")
    return response


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _common(user: User, token: str, active: str) -> dict[str, Any]:
    return {
        "csrf": dashboard.csrf_token(token),
        "admin": permissions.allowed(dashboard_data.ADMIN_ACTION, user),
        "active": active,
        "name": user.real_name or user.first_name,
    }


@staff
async def reviews(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """The review queue: every pending review at the stages this person decides."""
    return await _queue(request, user, token, notice=None, status=200)


async def _queue(
    request: web.Request, user: User, token: str, *, notice: str | None, status: int
) -> web.StreamResponse:
    application = _application(request)
    assert application is not None
    config: PlatformConfig = application.bot_data[PLATFORM]
    zone: str = application.bot_data[TIMEZONE]
    offset = _offset(request)
    items, total = await review.pending_for(user, offset=offset, limit=PAGE_SIZE)
    cards = []
    with use_locale(locale_of(user)):
        for item in items:
            card = await review.card(item.id, user.id)
            # The chat's own card text: HTML made by t(), placeholders escaped, phone masked.
            text = card_text(card, config, current_locale(), zone)
            checks = (
                [(i, t(f"review.check.{i}")) for i in review.CHECKLIST]
                if item.subject_type in review.CHECKLIST_SUBJECTS
                else []
            )
            cards.append(
                {
                    "id": item.id,
                    "reference": card.reference,
                    "text": Markup(text),
                    "checks": checks,
                }
            )
    return page(
        request,
        "reviews.html",
        user=user,
        status=status,
        cards=cards,
        total=total,
        notice=notice,
        pager=_pager(offset, total),
        **_common(user, token, "reviews"),
    )


@staff
async def decide(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """Approve or reject from the web: review.decide, as the chat does; first decision wins."""
    form = await request.post()
    if not dashboard.csrf_ok(token, _field(form, "csrf")):
        return message(request, "dashboard.csrf_refused", status=403, user=user)
    application = _application(request)
    assert application is not None
    review_id = int(request.match_info["review_id"])
    approve = _field(form, "action") == "approve"
    with use_locale(locale_of(user)):
        try:
            events = await review.decide(
                review_id,
                user.id,
                approve=approve,
                reason=None if approve else _field(form, "reason"),
                platform=application.bot_data[PLATFORM],
                checklist=[str(item) for item in form.getall("check", [])] if approve else None,
            )
        except AlreadyDecided as late:
            return await _queue(request, user, token, notice=late_text(late), status=409)
        except DomainError as refusal:
            notice = t(refusal.message_id, **refusal.params)
            return await _queue(request, user, token, notice=notice, status=400)
        card = await review.card(review_id, user.id)
        notice = t("dashboard.decided", reference=card.reference)
    try:
        await application.bot_data[NOTIFIER].publish(events)
    except DomainError:
        log.warning("notification of %s failed", events, exc_info=True)
    return await _queue(request, user, token, notice=notice, status=200)


def _today(application: Application) -> date:
    return datetime.now(ZoneInfo(application.bot_data[TIMEZONE])).date()


@staff
async def overview(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """Counts and the funnel (as /stats says them), the chart; reviewers go to their queue."""
    if not permissions.allowed(dashboard_data.ADMIN_ACTION, user):
        raise web.HTTPFound("/dashboard/reviews")
    application = _application(request)
    assert application is not None
    config: PlatformConfig = application.bot_data[PLATFORM]
    day = _today(application)
    data = await stats.collect(
        user, timezone=application.bot_data[TIMEZONE], months=config.stats.months, today=day
    )
    with use_locale(locale_of(user)):
        text = Markup(summary(data, config, day))
    return page(
        request, "overview.html", user=user, summary=text, **_common(user, token, "overview")
    )


@staff
async def chart(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """The /stats chart as a PNG, in the viewer's language."""
    application = _application(request)
    assert application is not None
    config: PlatformConfig = application.bot_data[PLATFORM]
    day = _today(application)
    try:
        data = await stats.collect(
            user, timezone=application.bot_data[TIMEZONE], months=config.stats.months, today=day
        )
    except DomainError:
        raise web.HTTPForbidden() from None
    with use_locale(locale_of(user)):
        words = chart_text()
    with use_locale("en"):
        fallback = chart_text()
    png = await stats_chart.render(data.by_month, data.funnel, words, fallback)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


async def _admin_page(
    request: web.Request,
    user: User,
    token: str,
    name: str,
    load: Callable[[], Awaitable[dict[str, Any]]],
) -> web.StreamResponse:
    try:
        context = await load()
    except DomainError:
        return message(request, "dashboard.admin_only", status=403, user=user)
    context["when"] = _clock(request)
    return page(request, f"{name}.html", user=user, **context, **_common(user, token, name))


def _clock(request: web.Request) -> Callable[[datetime], str]:
    """Stored times (UTC) as the platform's staff read them: in the platform's zone."""
    application = _application(request)
    zone = ZoneInfo(application.bot_data[TIMEZONE]) if application else ZoneInfo("UTC")
    return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@staff
async def institutions(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """Institutions with their tier and latest published grade."""
    offset = _offset(request)

    async def load() -> dict[str, Any]:
        rows, total = await dashboard_data.institutions(user, offset=offset, limit=PAGE_SIZE)
        return {"rows": rows, "total": total, "pager": _pager(offset, total)}

    return await _admin_page(request, user, token, "institutions", load)


@staff
async def reminders(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """Reminder counts, the next ones due, the latest sent or failed."""

    async def load() -> dict[str, Any]:
        counts, upcoming, recent = await dashboard_data.reminders(user, limit=PAGE_SIZE)
        return {"counts": counts, "upcoming": upcoming, "recent": recent}

    return await _admin_page(request, user, token, "reminders", load)


@staff
async def audit(request: web.Request, user: User, token: str) -> web.StreamResponse:
    """The audit log, newest first."""
    offset = _offset(request)

    async def load() -> dict[str, Any]:
        rows, total = await dashboard_data.audit_log(user, offset=offset, limit=PAGE_SIZE)
        return {"rows": rows, "total": total, "pager": _pager(offset, total)}

    return await _admin_page(request, user, token, "audit", load)
