"""Tortoise model of an admin's broadcast: a message to an audience, delivered through the
reminder engine's paced, once-only deliveries (rule "broadcast", occurrence = reference).
New table in 0007; progress_shown added in 0008.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.entities import User


class BroadcastStatus(StrEnum):
    """draft -> sending -> done; draft -> cancelled."""

    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(Model):
    """One broadcast: its text, its audience, and where its live progress message is."""

    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="broadcasts", null=True, on_delete=fields.SET_NULL
    )
    author_id: int | None
    text = fields.TextField()
    # {"roles": [...], "townships": [...], "tiers": [...]}; an empty list means any.
    audience: dict[str, Any] = fields.JSONField(default=dict)
    status = fields.CharEnumField(BroadcastStatus, max_length=16, default=BroadcastStatus.DRAFT)
    recipients = fields.IntField(default=0)  # counted when confirmed
    progress_chat_id = fields.BigIntField(null=True)
    progress_message_id = fields.BigIntField(null=True)
    # The counts the progress message last showed ("sent/failed"): a sender edits it only
    # after moving this with a compare-and-set, so no two processes make the same edit
    # (Telegram refuses an edit that changes nothing).
    progress_shown = fields.CharField(max_length=32, default="")
    confirmed_at: datetime | None = fields.DatetimeField(null=True)
    finished_at: datetime | None = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "broadcasts"

    @property
    def reference(self) -> str:
        """Reference code quoted in every message about this broadcast."""
        return f"B{self.created_at.year}-{self.id:06d}"
