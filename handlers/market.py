"""(being written) market handlers for the demand lifecycle (issue #3)."""

from __future__ import annotations

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler]:
    """This area's handlers: its CommandHandlers first, then its buttons."""
    return []
