"""`innobridge doctor` (DESIGN §6): one line per check, OK or FAIL with the reason.

Checks that the configuration loads (environment and platform file, reminders included),
that the database answers and has every migration of this version, that the Bot API is
reachable and takes the token (getMe), and that the webhook is what the configuration says
(getWebhookInfo: the configured URL, or none in polling mode), with Telegram's count of
pending updates and its last delivery error. Nothing here prints the token or a password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Bot, WebhookInfo
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest
from tortoise import Tortoise
from tortoise.migrations.executor import MigrationExecutor

from bot.config import ConfigError, Settings, load_platform, load_settings
from bot.logs import redact
from models.db import close_database, open_database, tortoise_config
from models.platform import PlatformConfig
from models.reminder_config import Rule

TIMEOUT = 15.0  # seconds for each of the database and the Bot API to answer
APP = "models"  # the Tortoise app whose migrations are ours (models/db.py)


@dataclass
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """`OK   name: detail` or `FAIL name: detail`, on one line."""
        detail = " ".join(redact(self.detail).split())
        return f"{'OK  ' if self.ok else 'FAIL'} {self.name}: {detail}"


def _not_checked(name: str, why: str) -> Check:
    return Check(name, False, f"not checked: {why}")


async def diagnose() -> list[Check]:
    """Every check, in order; later ones are not run when what they need is missing."""
    try:
        settings = load_settings()
        platform = load_platform(settings.config)
    except ConfigError as error:
        why = "the configuration does not load"
        return [
            Check("configuration", False, str(error)),
            *(_not_checked(name, why) for name in ("database", "bot api", "webhook")),
        ]
    return [
        Check("configuration", True, _describe(settings, platform)),
        await check_database(settings.database_url),
        *await check_bot(settings),
    ]


def _describe(settings: Settings, platform: PlatformConfig) -> str:
    reminders = platform.reminders
    rules = [name for name, rule in reminders if isinstance(rule, Rule) and rule.enabled]
    source = settings.config or "built-in defaults"
    return (
        f"platform {source}; reminders every {reminders.tick_seconds} s, quiet "
        f"{reminders.quiet_start:%H:%M}-{reminders.quiet_end:%H:%M}, "
        f"{len(rules)} rules on ({', '.join(rules) or 'none'}); "
        f"{'webhook' if settings.webhook_url else 'long polling'} mode"
    )


def _where(database_url: str) -> str:
    """The database named without its credentials."""
    if database_url.startswith("sqlite://"):
        return f"SQLite {database_url.removeprefix('sqlite://')}"
    parts = urlsplit(database_url)
    port = f":{parts.port}" if parts.port else ""
    return f"PostgreSQL {parts.hostname}{port}{parts.path}"


async def check_database(database_url: str) -> Check:
    """The database answers, and its applied migrations are exactly this version's."""
    where = _where(database_url)
    if database_url.startswith("sqlite://"):
        path = Path(database_url.removeprefix("sqlite://"))
        if not await asyncio.to_thread(path.is_file):  # opening it would create an empty one
            return Check("database", False, f"{where}: no such file (innobridge migrate makes it)")
    try:
        applied, known = await asyncio.wait_for(_migrations(database_url), TIMEOUT)
    except TimeoutError:
        return Check("database", False, f"{where}: no answer within {TIMEOUT:.0f} s")
    except Exception as error:  # noqa: BLE001 — whatever it is, it is the reason to print
        return Check("database", False, f"{where}: {type(error).__name__}: {error}")
    finally:
        await close_database()
    missing = [name for name in known if name not in applied]
    unknown = [name for name in applied if name not in known]
    if missing:
        return Check(
            "database",
            False,
            f"{where}: {len(missing)} migration(s) not applied: {', '.join(missing)} "
            "(run innobridge migrate)",
        )
    if unknown:
        return Check(
            "database",
            False,
            f"{where}: applied migration(s) this version does not have: {', '.join(unknown)} "
            "(the database belongs to a newer version)",
        )
    return Check("database", True, f"{where}; {len(known)} migrations applied, up to date")


async def _migrations(database_url: str) -> tuple[list[str], list[str]]:
    """(applied, shipped) migration names of our app."""
    config = tortoise_config(database_url)
    await open_database(database_url)
    connection = Tortoise.get_connection("default")
    await connection.execute_query("SELECT 1")  # the recorder below hides a dead database
    executor = MigrationExecutor(connection, {APP: config["apps"][APP]})
    await executor.loader.build_graph()
    applied = sorted(k.name for k in executor.loader.applied_migrations if k.app_label == APP)
    known = sorted(k.name for k in executor.loader.disk_migrations if k.app_label == APP)
    return applied, known


async def check_bot(settings: Settings) -> list[Check]:
    """getMe, then getWebhookInfo, at the configured Bot API."""
    if settings.bot_token is None:
        return [
            Check("bot api", False, "INNOBRIDGE_BOT_TOKEN is not set"),
            _not_checked("webhook", "no bot token"),
        ]
    api = str(settings.telegram_api_url)
    bot = Bot(
        settings.bot_token.get_secret_value(),
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_file_base_url,
        request=HTTPXRequest(connect_timeout=TIMEOUT, read_timeout=TIMEOUT),
    )
    try:
        async with bot:  # initialize() asks getMe
            me = bot.bot
            info = await bot.get_webhook_info()
    except InvalidToken:
        # PTB's own message quotes the token: never print it.
        reason = f"{api} refused the token (401/404): check INNOBRIDGE_BOT_TOKEN"
        return [Check("bot api", False, reason), _not_checked("webhook", "the token is refused")]
    except NetworkError as error:
        reason = f"cannot reach {api}: {error.message}"
        return [Check("bot api", False, reason), _not_checked("webhook", "no Bot API")]
    except TelegramError as error:
        reason = f"{api}: {error.message}"
        return [Check("bot api", False, reason), _not_checked("webhook", "no Bot API")]
    return [
        Check("bot api", True, f"@{me.username} (id {me.id}) at {api}"),
        webhook_check(settings, info),
    ]


def webhook_check(settings: Settings, info: WebhookInfo) -> Check:
    """Whether Telegram's webhook matches the mode the configuration asks for."""
    state = f"{info.pending_update_count} update(s) pending"
    if info.last_error_message:
        when = f" at {info.last_error_date:%Y-%m-%d %H:%M:%S %Z}" if info.last_error_date else ""
        state += f"; last delivery error{when}: {info.last_error_message}"
    expected = str(settings.webhook_url) if settings.webhook_url else ""
    if expected:
        if info.url == expected:
            return Check("webhook", True, f"{info.url}; {state}")
        if not info.url:
            reason = f"none set, expected {expected} (innobridge run sets it); {state}"
            return Check("webhook", False, reason)
        return Check("webhook", False, f"set to {info.url}, expected {expected}; {state}")
    if info.url:
        reason = (
            f"{info.url} is set but INNOBRIDGE_WEBHOOK_URL is not: long polling gets "
            f"409 Conflict until it is deleted; {state}"
        )
        return Check("webhook", False, reason)
    return Check("webhook", True, f"none (long polling); {state}")


async def run(say: Callable[[str], object] = print) -> int:
    """Print each check's line; 0 when all are OK, else 1."""
    checks = await diagnose()
    for check in checks:
        say(check.line())
    return 0 if all(check.ok for check in checks) else 1
