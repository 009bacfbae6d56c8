"""Control HTTP routes: let a browser page (or any HTTP client) act as Telegram users.

All routes live under ``{prefix}/_control``, speak JSON and return at once: they never wait
for the bot to react. Responses are ``{"ok": true, "result": ...}`` or, on a mistake,
``{"ok": false, "description": "..."}`` with status 400/404. With several bots registered,
pass ``?token=<bot token>``; with one, it is implied.

``GET  /_control/bots``
    The registered bots' getMe objects (with ``token``).
``GET  /_control/users``
    All simulated users.
``POST /_control/users`` ``{"id", "first_name", "last_name"?, "username"?, "language_code"?,
"phone_number"?}``
    Create a user (or return the existing one with that id).
``POST /_control/chats/{user_id}/text`` ``{"text"}``
    The user sends a text message (``/command`` gets its bot_command entity).
``POST /_control/chats/{user_id}/press`` ``{"message_id", "callback_data"}``
    The user presses an inline button; the data must belong to a button of that message.
    Result: ``{"callback_query_id"}``; the bot's answer shows up in ``callback_answers``.
``POST /_control/chats/{user_id}/contact`` ``{"phone_number"?}``
    The user shares their own contact (as a request_contact button does).
``POST /_control/chats/{user_id}/document`` multipart: ``file`` (+ ``caption``)
``POST /_control/chats/{user_id}/photo`` multipart: ``file`` (+ ``caption``)
    The user uploads a document / photo.
``GET  /_control/chats/{user_id}/messages?after=<cursor>``
    Messages created or changed since ``cursor`` (0 = all). Result::

        {"cursor": N, "messages": [...], "deleted": [message_id, ...],
         "reply_keyboard": [[{"text", "request_contact"?, ...}]] | null,
         "callback_answers": [...]}

    Each message: ``message_id``, ``version`` (grows on every change; the next ``cursor``
    is the largest seen), ``from_bot``, ``date``, ``edit_date``, ``text`` (plain),
    ``html`` (re-rendered from entities with a tag whitelist, safe to insert into a page),
    ``buttons`` (inline rows of ``{"text", "callback_data"?, "url"?}``), ``document``,
    ``photo`` (largest size), ``contact``, ``sticker``, ``location``.
``GET  /_control/chats/{user_id}/commands``
    The command menu this user sees (what the bot set with setMyCommands for their chat,
    their language, all private chats or by default, as Telegram resolves it):
    ``[{"command", "description"}]``.
``GET  /_control/files/{file_id}``
    The bytes of a stored file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from bot.emulator import user_actions
from bot.emulator.messages import StoredMessage
from bot.emulator.render import entities_to_html
from bot.emulator.state import BotState, UserInfo

if TYPE_CHECKING:
    from bot.emulator.emulator import BotAPIEmulator

_MAX_UPLOAD = 50 * 1024 * 1024


class ControlError(Exception):
    """A mistake in a control request."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _button(button: dict[str, Any]) -> dict[str, Any]:
    return {k: button[k] for k in ("text", "callback_data", "url") if k in button}


def message_json(message: StoredMessage) -> dict[str, Any]:
    """A message as the sandbox page shows it."""
    text = message.text if message.text is not None else (message.caption or "")
    photo = message.photo[-1] if message.photo else None
    return {
        "message_id": message.message_id,
        "version": message.version,
        "from_bot": message.from_bot,
        "date": int(message.date.timestamp()),
        "edit_date": int(message.edit_date.timestamp()) if message.edit_date else None,
        "text": text,
        "html": entities_to_html(text, message.entities),
        "buttons": [[_button(b) for b in row] for row in message.inline or []],
        "reply_to_message_id": message.reply_to.message_id if message.reply_to else None,
        "document": message.document,
        "photo": photo,
        "contact": message.contact,
        "sticker": message.sticker,
        "location": message.location,
    }


class ControlRoutes:
    """Handlers bound to one emulator."""

    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.emulator = emulator

    def bot(self, request: web.Request) -> BotState:
        """The bot named by ?token=, or the only one."""
        token = request.query.get("token")
        if token is not None and token not in self.emulator.bots:
            raise ControlError(404, "unknown bot token")
        try:
            return self.emulator.bot(token)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None

    def user(self, request: web.Request) -> UserInfo:
        """The user named in the path."""
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise ControlError(400, "user_id must be an integer") from None
        info = self.emulator.users.get(user_id)
        if info is None:
            raise ControlError(404, f"no user {user_id}: create it with POST /_control/users")
        return info

    @staticmethod
    async def body(request: web.Request) -> dict[str, Any]:
        """The JSON object body."""
        try:
            data = await request.json()
        except ValueError:
            raise ControlError(400, "expected a JSON object body") from None
        if not isinstance(data, dict):
            raise ControlError(400, "expected a JSON object body")
        return data

    async def bots(self, request: web.Request) -> web.Response:
        """GET /bots."""
        return _ok([{**bot.user, "token": bot.token} for bot in self.emulator.bots.values()])

    async def users(self, request: web.Request) -> web.Response:
        """GET /users."""
        return _ok(
            [{**u.api(), "phone_number": u.phone_number} for u in self.emulator.users.values()]
        )

    async def create_user(self, request: web.Request) -> web.Response:
        """POST /users."""
        data = await self.body(request)
        user_id, first_name = data.get("id"), data.get("first_name")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise ControlError(400, "id must be a positive integer")
        if not isinstance(first_name, str) or not first_name.strip():
            raise ControlError(400, "first_name is required")

        def optional(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) and value else None

        language = data.get("language_code", "en")
        self.emulator.user(
            user_id,
            first_name=first_name,
            last_name=optional("last_name"),
            username=optional("username"),
            language_code=language if isinstance(language, str) and language else None,
            phone_number=optional("phone_number"),
            token=self.bot(request).token,
        )
        info = self.emulator.users[user_id]
        return _ok({**info.api(), "phone_number": info.phone_number})

    async def text(self, request: web.Request) -> web.Response:
        """POST /chats/{user_id}/text."""
        bot, user = self.bot(request), self.user(request)
        text = (await self.body(request)).get("text")
        if not isinstance(text, str) or not text.strip():
            raise ControlError(400, "text must be a non-empty string")
        message = await user_actions.send_text(self.emulator, bot, user, text, wait=False)
        return _ok(message_json(message))

    async def press(self, request: web.Request) -> web.Response:
        """POST /chats/{user_id}/press."""
        bot, user = self.bot(request), self.user(request)
        data = await self.body(request)
        message = bot.chat(user).messages.get(data.get("message_id") or 0)
        if message is None or message.deleted or not message.from_bot:
            raise ControlError(404, "no such bot message in this chat")
        callback_data = data.get("callback_data")
        buttons = [b for row in message.inline or [] for b in row]
        if not any(b.get("callback_data") == callback_data for b in buttons):
            raise ControlError(400, "that message has no button with this callback_data")
        assert isinstance(callback_data, str)
        record = await user_actions.press(
            self.emulator, bot, user, message, callback_data, wait=False
        )
        return _ok({"callback_query_id": record.query_id})

    async def contact(self, request: web.Request) -> web.Response:
        """POST /chats/{user_id}/contact."""
        bot, user = self.bot(request), self.user(request)
        data = await self.body(request) if request.can_read_body else {}
        phone = data.get("phone_number") or user.phone_number
        if not isinstance(phone, str) or not phone:
            raise ControlError(400, "the user has no phone_number; pass one")
        contact = {"phone_number": phone, "first_name": user.first_name, "user_id": user.id}
        if user.last_name:
            contact["last_name"] = user.last_name
        message = await user_actions.share_contact(self.emulator, bot, user, contact, wait=False)
        return _ok(message_json(message))

    async def upload(self, request: web.Request) -> web.Response:
        """POST /chats/{user_id}/document and /photo."""
        bot, user = self.bot(request), self.user(request)
        kind = request.match_info["kind"]
        if not request.content_type.startswith("multipart/"):
            raise ControlError(400, "send the file as multipart/form-data field 'file'")
        fields: dict[str, str] = {}
        file: tuple[str, str, bytes] | None = None
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read())
            if len(data) > _MAX_UPLOAD:
                raise ControlError(413, "file too large")
            if part.name == "file":
                mime = part.headers.get("Content-Type", "application/octet-stream")
                file = (part.filename or "file", mime, data)
            elif part.name:
                fields[part.name] = data.decode("utf-8", "replace")
        if file is None or not file[2]:
            raise ControlError(400, "multipart field 'file' is missing or empty")
        message = await user_actions.send_file(
            self.emulator,
            bot,
            user,
            kind,
            file[2],
            filename=file[0] if kind == "document" else None,
            mime_type=file[1] if kind == "document" else None,
            caption=fields.get("caption") or None,
            wait=False,
        )
        return _ok(message_json(message))

    async def messages(self, request: web.Request) -> web.Response:
        """GET /chats/{user_id}/messages?after=cursor."""
        bot, user = self.bot(request), self.user(request)
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            raise ControlError(400, "after must be an integer") from None
        chat = bot.chat(user)
        changed = [m for m in chat.messages.values() if m.version > after]
        keyboard = chat.keyboard
        return _ok(
            {
                "cursor": max([after, *(m.version for m in changed)]),
                "messages": [message_json(m) for m in changed if not m.deleted],
                "deleted": [m.message_id for m in changed if m.deleted],
                "reply_keyboard": None if keyboard is None else keyboard["keyboard"],
                "callback_answers": chat.callback_answers,
            }
        )

    async def commands(self, request: web.Request) -> web.Response:
        """GET /chats/{user_id}/commands."""
        bot, user = self.bot(request), self.user(request)
        return _ok(bot.settings.commands_for(user.id, user.language_code))

    async def file(self, request: web.Request) -> web.Response:
        """GET /files/{file_id}."""
        stored = self.emulator.files.get(request.match_info["file_id"])
        if stored is None:
            raise ControlError(404, "unknown file_id")
        headers = {}
        if stored.file_name:
            headers["Content-Disposition"] = _attachment(stored.file_name)
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )


def _attachment(file_name: str) -> str:
    """Content-Disposition for a download (RFC 6266): an ASCII name for old clients, the real
    one (Chinese, quotes, ...) percent-encoded; a raw non-ASCII header is not HTTP."""
    plain = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except ControlError as exc:
        return web.json_response({"ok": False, "description": exc.description}, status=exc.status)
    return response


def add_control_routes(app: web.Application, emulator: BotAPIEmulator, prefix: str) -> None:
    """Register the control routes under `{prefix}/_control`."""
    routes = ControlRoutes(emulator)
    base = prefix + "/_control"

    def guarded(handler: Any) -> Any:
        async def run(request: web.Request) -> web.StreamResponse:
            return await _errors(request, handler)

        return run

    app.router.add_get(base + "/bots", guarded(routes.bots))
    app.router.add_get(base + "/users", guarded(routes.users))
    app.router.add_post(base + "/users", guarded(routes.create_user))
    chat = base + "/chats/{user_id}"
    app.router.add_post(chat + "/text", guarded(routes.text))
    app.router.add_post(chat + "/press", guarded(routes.press))
    app.router.add_post(chat + "/contact", guarded(routes.contact))
    app.router.add_post(chat + "/{kind:document|photo}", guarded(routes.upload))
    app.router.add_get(chat + "/messages", guarded(routes.messages))
    app.router.add_get(chat + "/commands", guarded(routes.commands))
    app.router.add_get(base + "/files/{file_id}", guarded(routes.file))
