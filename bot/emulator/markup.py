"""Validate reply_markup the way Telegram does and sort it into inline vs. chat keyboards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.emulator.errors import bad_request
from bot.emulator.urls import is_valid_link

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
KEYBOARD_ACTIONS = (
    "request_contact",
    "request_location",
    "request_poll",
    "request_users",
    "request_chat",
    "web_app",
)
MAX_CALLBACK_DATA_BYTES = 64


@dataclass
class Markup:
    """A validated reply_markup: exactly one of the fields is meaningful."""

    inline: list[list[dict[str, Any]]] | None = None
    keyboard: dict[str, Any] | None = None  # the whole ReplyKeyboardMarkup
    remove_keyboard: bool = False
    force_reply: bool = False

    def api_inline(self) -> dict[str, Any] | None:
        """The inline markup as echoed in Message.reply_markup."""
        return None if self.inline is None else {"inline_keyboard": self.inline}


def _check_inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [name for name in INLINE_ACTIONS if name in button and button[name] is not None]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if (
            not isinstance(data, str)
            or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
        ):
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not is_valid_link(url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return dict(button)


def _rows(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(
            f"can't parse reply keyboard markup JSON object: {what} must be an Array of Arrays"
        )
    return value


def _check_keyboard_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        # Telegram accepts a bare string as a text-only button
        button = {"text": button}
    if (
        not isinstance(button, dict)
        or not isinstance(button.get("text"), str)
        or not button["text"]
    ):
        raise bad_request("can't parse keyboard button: Text must be non-empty")
    if sum(1 for name in KEYBOARD_ACTIONS if button.get(name)) > 1:
        raise bad_request(
            "can't parse keyboard button: only one of the optional fields can be used"
        )
    return dict(button)


def parse_markup(raw: Any, *, inline_only: bool = False) -> Markup:
    """A validated Markup from a decoded reply_markup (None → empty Markup)."""
    if raw is None:
        return Markup()
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = _rows(raw["inline_keyboard"], "inline_keyboard")
        return Markup(inline=[[_check_inline_button(b) for b in row] for row in rows])
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in raw:
        rows = _rows(raw["keyboard"], "keyboard")
        keyboard = {**raw, "keyboard": [[_check_keyboard_button(b) for b in row] for row in rows]}
        return Markup(keyboard=keyboard)
    if raw.get("remove_keyboard") is True:
        return Markup(remove_keyboard=True)
    if raw.get("force_reply") is True:
        return Markup(force_reply=True)
    raise bad_request('can\'t find field "inline_keyboard"')
