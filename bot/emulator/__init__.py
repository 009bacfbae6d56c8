"""A local, faithful emulator of the Telegram Bot API (see emulator.py, api.py, control.py)."""

from bot.emulator.client import EmulatedUser
from bot.emulator.emulator import BotAPIEmulator
from bot.emulator.messages import ChatMessage

__all__ = ["BotAPIEmulator", "ChatMessage", "EmulatedUser"]
