"""HTTP routes of the Bot API: /bot<token>/<method> and /file/bot<token>/<file_path>."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.emulator import methods_bot, methods_files, methods_messages, methods_settings
from bot.emulator.errors import ApiError
from bot.emulator.faults import suffer
from bot.emulator.params import Params, for_log, read_params
from bot.emulator.registry import METHODS, Call

if TYPE_CHECKING:
    from bot.emulator.emulator import BotAPIEmulator

log = logging.getLogger(__name__)
# imported for their @method registrations
_MODULES = (methods_bot, methods_files, methods_messages, methods_settings)
_NOT_FOUND = ApiError(404, "Not Found")
_UNAUTHORIZED = ApiError(401, "Unauthorized")


def _reply(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class ApiRoutes:
    """Request handlers bound to one emulator."""

    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.emulator = emulator

    def fail(self, request: web.Request, token: str, method: str, error: ApiError) -> web.Response:
        """Log an ok=false answer and build it; a client that hung up never saw it."""
        if not _client_gone(request):
            self.emulator.error_log.append((token, method, error.description))
        return web.json_response(error.payload(), status=error.code)

    async def bot_method(self, request: web.Request) -> web.Response:
        """Any Bot API method call."""
        token = request.match_info["token"]
        method = request.match_info["method"]
        try:
            raw = await read_params(request)
        except ApiError as error:
            self.emulator.request_log.append((token, method, {}))
            return self.fail(request, token, method, error)
        self.emulator.request_log.append((token, method, for_log(raw)))
        bot = self.emulator.bots.get(token)
        if bot is None:
            return self.fail(request, token, method, _UNAUTHORIZED)
        handler = METHODS.get(method.lower())
        if handler is None:
            return self.fail(request, token, method, _NOT_FOUND)
        fault = self.emulator.faults.take(method)
        if fault is not None:  # injected by a test: not an error of the bot's making
            answer = await suffer(fault, request)
            if answer is not None:
                return answer
        polling = method.lower() == "getupdates"
        if not polling:
            bot.in_flight += 1
            bot.touch()
        try:
            result = await handler(Call(bot, Params(raw), self.emulator.files))
        except ApiError as error:
            return self.fail(request, token, method, error)
        except Exception:
            log.exception("emulator failed on %s", method)
            return self.fail(request, token, method, ApiError(500, "Internal Server Error"))
        finally:
            if not polling:
                bot.in_flight -= 1
                bot.touch()
        return _reply(result)

    async def download(self, request: web.Request) -> web.Response:
        """File bytes by the file_path getFile returned."""
        if request.match_info["token"] not in self.emulator.bots:
            return web.json_response(_UNAUTHORIZED.payload(), status=401)
        stored = self.emulator.files.by_path.get(request.match_info["file_path"])
        if stored is None:
            return web.json_response(_NOT_FOUND.payload(), status=404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )


def add_api_routes(app: web.Application, emulator: BotAPIEmulator, prefix: str) -> None:
    """Register the Bot API and file download routes under `prefix`."""
    routes = ApiRoutes(emulator)
    for verb in ("GET", "POST"):
        app.router.add_route(verb, prefix + "/bot{token}/{method}", routes.bot_method)
    app.router.add_get(prefix + "/file/bot{token}/{file_path:.+}", routes.download)
