"""Tortoise models of the admin dashboard (issue #6): login links and sessions.

Only the SHA-256 of a link's or a session's token is stored, so a copy of the database lets
nobody log in. New tables in 0010.
"""

from __future__ import annotations

from datetime import datetime

from tortoise import fields
from tortoise.models import Model

from models.entities import User


class DashboardLink(Model):
    """A single-use login link sent in the chat, valid a few minutes."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="dashboard_links", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at: datetime = fields.DatetimeField()
    used_at: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "dashboard_link"


class DashboardSession(Model):
    """A browser logged in to the dashboard, until it expires or logs out."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="dashboard_sessions", on_delete=fields.CASCADE
    )
    user_id: int
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at: datetime = fields.DatetimeField()
    ended_at: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "dashboard_session"
