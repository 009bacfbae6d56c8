"""EmulatedUser: the Python test client that plays a human in a private chat with the bot."""

from __future__ import annotations

from types import EllipsisType
from typing import TYPE_CHECKING, Any

from bot.emulator import user_actions
from bot.emulator.messages import ChatMessage, StoredMessage
from bot.emulator.state import BotState, ChatState, UserInfo

if TYPE_CHECKING:
    from bot.emulator.emulator import BotAPIEmulator


class EmulatedUser:
    """A simulated human; every action returns once the bot has handled it."""

    def __init__(self, emulator: BotAPIEmulator, bot: BotState, info: UserInfo) -> None:
        self.emulator = emulator
        self.bot = bot
        self.info = info
        self.user_id = info.id
        self.chat_id = info.id

    @property
    def chat(self) -> ChatState:
        """The private chat with the bot."""
        return self.bot.chat(self.info)

    # --- actions -----------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Send a text message (a leading /command becomes a bot_command entity)."""
        await user_actions.send_text(self.emulator, self.bot, self.info, text, wait=True)

    def _find_button(
        self, label: str, message_id: int | None
    ) -> tuple[StoredMessage, dict[str, Any]]:
        candidates = self._bot_messages(message_id)
        for message in candidates:
            for button in _buttons(message):
                if button.get("text") == label:
                    return message, button
        for message in candidates:
            partial = [b for b in _buttons(message) if label in str(b.get("text", ""))]
            if len(partial) == 1:
                return message, partial[0]
            if partial:
                texts = [b.get("text") for b in partial]
                raise AssertionError(
                    f"button {label!r} is ambiguous in message {message.message_id}: {texts}"
                )
        available = [[b.get("text") for b in _buttons(m)] for m in candidates if m.inline]
        raise AssertionError(f"no inline button {label!r}; available: {available}")

    def _bot_messages(self, message_id: int | None) -> list[StoredMessage]:
        live = [m for m in reversed(self.chat.live()) if m.from_bot]
        if message_id is None:
            return live
        found = [m for m in live if m.message_id == message_id]
        if not found:
            raise AssertionError(f"no bot message {message_id} in chat {self.chat_id}")
        return found

    async def press(self, label: str, *, message_id: int | None = None) -> dict[str, Any] | None:
        """Press the inline button labelled `label` on the newest (or given) bot message."""
        message, button = self._find_button(label, message_id)
        data = button.get("callback_data")
        if not isinstance(data, str):
            kinds = sorted(k for k in button if k != "text")
            raise AssertionError(f"button {label!r} sends no callback query (it has {kinds})")
        return await self._press(message, data)

    async def press_data(
        self, data: str, *, message_id: int | None = None
    ) -> dict[str, Any] | None:
        """Send a callback query with arbitrary (possibly forged) data."""
        messages = [m for m in self._bot_messages(message_id) if m.inline or message_id]
        if not messages:
            raise AssertionError(f"no bot message with an inline keyboard in chat {self.chat_id}")
        return await self._press(messages[0], data)

    async def _press(self, message: StoredMessage, data: str) -> dict[str, Any] | None:
        record = await user_actions.press(
            self.emulator, self.bot, self.info, message, data, wait=True
        )
        return record.answer

    async def share_contact(
        self,
        phone_number: str | None = None,
        *,
        user_id: int | None | EllipsisType = ...,
        first_name: str | None = None,
    ) -> None:
        """Send a contact: by default the user's own card, as a request_contact button does."""
        phone = phone_number or self.info.phone_number
        if phone is None:
            raise AssertionError(f"user {self.user_id} has no phone_number to share")
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name or self.info.first_name,
        }
        if user_id is ...:
            if self.info.last_name and first_name is None:
                contact["last_name"] = self.info.last_name
            contact["user_id"] = self.user_id
        elif user_id is not None:
            contact["user_id"] = user_id
        await user_actions.share_contact(self.emulator, self.bot, self.info, contact, wait=True)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> None:
        """Upload a document."""
        await user_actions.send_file(
            self.emulator,
            self.bot,
            self.info,
            "document",
            content,
            filename=filename,
            mime_type=mime_type,
            caption=caption,
            wait=True,
        )

    async def send_photo(self, content: bytes, *, caption: str | None = None) -> None:
        """Send a photo."""
        await user_actions.send_file(
            self.emulator, self.bot, self.info, "photo", content, caption=caption, wait=True
        )

    async def send_sticker(self) -> None:
        """Send a sticker."""
        await user_actions.send_file(
            self.emulator, self.bot, self.info, "sticker", user_actions.STICKER_BYTES, wait=True
        )

    async def send_location(self, latitude: float, longitude: float) -> None:
        """Send a location."""
        await user_actions.send_location(
            self.emulator, self.bot, self.info, latitude, longitude, wait=True
        )

    # --- what the user sees ------------------------------------------------------------

    @property
    def messages(self) -> list[ChatMessage]:
        """Bot messages, oldest first, current state."""
        return [m.view() for m in self.chat.live() if m.from_bot]

    @property
    def last(self) -> ChatMessage:
        """The newest bot message."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot has sent nothing to user {self.user_id}")
        return messages[-1]

    @property
    def transcript(self) -> list[ChatMessage]:
        """Both sides of the chat."""
        return [m.view() for m in self.chat.live()]

    @property
    def reply_keyboard(self) -> list[str] | None:
        """Labels of the reply keyboard currently shown, or None."""
        keyboard = self.chat.keyboard
        if keyboard is None:
            return None
        return [str(button["text"]) for row in keyboard["keyboard"] for button in row]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        """answerCallbackQuery params the bot gave for this user's presses, in order."""
        return self.chat.callback_answers

    def download(self, file_id: str) -> bytes:
        """Content of a file the bot sent (or any stored file)."""
        stored = self.emulator.files.get(file_id)
        if stored is None:
            raise AssertionError(f"unknown file_id {file_id!r}")
        return stored.data

    def __repr__(self) -> str:
        return f"EmulatedUser({self.user_id}, {self.info.first_name!r})"


def _buttons(message: StoredMessage) -> list[dict[str, Any]]:
    return [button for row in message.inline or [] for button in row]
