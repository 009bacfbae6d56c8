"""Messages of an emulated private chat: the stored record and its two views.

`StoredMessage.to_api()` is the Bot API Message a bot receives; `ChatMessage` is the
simplified, test-friendly view (public API of the emulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ChatMessage:
    """A message as the chat shows it, current state after edits."""

    message_id: int
    from_bot: bool
    text: str
    html: str | None
    entities: list[dict[str, Any]]
    buttons: list[list[dict[str, Any]]]
    reply_keyboard: list[list[dict[str, Any]]] | None
    date: datetime
    edit_date: datetime | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    contact: dict[str, Any] | None = None
    sticker: dict[str, Any] | None = None
    location: dict[str, Any] | None = None

    def button_labels(self) -> list[str]:
        """Flat list of inline button texts."""
        return [str(button.get("text", "")) for row in self.buttons for button in row]


@dataclass
class StoredMessage:
    """Everything the emulator knows about one message."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: datetime
    version: int
    text: str | None = None
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None  # raw text as the bot sent it when a parse_mode was used
    inline: list[list[dict[str, Any]]] | None = None
    keyboard: dict[str, Any] | None = None  # ReplyKeyboardMarkup this message set
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None
    contact: dict[str, Any] | None = None
    sticker: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    reply_to: StoredMessage | None = None
    edit_date: datetime | None = None
    deleted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_api(
        self,
        bot_user: dict[str, Any],
        human: dict[str, Any],
        chat: dict[str, Any],
        *,
        nested: bool = False,
    ) -> dict[str, Any]:
        """The Bot API Message object (reply_to_message one level deep, as Telegram does)."""
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot_user if self.from_bot else human,
            "chat": chat,
            "date": int(self.date.timestamp()),
        }
        if self.edit_date is not None:
            msg["edit_date"] = int(self.edit_date.timestamp())
        if self.reply_to is not None and not nested:
            msg["reply_to_message"] = self.reply_to.to_api(bot_user, human, chat, nested=True)
        if self.text is not None:
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        for name in ("document", "contact", "sticker", "location"):
            value = getattr(self, name)
            if value is not None:
                msg[name] = value
        if self.photo is not None:
            msg["photo"] = self.photo
        if self.caption is not None:
            msg["caption"] = self.caption
            if self.entities:
                msg["caption_entities"] = self.entities
        if self.inline is not None:
            msg["reply_markup"] = {"inline_keyboard": self.inline}
        msg.update(self.extra)
        return msg

    def view(self) -> ChatMessage:
        """The simplified ChatMessage."""
        return ChatMessage(
            message_id=self.message_id,
            from_bot=self.from_bot,
            text=self.text if self.text is not None else (self.caption or ""),
            html=self.source,
            entities=list(self.entities),
            buttons=[list(row) for row in self.inline or []],
            reply_keyboard=None if self.keyboard is None else self.keyboard["keyboard"],
            date=self.date,
            edit_date=self.edit_date,
            document=self.document,
            photo=self.photo,
            contact=self.contact,
            sticker=self.sticker,
            location=self.location,
        )
