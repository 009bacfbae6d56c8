"""In-memory world of the emulator: users, private chats with each bot, callback queries."""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.emulator.bot_settings import BotSettings
from bot.emulator.errors import bad_request, forbidden
from bot.emulator.limits import RateLimiter
from bot.emulator.messages import StoredMessage
from bot.emulator.updates import UpdateQueue
from bot.emulator.webhook import WebhookConfig, WebhookSender

CALLBACK_TTL_SECONDS = 15 * 60


def now() -> datetime:
    """The current time, UTC, whole seconds (Telegram dates are unix seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class UserInfo:
    """A simulated Telegram user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    phone_number: str | None = None

    def api(self) -> dict[str, Any]:
        """The Bot API User object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name):
                user[name] = getattr(self, name)
        return user

    def chat(self) -> dict[str, Any]:
        """The Bot API Chat object of the private chat with this user."""
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        for name in ("last_name", "username"):
            if getattr(self, name):
                chat[name] = getattr(self, name)
        return chat


@dataclass
class CallbackRecord:
    """A callback query sent to the bot, waiting for answerCallbackQuery."""

    query_id: str
    user_id: int
    message_id: int
    created: float = field(default_factory=time.monotonic)
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class ChatState:
    """The private chat between one user and one bot."""

    user: UserInfo
    chat_instance: str
    started: bool = False
    blocked: bool = False
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    keyboard: dict[str, Any] | None = None  # the ReplyKeyboardMarkup currently shown
    callback_answers: list[dict[str, Any]] = field(default_factory=list)

    def live(self) -> list[StoredMessage]:
        """Messages not deleted, oldest first."""
        return [m for m in self.messages.values() if not m.deleted]


class BotState:
    """One registered bot and everything Telegram keeps for it."""

    def __init__(
        self,
        token: str,
        user: dict[str, Any],
        limiter: RateLimiter,
        versions: itertools.count[int],
    ) -> None:
        self.token = token
        self.user = user
        self.limiter = limiter
        self.versions = versions
        self.chats: dict[int, ChatState] = {}
        self.updates = UpdateQueue()
        self.webhook: WebhookConfig | None = None
        self.sender: WebhookSender | None = None
        self.settings = BotSettings()
        self.callbacks: dict[str, CallbackRecord] = {}
        self.in_flight = 0
        self.last_activity = time.monotonic()

    def touch(self) -> None:
        """Note bot activity (for the settle wait of the test client)."""
        self.last_activity = time.monotonic()

    def chat(self, user: UserInfo) -> ChatState:
        """The chat with `user`, created on first use."""
        state = self.chats.get(user.id)
        if state is None:
            digest = hashlib.sha256(f"{self.token}/{user.id}".encode()).digest()
            instance = str(int.from_bytes(digest[:8], "big", signed=True))
            state = self.chats[user.id] = ChatState(user, instance)
        return state

    def target_chat(self, chat_id: int | str) -> ChatState:
        """The chat a bot wants to send to, with Telegram's 400/403 refusals."""
        if isinstance(chat_id, str):
            # "@username" addresses channels and public groups only; never a private chat
            raise bad_request("chat not found")
        state = self.chats.get(chat_id)
        if state is None:
            raise bad_request("chat not found")
        if state.blocked:
            raise forbidden("bot was blocked by the user")
        if not state.started:
            raise forbidden("bot can't initiate conversation with a user")
        return state

    def known_chat(self, chat_id: int | str) -> ChatState:
        """A chat the bot may touch (edits, deletes): exists and was started."""
        if isinstance(chat_id, str) or chat_id not in self.chats:
            raise bad_request("chat not found")
        state = self.chats[chat_id]
        if not state.started:
            raise bad_request("chat not found")
        return state

    def add_message(self, chat: ChatState, *, from_bot: bool, **fields: Any) -> StoredMessage:
        """Append a message to the chat with the next message_id."""
        message = StoredMessage(
            message_id=chat.next_message_id,
            chat_id=chat.user.id,
            from_bot=from_bot,
            date=now(),
            version=next(self.versions),
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def api_message(self, message: StoredMessage) -> dict[str, Any]:
        """The Bot API Message for a stored message of one of this bot's chats."""
        user = self.chats[message.chat_id].user
        return message.to_api(self.user, user.api(), user.chat())

    def bump(self, message: StoredMessage) -> None:
        """Give a changed message a new version for the sandbox's cheap polling."""
        message.version = next(self.versions)

    def callback_record(self, query_id: str) -> CallbackRecord:
        """A still-answerable callback query, or Telegram's "query is too old" 400."""
        record = self.callbacks.get(query_id)
        if (
            record is None
            or record.answered
            or time.monotonic() - record.created > CALLBACK_TTL_SECONDS
        ):
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        return record
