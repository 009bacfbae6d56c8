"""Tortoise models of the JSON API (issue #6): the bearer tokens an admin issues in chat.

Only a SHA-256 digest of each secret is stored, so a copy of the database does not let
anyone call the API. New tables only (DEVELOPERS.md), and no semicolons or apostrophes in
model docstrings (they become table comments).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.entities import User


class ApiScope(StrEnum):
    """What a token may read: everything masked, or also personal data when asked for."""

    READ = "read"
    READ_PERSONAL = "read_personal"


class ApiToken(Model):
    """A bearer token of the JSON API, issued and revoked by an admin."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    # SHA-256 hex digest of the secret, the only form in which it is kept.
    token_hash = fields.CharField(max_length=64, unique=True)
    # The first characters of the secret, so an admin can tell tokens apart in the list.
    hint = fields.CharField(max_length=12)
    scope = fields.CharEnumField(ApiScope, max_length=16)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens_created", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    revoked_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_tokens_revoked", null=True, on_delete=fields.SET_NULL
    )
    revoked_by_id: int | None
    revoked_at: datetime | None = fields.DatetimeField(null=True)
    last_used_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_tokens"

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this token."""
        return f"K{self.created_at.year}-{self.id:06d}"
