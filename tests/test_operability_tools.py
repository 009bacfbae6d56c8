"""`innobridge backup` and `innobridge doctor` (issue #7 item 7), as an operator runs them.

The doctor is run in-process for most cases (configured through the environment, as the
command is) and as a real process for its exit status; the Bot API it checks is the
emulator on a real port. Backups are taken while a writer keeps inserting.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from telegram import Bot

from bot import doctor
from bot.backup import backup_sqlite
from bot.emulator import BotAPIEmulator
from bot.emulator.user_actions import send_text
from models import inbox
from models.db import close_database, open_database
from models.runtime_entities import InboxUpdate
from tests.conftest import TOKEN
from tests.operability_support import environment, innobridge

WRONG_TOKEN = "123456789:wrong-token-bbbbbbbbbbbbbbbbbbbbbbb"
HOOK = "http://127.0.0.1:9/telegram/webhook"  # nothing listens there
# The migrations this code ships (models/migrations), as doctor compares them.
SHIPPED = sorted(
    path.stem for path in (Path(__file__).parents[1] / "models" / "migrations").glob("0*.py")
)
ALL_MISSING = (
    f"{len(SHIPPED)} migration(s) not applied: {', '.join(SHIPPED)} (run innobridge migrate)"
)
Configure = Callable[..., None]


@pytest.fixture
def migrated(sqlite_template: Path, tmp_path: Path) -> Path:
    """A SQLite database with every migration applied."""
    path = tmp_path / "innobridge.sqlite3"
    shutil.copy(sqlite_template, path)
    return path


@pytest.fixture
def configure(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    emulator_server: tuple[BotAPIEmulator, TestServer],
) -> Configure:
    """Set the environment the doctor reads: the emulator's URL and the given variables."""
    monkeypatch.chdir(tmp_path)  # no developer's .env
    _, api = emulator_server

    def apply(**values: str) -> None:
        monkeypatch.setenv("INNOBRIDGE_TELEGRAM_API_URL", str(api.make_url("")))
        for key, raw in values.items():
            monkeypatch.setenv(f"INNOBRIDGE_{key.upper()}", raw)

    return apply


async def diagnose() -> tuple[int, list[str]]:
    said: list[str] = []
    status = await doctor.run(said.append)
    return status, said


# --- doctor ---------------------------------------------------------------------------------


async def test_doctor_all_ok_in_polling_mode(configure: Configure, migrated: Path) -> None:
    configure(bot_token=TOKEN, database_url=f"sqlite://{migrated}")
    status, said = await diagnose()
    assert status == 0
    assert [line.split(":")[0] for line in said] == [
        "OK   configuration",
        "OK   database",
        "OK   bot api",
        "OK   webhook",
    ]
    assert "reminders every 60 s, quiet 21:00-08:00, 7 rules on" in said[0]
    assert (
        said[1]
        == f"OK   database: SQLite {migrated}; {len(SHIPPED)} migrations applied, up to date"
    )
    assert said[2].startswith("OK   bot api: @innobridge_test_bot (id 123456789) at http://")
    assert said[3] == "OK   webhook: none (long polling); 0 update(s) pending"


async def test_doctor_names_a_refused_token_without_printing_it(
    configure: Configure, migrated: Path
) -> None:
    configure(bot_token=WRONG_TOKEN, database_url=f"sqlite://{migrated}")
    status, said = await diagnose()
    assert status == 1
    assert said[1].startswith("OK   database")
    assert re.fullmatch(
        r"FAIL bot api: http://127\.0\.0\.1:\d+/ refused the token \(401/404\): "
        r"check INNOBRIDGE_BOT_TOKEN",
        said[2],
    )
    assert said[3] == "FAIL webhook: not checked: the token is refused"
    assert not any("wrong-token" in line for line in said)


async def test_doctor_compares_the_webhook_with_the_configured_mode(
    configure: Configure, migrated: Path, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    emulator, api = emulator_server
    async with Bot(TOKEN, base_url=str(api.make_url("/bot"))) as bot:
        await bot.set_webhook(HOOK)
    # Someone writes to the bot; Telegram cannot deliver it to the dead URL.
    info = emulator.user(101, first_name="张伟").info
    await send_text(emulator, emulator.bot(TOKEN), info, "/start", wait=False)
    for _ in range(1000):  # a bounded wait for the sender's first failed attempt
        if emulator.bot(TOKEN).webhook.last_error_message:  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.01)

    configure(bot_token=TOKEN, database_url=f"sqlite://{migrated}")
    status, said = await diagnose()
    assert status == 1
    assert said[3].startswith(
        f"FAIL webhook: {HOOK} is set but INNOBRIDGE_WEBHOOK_URL is not: long polling gets "
        "409 Conflict until it is deleted; 1 update(s) pending; last delivery error at "
    )
    assert said[3].endswith(": Connection refused")

    configure(webhook_url=HOOK)
    status, said = await diagnose()
    assert status == 0
    assert said[0].endswith("webhook mode")
    assert said[3].startswith(f"OK   webhook: {HOOK}; 1 update(s) pending; last delivery")

    configure(webhook_url="https://bot.example.org/telegram/webhook")
    status, said = await diagnose()
    assert status == 1
    assert said[3].startswith(
        f"FAIL webhook: set to {HOOK}, expected https://bot.example.org/telegram/webhook"
    )
    async with Bot(TOKEN, base_url=str(api.make_url("/bot"))) as bot:
        await bot.delete_webhook()
    status, said = await diagnose()
    assert said[3].startswith(
        "FAIL webhook: none set, expected https://bot.example.org/telegram/webhook "
        "(innobridge run sets it)"
    )


async def test_doctor_finds_migrations_missing_or_unknown_on_sqlite(
    configure: Configure, migrated: Path, tmp_path: Path
) -> None:
    configure(bot_token=TOKEN, database_url=f"sqlite://{migrated}")
    with contextlib.closing(sqlite3.connect(migrated)) as db, db:
        db.execute("DELETE FROM tortoise_migrations WHERE name = '0004_inbox'")
    status, said = await diagnose()
    assert status == 1
    assert said[1] == (
        f"FAIL database: SQLite {migrated}: 1 migration(s) not applied: 0004_inbox "
        "(run innobridge migrate)"
    )

    with contextlib.closing(sqlite3.connect(migrated)) as db, db:
        db.execute(
            "INSERT INTO tortoise_migrations (app, name, applied_at) VALUES "
            "('models', '0004_inbox', '2026-01-01'), ('models', '0099_future', '2030-01-01')"
        )
    status, said = await diagnose()
    assert said[1].endswith(
        "applied migration(s) this version does not have: 0099_future "
        "(the database belongs to a newer version)"
    )

    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    configure(database_url=f"sqlite://{empty}")
    status, said = await diagnose()
    assert said[1] == (f"FAIL database: SQLite {empty}: {ALL_MISSING}")
    configure(database_url=f"sqlite://{tmp_path / 'absent.sqlite3'}")
    status, said = await diagnose()
    assert said[1].endswith("absent.sqlite3: no such file (innobridge migrate makes it)")
    assert not (tmp_path / "absent.sqlite3").exists()  # the doctor did not create it


async def test_doctor_reports_a_configuration_that_does_not_load(
    configure: Configure, tmp_path: Path
) -> None:
    bad = tmp_path / "platform.toml"
    bad.write_text("[reminders]\ntick_seconds = 1\n", encoding="utf-8")
    configure(bot_token=TOKEN, config=str(bad))
    status, said = await diagnose()
    assert status == 1
    assert said[0].startswith(f"FAIL configuration: INNOBRIDGE_CONFIG ({bad}): reminders.")
    assert "tick_seconds" in said[0]
    assert said[1:] == [
        f"FAIL {name}: not checked: the configuration does not load"
        for name in ("database", "bot api", "webhook")
    ]


@pytest.fixture
async def empty_postgres(postgres_url: str | None) -> AsyncIterator[str]:
    """A PostgreSQL database of its own with no tables at all."""
    if postgres_url is None:
        pytest.skip("PostgreSQL not available (make test provides it)")
    parts = urlsplit(postgres_url)
    name = f"{parts.path.lstrip('/')}_doctor_empty"
    server = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await server.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(parts._replace(path=f"/{name}"))
        await server.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await server.close()


@pytest.mark.postgres
async def test_doctor_on_postgresql_migrated_and_empty(
    configure: Configure, postgres_url: str | None, empty_postgres: str
) -> None:
    assert postgres_url is not None
    configure(bot_token=TOKEN, database_url=postgres_url)
    status, said = await diagnose()
    assert status == 0, said
    where = f"PostgreSQL 127.0.0.1:5432/{urlsplit(postgres_url).path.lstrip('/')}"
    assert said[1] == f"OK   database: {where}; {len(SHIPPED)} migrations applied, up to date"

    configure(database_url=empty_postgres)
    status, said = await diagnose()
    assert status == 1
    assert said[1].endswith(f": {ALL_MISSING}")


async def test_the_doctor_command_exits_0_when_all_is_well_and_1_otherwise(
    emulator_server: tuple[BotAPIEmulator, TestServer], migrated: Path, tmp_path: Path
) -> None:
    _, api = emulator_server
    env = environment(
        INNOBRIDGE_TELEGRAM_API_URL=str(api.make_url("")),
        INNOBRIDGE_DATABASE_URL=f"sqlite://{migrated}",
        INNOBRIDGE_BOT_TOKEN=TOKEN,
    )
    status, out, _ = await innobridge("doctor", env=env, cwd=tmp_path)
    assert status == 0, out
    assert len(out.splitlines()) == 4 and all(line.startswith("OK") for line in out.splitlines())

    env["INNOBRIDGE_BOT_TOKEN"] = WRONG_TOKEN
    status, out, err = await innobridge("doctor", env=env, cwd=tmp_path)
    assert status == 1
    assert "FAIL bot api" in out
    assert "wrong-token" not in out + err


# --- backup ---------------------------------------------------------------------------------


async def test_a_backup_taken_while_the_bot_writes_is_whole_and_consistent(
    migrated: Path, tmp_path: Path
) -> None:
    url = f"sqlite://{migrated}"
    await open_database(url)
    stop, reached = asyncio.Event(), asyncio.Event()
    written, goal = 0, 50

    async def writer() -> None:
        nonlocal written
        while not stop.is_set():
            await inbox.store({"update_id": written + 1, "message": {"chat": {"id": 7}}})
            written += 1
            if written >= goal:
                reached.set()

    task = asyncio.create_task(writer())
    try:
        await reached.wait()  # the writer is well under way
        before = written
        copy = await asyncio.to_thread(backup_sqlite, url, f"{tmp_path / 'backups'}/")
        after = written
        goal = after + 50
        reached.clear()
        await reached.wait()  # and it kept writing after the backup
    finally:
        stop.set()
        await task
        total = await InboxUpdate.all().count()
        await close_database()

    assert re.fullmatch(r"innobridge-\d{8}T\d{6}Z\.sqlite3", copy.name)
    assert copy.parent == tmp_path / "backups"
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]  # no -wal, no .partial
    with contextlib.closing(sqlite3.connect(copy)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        [(rows,)] = db.execute("SELECT COUNT(*) FROM inbox_updates").fetchall()
        [(highest,)] = db.execute("SELECT MAX(update_id) FROM inbox_updates").fetchall()
        [(migrations,)] = db.execute("SELECT COUNT(*) FROM tortoise_migrations").fetchall()
    assert before <= rows <= after < total
    assert highest == rows  # a prefix of what was written, nothing torn out of the middle
    assert migrations == len(SHIPPED)


async def test_the_backup_command_writes_where_told_and_never_overwrites(
    migrated: Path, tmp_path: Path
) -> None:
    env = environment(INNOBRIDGE_DATABASE_URL=f"sqlite://{migrated}")
    status, out, err = await innobridge("backup", env=env, cwd=tmp_path)
    assert status == 0, err
    made = Path(out.strip())
    assert made.parent == migrated.parent / "backups"  # the default: beside the database
    target = tmp_path / "nightly.sqlite3"
    status, out, err = await innobridge("backup", "--to", str(target), env=env, cwd=tmp_path)
    assert (status, out.strip()) == (0, str(target))
    with contextlib.closing(sqlite3.connect(target)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    status, out, err = await innobridge("backup", "--to", str(target), env=env, cwd=tmp_path)
    assert status == 1
    assert "exists already; backups are never overwritten" in err

    env["INNOBRIDGE_DATABASE_URL"] = f"sqlite://{tmp_path / 'absent.sqlite3'}"
    status, out, err = await innobridge("backup", env=env, cwd=tmp_path)
    assert status == 1
    assert "no database file at" in err
    assert not (tmp_path / "absent.sqlite3").exists()


async def test_the_backup_command_points_postgresql_to_pg_dump(tmp_path: Path) -> None:
    env = environment(INNOBRIDGE_DATABASE_URL="postgres://platform:s3cret@db.internal/innobridge")
    status, out, err = await innobridge("backup", env=env, cwd=tmp_path)
    assert status == 2
    assert out == ""
    assert "This one is PostgreSQL: use pg_dump" in err
    assert "s3cret" not in err
