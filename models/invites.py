"""Invite deep links: the only way into staff roles (DESIGN §1)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models import audit, permissions
from models.entities import STAFF_ROLES, Invite, Role, User, UserStatus
from models.errors import ValidationFailed
from models.events import Event, RoleGranted
from models.users import grant_role

PREFIX = "inv_"


async def create(admin_id: int, role_name: str, ttl_hours: int) -> Invite:
    """A single-use invite into a staff role; admins only."""
    admin = await User.get_or_none(id=admin_id)
    permissions.require("invite.create", admin)
    try:
        role = Role(role_name)
    except ValueError:
        raise ValidationFailed("invite.role") from None
    if role not in STAFF_ROLES:
        raise ValidationFailed("invite.role")
    invite = await Invite.create(
        token=secrets.token_urlsafe(18),
        role=role,
        created_by_id=admin_id,
        expires_at=datetime.now(UTC) + timedelta(hours=ttl_hours),
    )
    await audit.record(admin_id, "invite.created", "invite", invite.id, after={"role": role})
    return invite


async def redeem(token: str, user_id: int) -> list[Event]:
    """Use an invite: compare-and-set on `used_by`, so a link works once, for one person."""
    now = datetime.now(UTC)
    user = await User.get(id=user_id)
    if user.role is Role.ADMIN and user.status is UserStatus.ACTIVE:
        raise ValidationFailed("invite.already_admin")
    async with in_transaction():
        won = await Invite.filter(token=token, used_by_id=None, expires_at__gt=now).update(
            used_by_id=user_id, used_at=now
        )
        if not won:
            invite = await Invite.get_or_none(token=token)
            if invite is None:
                raise ValidationFailed("invite.unknown")
            raise ValidationFailed("invite.used" if invite.used_by_id else "invite.expired")
        invite = await Invite.get(token=token)
        await grant_role(
            user, invite.role, actor_id=user_id, action="invite.redeemed", invite=invite.id
        )
    return [RoleGranted(user_id)]
