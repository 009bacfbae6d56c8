"""Bot API methods that send, edit and delete text messages, and answer button presses."""

from __future__ import annotations

from typing import Any

from bot.emulator.errors import bad_request
from bot.emulator.formatting import format_text
from bot.emulator.markup import Markup, parse_markup
from bot.emulator.messages import StoredMessage
from bot.emulator.registry import Call, method
from bot.emulator.state import ChatState, now
from bot.emulator.text_utils import utf16_len

MAX_TEXT = 4096
MAX_CALLBACK_TEXT = 200
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def message_text(call: Call, name: str = "text") -> tuple[str, list[dict[str, Any]], str | None]:
    """(plain text, entities, raw source if a parse_mode applied) of a text parameter."""
    p = call.params
    raw = p.string(name, required=True, empty="message text is empty") or ""
    entities_param = p.json("entities")
    parse_mode = p.string("parse_mode")
    text, entities = format_text(raw, parse_mode, entities_param)
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    source = raw if parse_mode and entities_param is None else None
    return text, entities, source


def reply_target(call: Call, chat: ChatState) -> StoredMessage | None:
    """The message replied to, from reply_parameters or the legacy reply_to_message_id."""
    p = call.params
    params = p.json("reply_parameters")
    if params is not None and not isinstance(params, dict):
        raise bad_request("can't parse reply parameters JSON object")
    message_id = params.get("message_id") if params else p.integer("reply_to_message_id")
    if message_id is None:
        return None
    target = chat.messages.get(message_id) if isinstance(message_id, int) else None
    if target is None or target.deleted:
        allow = bool(params.get("allow_sending_without_reply")) if params else False
        allow = allow or p.flag("allow_sending_without_reply")
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return target


def apply_markup(chat: ChatState, message: StoredMessage, markup: Markup) -> None:
    """Attach a validated reply_markup to a new message and update the user's keyboard."""
    message.inline = markup.inline or None
    if markup.keyboard is not None:
        message.keyboard = markup.keyboard
        chat.keyboard = markup.keyboard
    elif markup.remove_keyboard:
        chat.keyboard = None


def message_extras(call: Call) -> dict[str, Any]:
    """Message fields that follow from send options."""
    p = call.params
    options = p.json("link_preview_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("can't parse link preview options JSON object")
    return {"has_protected_content": True} if p.flag("protect_content") else {}


@method("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    """sendMessage."""
    bot = call.bot
    chat = bot.target_chat(call.params.chat_id())
    text, entities, source = message_text(call)
    markup = parse_markup(call.params.json("reply_markup"))
    reply_to = reply_target(call, chat)
    extra = message_extras(call)
    bot.limiter.check(chat.user.id)
    message = bot.add_message(
        chat, from_bot=True, text=text, entities=entities, source=source, reply_to=reply_to
    )
    message.extra.update(extra)
    apply_markup(chat, message, markup)
    return bot.api_message(message)


def editable_message(call: Call) -> tuple[ChatState, StoredMessage]:
    """The bot's own, undeleted message named by chat_id + message_id."""
    p = call.params
    if p.has("inline_message_id") and not p.has("chat_id"):
        # the emulator has no inline mode, so no inline message can exist
        raise bad_request("MESSAGE_ID_INVALID")
    chat = call.bot.known_chat(p.chat_id())
    if chat.blocked:
        call.bot.target_chat(chat.user.id)
    message_id = p.integer(
        "message_id", required=True, empty="message identifier is not specified"
    )
    message = chat.messages.get(message_id or 0)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return chat, message


def finish_edit(call: Call, message: StoredMessage) -> dict[str, Any]:
    """Stamp an edited message and return it."""
    message.edit_date = now()
    call.bot.bump(message)
    return call.bot.api_message(message)


@method("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any]:
    """editMessageText."""
    chat, message = editable_message(call)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities, source = message_text(call)
    inline = parse_markup(call.params.json("reply_markup"), inline_only=True).inline or None
    if text == message.text and entities == message.entities and inline == message.inline:
        raise bad_request(NOT_MODIFIED)
    call.bot.limiter.check(chat.user.id)
    message.text, message.entities, message.source = text, entities, source
    # omitting reply_markup removes the inline keyboard, as on Telegram
    message.inline = inline
    return finish_edit(call, message)


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any]:
    """editMessageCaption."""
    chat, message = editable_message(call)
    if message.text is not None:
        raise bad_request("there is no caption in the message to edit")
    p = call.params
    raw = p.string("caption") or ""
    caption, entities = format_text(raw, p.string("parse_mode"), p.json("caption_entities"))
    if utf16_len(caption) > 1024:
        raise bad_request("message caption is too long")
    inline = parse_markup(p.json("reply_markup"), inline_only=True).inline or None
    if (
        (caption or None) == message.caption
        and entities == message.entities
        and (inline == message.inline)
    ):
        raise bad_request(NOT_MODIFIED)
    call.bot.limiter.check(chat.user.id)
    message.caption, message.entities = caption or None, entities
    message.source = raw if p.string("parse_mode") and p.json("caption_entities") is None else None
    message.inline = inline
    return finish_edit(call, message)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    """editMessageReplyMarkup."""
    chat, message = editable_message(call)
    inline = parse_markup(call.params.json("reply_markup"), inline_only=True).inline or None
    if inline == message.inline:
        raise bad_request(NOT_MODIFIED)
    call.bot.limiter.check(chat.user.id)
    message.inline = inline
    return finish_edit(call, message)


def _delete(call: Call, chat: ChatState, message_id: int | None) -> bool:
    message = chat.messages.get(message_id or 0)
    if message is None or message.deleted:
        return False
    message.deleted = True
    call.bot.bump(message)
    return True


@method("deleteMessage")
async def delete_message(call: Call) -> bool:
    """deleteMessage."""
    chat = call.bot.known_chat(call.params.chat_id())
    message_id = call.params.integer(
        "message_id", required=True, empty="message identifier is not specified"
    )
    if not _delete(call, chat, message_id):
        raise bad_request("message to delete not found")
    return True


@method("deleteMessages")
async def delete_messages(call: Call) -> bool:
    """deleteMessages: missing messages are skipped, as documented."""
    chat = call.bot.known_chat(call.params.chat_id())
    ids = call.params.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message identifiers are not specified")
    for message_id in ids:
        if isinstance(message_id, int):
            _delete(call, chat, message_id)
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    """answerCallbackQuery."""
    p = call.params
    query_id = p.string("callback_query_id", required=True, empty="query_id is empty") or ""
    record = call.bot.callback_record(query_id)
    text = p.string("text")
    if text is not None and utf16_len(text) > MAX_CALLBACK_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    answer: dict[str, Any] = {"text": text or None, "show_alert": p.flag("show_alert")}
    url = p.string("url")
    if url:
        # only game URLs and t.me links that open this bot are allowed
        username = str(call.bot.user.get("username", "")).lower()
        if not url.lower().removeprefix("https://").startswith(f"t.me/{username}"):
            raise bad_request("URL_INVALID")
        answer["url"] = url
    if p.has("cache_time"):
        answer["cache_time"] = p.integer("cache_time")
    record.answered = True
    record.answer = answer
    chat = call.bot.chats.get(record.user_id)
    if chat is not None:
        chat.callback_answers.append(answer)
    return True


@method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    """sendChatAction."""
    call.bot.target_chat(call.params.chat_id())
    action = call.params.string("action", required=True, empty="action is empty")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True
