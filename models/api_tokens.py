"""Bearer tokens of the JSON API (issue #6): issued and revoked by an admin in chat.

The secret is shown once, when it is issued; only its SHA-256 digest is stored, and a
presented secret is compared with `hmac.compare_digest`. Two scopes, kept deliberately
simple because the API only reads (see docs/API.md):

- `read`: every endpoint, personal data (names, phones, Telegram ids) masked;
- `read_personal`: the same, and personal data unmasked when a request asks for it with
  `personal=true`; each such request is audited (DESIGN §2: full data only when explicitly
  asked for, and audited; PIPL: least exposure).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models import audit, permissions
from models.api_entities import ApiScope, ApiToken
from models.entities import User
from models.errors import AlreadyDecided, NotFound, ValidationFailed

PREFIX = "ibk_"  # says what a leaked string is, so secret scanners and people recognise it
NAME_MAX = 64
# A token used again within this interval does not rewrite last_used_at (one write a minute,
# not one a request).
USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Issued:
    """A new token and its secret, which exists nowhere else once this is shown."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(raw: str) -> str:
    """A token name: who or what uses it (e.g. the provincial platform), 1 to 64 characters."""
    name = " ".join(raw.split())
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed("apitoken.bad_name", max=NAME_MAX)
    return name


def check_scope(raw: str) -> ApiScope:
    """One of the two scopes."""
    try:
        return ApiScope(raw.strip().lower())
    except ValueError:
        raise ValidationFailed("apitoken.bad_scope") from None


async def issue(admin: User, name: str, scope: ApiScope) -> Issued:
    """Issue a token (admins only); the caller shows the secret once."""
    permissions.require("apitoken.manage", admin)
    secret = PREFIX + secrets.token_urlsafe(32)
    async with in_transaction():
        token = await ApiToken.create(
            name=check_name(name),
            token_hash=digest(secret),
            hint=secret[: len(PREFIX) + 4],
            scope=scope,
            created_by_id=admin.id,
        )
        await audit.record(
            admin.id, "apitoken.issued", "api_token", token.id, after={"scope": scope.value}
        )
    return Issued(token, secret)


async def listing(admin: User) -> list[ApiToken]:
    """Every token, newest first, revoked ones included (admins only)."""
    permissions.require("apitoken.manage", admin)
    return await ApiToken.all().order_by("-id").prefetch_related("created_by", "revoked_by")


async def revoke(admin: User, token_id: int) -> ApiToken:
    """Revoke a token now; a second revocation (or a second admin) is told who did it first."""
    permissions.require("apitoken.manage", admin)
    now = datetime.now(UTC)
    async with in_transaction():
        token = await ApiToken.get_or_none(id=token_id)
        if token is None:
            raise NotFound("apitoken.not_found")
        # Compare-and-set: works on SQLite too, where select_for_update does nothing.
        changed = await ApiToken.filter(id=token_id, revoked_at=None).update(
            revoked_at=now, revoked_by_id=admin.id
        )
        if not changed:
            await token.refresh_from_db()
            first = await User.get_or_none(id=token.revoked_by_id or 0)
            raise AlreadyDecided(
                "apitoken.already_revoked",
                reference=token.reference,
                name=token.name,
                by=(first.real_name or first.first_name) if first else "-",
            )
        await audit.record(admin.id, "apitoken.revoked", "api_token", token_id)
    await token.refresh_from_db()
    return token


async def authenticate(secret: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token this secret belongs to; None when unknown. Revoked tokens are returned
    (the caller says "revoked", which helps an integrator more than "invalid")."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    wanted = digest(secret)
    token = await ApiToken.get_or_none(token_hash=wanted)
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    now = now or datetime.now(UTC)
    if token.revoked_at is None and (
        token.last_used_at is None or now - token.last_used_at >= USE_RESOLUTION
    ):
        await ApiToken.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
    return token


async def record_personal_read(token: ApiToken, path: str) -> None:
    """Audit one request that asked for personal data unmasked."""
    await audit.record(None, "api.personal_read", "api_token", token.id, after={"path": path})
