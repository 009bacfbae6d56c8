"""Logging in to the admin dashboard (issue #6 item 2) from the chat, without a password.

/dashboard sends a random token in a link; only its SHA-256 is stored. Opening the link
spends it (compare-and-set on used_at, so two opens of one link make one session) and starts
a session whose token lives in an HttpOnly cookie. The role is checked again on every
request, so a reviewer demoted meanwhile is out at their next click. A form's CSRF token is
an HMAC of the session token: nothing more to store, and it dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, date, datetime, time, timedelta

from tortoise.transactions import in_transaction

from models import audit, permissions
from models.dashboard_entities import DashboardLink, DashboardSession
from models.entities import User
from models.errors import NotFound, ValidationFailed
from models.events import Event

log = logging.getLogger(__name__)

ACTION = "dashboard.open"
LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)
# Expired links and sessions are deleted this long after (a late click still hears "expired").
KEPT_AFTER_EXPIRY = timedelta(days=1)
# At most this many links per person in the window: a stolen phone cannot mint a stream.
ISSUE_LIMIT = 5
ISSUE_WINDOW = timedelta(minutes=10)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def issue_link(user: User, now: datetime | None = None) -> str:
    """A new single-use login token for this admin or reviewer."""
    permissions.require(ACTION, user)
    now = now or _now()
    recent = await DashboardLink.filter(user_id=user.id, created_at__gt=now - ISSUE_WINDOW)
    if len(recent) >= ISSUE_LIMIT:
        raise ValidationFailed(
            "dashboard.too_many_links",
            limit=ISSUE_LIMIT,
            minutes=int(ISSUE_WINDOW.total_seconds() // 60),
        )
    token = secrets.token_urlsafe(32)
    await DashboardLink.create(
        token_hash=_hash(token), user_id=user.id, expires_at=now + LINK_LIFETIME
    )
    return token


async def link_owner(token: str) -> User | None:
    """Whose link this is (to answer in their language), if it exists."""
    link = await DashboardLink.get_or_none(token_hash=_hash(token))
    return await User.get_or_none(id=link.user_id) if link else None


async def redeem(token: str, now: datetime | None = None) -> tuple[User, str]:
    """Spend a login link: its owner and a new session token. Refused with why."""
    now = now or _now()
    link = await DashboardLink.get_or_none(token_hash=_hash(token))
    if link is None:
        raise NotFound("dashboard.link_unknown")
    async with in_transaction():
        won = await DashboardLink.filter(id=link.id, used_at=None, expires_at__gt=now).update(
            used_at=now
        )
        if not won:
            fresh = await DashboardLink.get(id=link.id)
            reason = "dashboard.link_used" if fresh.used_at else "dashboard.link_expired"
            raise ValidationFailed(reason)
        user = await User.get(id=link.user_id)
        permissions.require(ACTION, user)
        session = secrets.token_urlsafe(32)
        await DashboardSession.create(
            token_hash=_hash(session), user_id=user.id, expires_at=now + SESSION_LIFETIME
        )
        await audit.record(user.id, "dashboard.login", "user", user.id)
    return user, session


async def session_user(session: str | None, now: datetime | None = None) -> User | None:
    """The person behind a session cookie, if it is live and they may still use the dashboard."""
    if not session:
        return None
    row = await DashboardSession.get_or_none(
        token_hash=_hash(session), ended_at=None, expires_at__gt=now or _now()
    )
    if row is None:
        return None
    user = await User.get_or_none(id=row.user_id)
    if not permissions.allowed(ACTION, user):
        # Demoted or gone: the session ends here rather than waiting for its expiry.
        await DashboardSession.filter(id=row.id).update(ended_at=now or _now())
        return None
    return user


async def end_session(session: str | None) -> None:
    """Log out: the cookie's token no longer opens anything."""
    if session:
        await DashboardSession.filter(token_hash=_hash(session), ended_at=None).update(
            ended_at=_now()
        )


def csrf_token(session: str) -> str:
    """The token every form of this session carries."""
    return hmac.new(session.encode(), b"dashboard-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session: str, given: str | None) -> bool:
    """Whether a form's token belongs to this session (constant-time comparison)."""
    return bool(given) and hmac.compare_digest(csrf_token(session), str(given))


async def forget_expired(day: date) -> list[Event]:
    """Daily: delete links and sessions expired more than KEPT_AFTER_EXPIRY before `day`.
    A hash opens nothing once expired, and the audit log keeps each login (dashboard.login)."""
    cutoff = datetime.combine(day, time(0), UTC) - KEPT_AFTER_EXPIRY
    links = await DashboardLink.filter(expires_at__lt=cutoff).delete()
    sessions = await DashboardSession.filter(expires_at__lt=cutoff).delete()
    if links or sessions:
        log.info("forgot %d expired dashboard link(s) and %d session(s)", links, sessions)
    return []
