"""Bot API methods about the bot itself and update delivery: getMe, getUpdates, webhooks."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from bot.emulator.errors import ApiError, bad_request
from bot.emulator.registry import Call, method
from bot.emulator.urls import LOCAL_HOSTS
from bot.emulator.webhook import WebhookConfig, WebhookSender

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_PORTS = (80, 88, 443, 8443)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


@method("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    """getMe."""
    return dict(call.bot.user)


@method("logOut")
async def log_out(call: Call) -> bool:
    """logOut (nothing to do locally)."""
    return True


@method("close")
async def close(call: Call) -> bool:
    """close (nothing to do locally)."""
    return True


def _allowed_updates(call: Call) -> list[str] | None:
    allowed = call.params.json("allowed_updates")
    if allowed is None:
        return None
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        raise bad_request("can't parse allowed_updates JSON object")
    return allowed


@method("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    """getUpdates, a real long poll."""
    bot, p = call.bot, call.params
    if bot.webhook is not None:
        raise ApiError(409, CONFLICT_WEBHOOK)
    limit = min(max(p.integer("limit") or 100, 1), 100)
    timeout = max(p.number("timeout") or 0.0, 0.0)
    updates = await bot.updates.get_updates(
        p.integer("offset"), limit, timeout, _allowed_updates(call)
    )
    if updates:
        # the settle wait of the test client starts when the bot got its update
        bot.touch()
    return updates


async def _drop_webhook(call: Call) -> None:
    if call.bot.sender is not None:
        await call.bot.sender.stop()
        call.bot.sender = None
    call.bot.webhook = None
    if call.params.flag("drop_pending_updates"):
        call.bot.updates.drop_all()


@method("setWebhook")
async def set_webhook(call: Call) -> bool:
    """setWebhook; plain http is allowed only to this machine, for local tests."""
    p = call.params
    url = (p.string("url") or "").strip()
    if not url:
        await _drop_webhook(call)
        return True
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad_request(
            "bad webhook: Failed to resolve host: Name or service not known"
        ) from None
    host = (parts.hostname or "").lower()
    local = host in LOCAL_HOSTS
    if parts.scheme.lower() != "https" and not (parts.scheme.lower() == "http" and local):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not host:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if not local and port is not None and port not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = p.string("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = p.integer("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = _allowed_updates(call)
    await _drop_webhook(call)
    if allowed is not None:
        call.bot.updates.allowed = allowed
    config = WebhookConfig(url, secret, max_connections, p.string("ip_address"))
    call.bot.webhook = config
    call.bot.sender = WebhookSender(call.bot.updates, config, call.bot.touch)
    call.bot.sender.start()
    return True


@method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    """deleteWebhook."""
    await _drop_webhook(call)
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    """getWebhookInfo."""
    pending = len(call.bot.updates.pending)
    if call.bot.webhook is None:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
    return call.bot.webhook.info(pending, call.bot.updates.allowed)


@method("getChat")
async def get_chat(call: Call) -> dict[str, Any]:
    """getChat for a private chat (ChatFullInfo)."""
    chat = call.bot.known_chat(call.params.chat_id())
    info: dict[str, Any] = {
        **chat.user.chat(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": True,
            "limited_gifts": True,
            "unique_gifts": True,
            "premium_subscription": True,
        },
    }
    return info
