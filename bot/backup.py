"""`innobridge backup` (DESIGN §6): a consistent copy of the SQLite database, taken live.

SQLite's online backup API (Python's `sqlite3.Connection.backup`) copies the pages of one
read transaction: with the database in WAL mode the bot keeps writing meanwhile, and the
copy is the database as it was when the backup began. It is written beside its final name,
checked with `PRAGMA integrity_check`, turned into a single self-contained file (rollback
journal instead of WAL) and only then renamed into place, so a half-written backup never
carries a backup's name. PostgreSQL has its own tool for this: pg_dump.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

PG_DUMP_HINT = (
    "innobridge backup copies SQLite databases. This one is PostgreSQL: use pg_dump, e.g.\n"
    "  pg_dump --format=custom --file=innobridge-$(date +%Y%m%dT%H%M%S).dump DBNAME"
)


class BackupError(Exception):
    """A backup that cannot be made; the message says why."""


class NotSQLite(BackupError):
    """The configured database is not SQLite (PostgreSQL: pg_dump is the tool)."""


def sqlite_path(database_url: str) -> Path:
    """The file of a `sqlite://PATH` URL (as models/db.py reads it)."""
    if not database_url.startswith("sqlite://"):
        raise NotSQLite(PG_DUMP_HINT)
    path = database_url.removeprefix("sqlite://")
    if not path or path == ":memory:":
        raise BackupError("the database is in memory: there is nothing to back up")
    return Path(path)


def default_directory(source: Path) -> Path:
    """Where backups go when no --to is given: `backups/` beside the database."""
    return source.parent / "backups"


def target_for(source: Path, to: str | None, now: datetime) -> Path:
    """The backup's file: a timestamped name in a directory (one that exists, or a path
    ending in /), or else the exact file given."""
    name = f"{source.stem}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.sqlite3"
    if to is None:
        return default_directory(source) / name
    if to.endswith(("/", "\\")) or Path(to).is_dir():
        return Path(to) / name
    return Path(to)


def backup_sqlite(database_url: str, to: str | None = None, now: datetime | None = None) -> Path:
    """Copy the live database to a new file; return its path."""
    source = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"no database file at {source}")
    target = target_for(source, to, now or datetime.now(UTC))
    if target.exists():
        raise BackupError(f"{target} exists already; backups are never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        verdict = _copy(source, partial)
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {source}: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {verdict}")
    partial.rename(target)
    return target


def _copy(source: Path, partial: Path) -> str:
    # mode=rw: never create an empty database where the configured one is missing.
    live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            # All pages in one step: one read transaction, so one consistent moment even
            # while the bot writes (WAL readers do not block writers, nor they them).
            live.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            [(verdict,)] = copy.execute("PRAGMA integrity_check").fetchall()
            return str(verdict)
        finally:
            copy.close()
    finally:
        live.close()
