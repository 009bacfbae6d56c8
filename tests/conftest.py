"""Fixtures: real databases (SQLite and PostgreSQL), the Bot API emulator, the bot under test.

The bot is the production Application from bot/app.py; only its Bot API root points at the
emulator, and updates are fed in-process (`application.process_update`) so each user action
returns once the bot has fully answered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from telegram import Update
from telegram.ext import Application
from tortoise import Tortoise

# PTB 22 warns (PTBDeprecationWarning) unless time periods are timedeltas; opt in now.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.app import build_application  # noqa: E402
from bot.config import Settings, load_platform  # noqa: E402
from bot.emulator import BotAPIEmulator, EmulatedUser  # noqa: E402
from models.db import close_database, migrate, open_database  # noqa: E402
from models.entities import Role, User, UserStatus  # noqa: E402
from models.platform import PlatformConfig  # noqa: E402
from tests.factories import register_enterprise  # noqa: E402

TOKEN = "123456789:test-token-aaaaaaaaaaaaaaaaaaaaaaaa"
ADMIN_ID = 900
PG_URL = os.environ.get("INNOBRIDGE_TEST_POSTGRES_URL")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI the PostgreSQL half is mandatory; locally its absence is said out loud."""
    if PG_URL:
        return
    if os.environ.get("CI") == "true":
        pytest.exit("CI=true but INNOBRIDGE_TEST_POSTGRES_URL is not set: `make test` sets it", 2)
    print("\nNOTICE: PostgreSQL not available, the PostgreSQL half of the suite is skipped.")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own INNOBRIDGE_* variables must not change what the tests see.
    for name in list(os.environ):
        if name.startswith("INNOBRIDGE_") and name != "INNOBRIDGE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    # A command run in-process (`main([...])`) installs its own root handler and levels
    # (bot/logs.py configure): put pytest's back, so later tests capture what they expect.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "aiohttp.access")}
    yield
    for installed in list(root.handlers):
        if installed not in handlers:
            root.removeHandler(installed)
    for kept in handlers:
        if kept not in root.handlers:
            root.addHandler(kept)
    root.setLevel(level)
    for name, was in levels.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file built by the real migrations; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    """The test database, migrated once per run."""
    if PG_URL:
        asyncio.run(migrate(PG_URL))
    return PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_url: str | None,
) -> AsyncIterator[str]:
    """An open, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite://{path}"
    else:
        if postgres_url is None:
            pytest.skip("PostgreSQL not available (make test provides it)")
        url = postgres_url
    await open_database(url)
    if request.param == "postgres":
        names = {
            model._meta.db_table
            for model in Tortoise.apps.get_models_iterable()  # type: ignore[union-attr]
            if model._meta.db_table and not model._meta.abstract
        }
        tables = ", ".join(f'"{name}"' for name in sorted(names))
        await Tortoise.get_connection("default").execute_script(
            f"TRUNCATE {tables} RESTART IDENTITY CASCADE"
        )
    yield url
    await close_database()


@dataclass
class Harness:
    """The running bot, the emulator it talks to, and helpers to make people."""

    application: Application  # type: ignore[type-arg]
    emulator: BotAPIEmulator

    def person(
        self, user_id: int, name: str, language_code: str = "zh-CN", **extra: Any
    ) -> EmulatedUser:
        """A simulated human (phone +86 138 00xx xxxx unless given)."""
        extra.setdefault("phone_number", f"+86138{user_id:08d}")
        return self.emulator.user(user_id, first_name=name, language_code=language_code, **extra)


async def start_bot(
    emulator: BotAPIEmulator,
    server: TestServer,
    database_url: str,
    platform: PlatformConfig | None = None,
    *,
    secret_key: str | None = None,
) -> Application:  # type: ignore[type-arg]
    """Build and initialise the production Application against the emulator."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_url=str(server.make_url("")),
        database_url=database_url,
        admin_ids=[ADMIN_ID],
        secret_key=secret_key,
    )
    application = build_application(settings, platform or load_platform(None), own_database=False)
    await application.initialize()
    assert application.post_init is not None
    try:
        await application.post_init(application)
    except BaseException:
        await application.shutdown()  # as `async with application` in bot/runner.py does
        raise

    async def deliver(token: str, update: dict[str, Any]) -> None:
        await application.process_update(Update.de_json(update, application.bot))

    emulator.deliver = deliver
    return application


async def stop_bot(application: Application) -> None:  # type: ignore[type-arg]
    """Shut the Application down as the runner does."""
    assert application.post_shutdown is not None
    await application.post_shutdown(application)
    await application.shutdown()


@pytest.fixture
async def emulator_server() -> AsyncIterator[tuple[BotAPIEmulator, TestServer]]:
    """The Bot API emulator on a real local HTTP port."""
    # Tests act far faster than a person types; the per-chat limit has its own emulator tests.
    emulator = BotAPIEmulator(chat_rate=30, chat_burst=30)
    emulator.add_bot(TOKEN, username="innobridge_test_bot")
    server = TestServer(emulator.make_app())
    await server.start_server()
    yield emulator, server
    await server.close()


@pytest.fixture
async def harness(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> AsyncIterator[Harness]:
    """The bot, running against the emulator and a real database."""
    emulator, server = emulator_server
    harness = Harness(await start_bot(emulator, server, database), emulator)
    yield harness
    # A test may have restarted the bot: stop whichever Application runs now.
    await stop_bot(harness.application)
    # Whatever a test did, the bot never made a call the Bot API refuses.
    assert emulator.errors() == []


def free_port() -> int:
    """A local TCP port nobody listens on (for a bot process's own web server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def make_staff(user_id: int, role: Role, name: str) -> User:
    """An active staff member, as an invite would leave them."""
    user, _ = await User.update_or_create(
        id=user_id,
        defaults={
            "first_name": name,
            "real_name": name,
            "role": role,
            "status": UserStatus.ACTIVE,
            "language_code": "zh-CN",
        },
    )
    return user


async def approved_enterprise(harness: Harness) -> tuple[EmulatedUser, EmulatedUser]:
    """张伟 registered by chat and approved by 王审核, a reviewer who has started the bot."""
    await make_staff(301, Role.REVIEWER, "王审核")
    wang = harness.person(301, "王审核")
    await wang.send("/start")
    zhang = harness.person(201, "张伟")
    await register_enterprise(zhang)
    await zhang.press("✅ 确认提交")
    await wang.press("✅ 批准")
    return zhang, wang
