"""The table of Bot API methods and the context every method handler receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.emulator.files import FileStore
from bot.emulator.params import Params
from bot.emulator.state import BotState


@dataclass
class Call:
    """One Bot API call: the bot it is for, its parameters and the shared file store."""

    bot: BotState
    params: Params
    files: FileStore


Handler = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler; lookup is case-insensitive like Telegram's."""

    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = handler
        return handler

    return register
