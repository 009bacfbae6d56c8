"""Opening, closing and migrating the database (Tortoise ORM 1.x)."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as tortoise_migrate

from models.crypto import KEYRING

MODEL_MODULES = [
    "models.entities",
    "models.demand_entities",
    "models.reminder_entities",
    "models.runtime_entities",
    "models.institution_entities",
    "models.voucher_entities",
    "models.evaluation_entities",
    "models.broadcast_entities",
    "models.dashboard_entities",
    "models.api_entities",
    "models.listing_entities",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Tortoise configuration for the given URL, with our migrations package."""
    return {
        "connections": {"default": _with_sqlite_pragmas(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _with_sqlite_pragmas(url: str) -> str | dict[str, Any]:
    # WAL lets the web server read while the bot writes. synchronous=NORMAL (the setting
    # SQLite recommends with WAL) keeps every commit atomic and safe from a crash of the
    # process; only a power cut may lose the last commits, and it saves an fsync a commit
    # (docs/PERFORMANCE.md, F2).
    if not url.startswith("sqlite://"):
        return url
    path = url.removeprefix("sqlite://")
    return {
        "engine": "tortoise.backends.sqlite",
        "credentials": {
            "file_path": path,
            "journal_mode": "WAL",
            "journal_size_limit": 16384,
            "synchronous": "NORMAL",
            "foreign_keys": "ON",
        },
    }


# For `tortoise -c models.db.TORTOISE_ORM makemigrations` (see DEVELOPERS.md): a fixed,
# throw-away database, so developers' tooling never touches real data.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


async def open_database(database_url: str, *, secret_key: str | None = None) -> None:
    """Connect to the database; visible to every task (the bot's and the web server's).

    The secret key (INNOBRIDGE_SECRET_KEY) encrypts phone numbers from now on; without it
    they are stored plain (and encrypted ones cannot be read).
    """
    KEYRING.use(secret_key)
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def close_database() -> None:
    """Close every connection."""
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply every migration that the database lacks."""
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


def is_outage(error: BaseException | None) -> bool:
    """Whether an error means the database is unreachable (as opposed to a bug or bad data)."""
    if error is None:
        return False
    if isinstance(error, DBConnectionError | ConnectionError | OSError | TimeoutError):
        return True
    # asyncpg reports a lost connection with its own classes (no dependency on it here).
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(
        names & {"PostgresConnectionError", "ConnectionDoesNotExistError", "InterfaceError"}
    )
