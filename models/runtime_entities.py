"""Tortoise models of the running service: the webhook inbox and shared settings.

Same rules as models/entities.py: times in UTC, and no semicolons or apostrophes in model
docstrings (they become table comments and Tortoise splits SQLite DDL at semicolons).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class InboxState(StrEnum):
    """Where a received update stands."""

    PENDING = "pending"
    PROCESSING = "processing"  # a worker holds it until lease_until
    DONE = "done"


class InboxUpdate(Model):
    """An update Telegram posted to the webhook, stored before it is acknowledged.

    Unique by update_id, so a retried delivery is acknowledged and not processed again.
    The updates of one chat are processed one at a time in update_id order.
    """

    update_id = fields.BigIntField(primary_key=True, generated=False)
    chat_id = fields.BigIntField(null=True)
    payload: dict[str, Any] = fields.JSONField()
    state = fields.CharEnumField(InboxState, max_length=16, default=InboxState.PENDING)
    claimed_by = fields.CharField(max_length=32, null=True)
    lease_until: datetime | None = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at: datetime | None = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_updates"
        indexes = (("state", "chat_id"),)


class SharedSetting(Model):
    """A value every worker process must agree on, such as the generated webhook secret."""

    key = fields.CharField(max_length=64, primary_key=True)
    value = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "shared_settings"
