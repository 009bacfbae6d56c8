"""Bearer tokens and JSON errors for every request under /api/v1.

One middleware, because the two belong together: whatever fails (no token, a bad parameter,
an unknown path, a bug) the client gets `{"error": {"code", "message"}}` with a stable code,
never aiohttp's HTML page. Secrets travel only in the Authorization header (never in a URL,
which access logs and proxies keep: issue #6 item 4), and are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.api.schemas import ErrorDetail, ErrorResponse
from models import api_tokens
from models.api_entities import ApiToken
from models.errors import NotFound

log = logging.getLogger(__name__)

TOKEN = web.RequestKey("api_token", ApiToken)
# Served without a token: integrators read the document before they have one.
PUBLIC_PATHS = frozenset({"/api/v1/openapi.json"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A client error with its HTTP status and stable code."""

    def __init__(self, status: int, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter


def error_response(error: ApiError) -> web.Response:
    """The JSON body of an error, with the headers its status calls for."""
    detail = ErrorDetail(code=error.code, message=error.message, parameter=error.parameter)
    body = ErrorResponse(error=detail)
    headers = {"Cache-Control": "no-store"}
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{error.code}"'
    return web.json_response(text=body.model_dump_json(), status=error.status, headers=headers)


def _http_error(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return ApiError(404, "not_found", "No such endpoint.")
    if exc.status == 405:
        return ApiError(405, "method_not_allowed", "This API only reads: use GET.")
    return ApiError(exc.status, "http_error", exc.reason)


async def _authenticate(request: web.Request) -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        raise ApiError(401, "missing_token", "Send an Authorization: Bearer <token> header.")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "invalid_token", "The Authorization header is not a bearer token.")
    token = await api_tokens.authenticate(secret.strip())
    if token is None:
        raise ApiError(401, "invalid_token", "Unknown token.")
    if token.revoked_at is not None:
        raise ApiError(401, "token_revoked", "This token was revoked by an admin.")
    return token


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, then answer every failure as JSON."""
    try:
        if request.path not in PUBLIC_PATHS:
            request[TOKEN] = await _authenticate(request)
        response = await handler(request)
    except ApiError as error:
        return error_response(error)
    except NotFound:
        return error_response(ApiError(404, "not_found", "No such record."))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_http_error(exc))
    except Exception:
        # The path only, no query and no headers: nothing personal and no secret in the log.
        log.exception("api: %s %s failed", request.method, request.path)
        return error_response(ApiError(500, "internal_error", "Something broke on our side."))
    response.headers.setdefault("Cache-Control", "no-store")
    return response
