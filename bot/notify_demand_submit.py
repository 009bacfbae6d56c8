"""(being written) Notifications of the demand_submit area: domain events -> messages."""

from __future__ import annotations

from typing import Any

# Event type -> coroutine function (notifier, event); bot/notifier.py calls each in turn.
HANDLERS: dict[type, Any] = {}
