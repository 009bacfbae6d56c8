"""Which module answers a plain message, by the flow the user's stored conversation is in.

Each flow module registers itself at import (handlers/__init__.py imports them all), so
common.on_message and /start need not know every flow; this module imports nothing of ours
but the types, which keeps the import graph a tree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from models.conversations import ConversationState
from models.entities import User

Context = ContextTypes.DEFAULT_TYPE
OnMessage = Callable[[Update, Context, User, ConversationState], Awaitable[None]]
Resume = Callable[[Update, Context, User, ConversationState], Awaitable[None]]


@dataclass(frozen=True)
class Flow:
    """A multi-step flow: what answers a message in it, and how /start picks it up again."""

    name: str
    on_message: OnMessage
    resume: Resume


_FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> None:
    """Make a flow known by its stored name (once per name)."""
    assert flow.name not in _FLOWS or _FLOWS[flow.name] == flow, f"flow {flow.name} twice"
    _FLOWS[flow.name] = flow


def find(name: str) -> Flow | None:
    """The flow stored under this name, if the code still has it."""
    return _FLOWS.get(name)
