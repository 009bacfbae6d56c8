"""`innobridge export TABLE|all --format xlsx|csv --lang zh|en [--full] [--out PATH]`.

The same tables and writers as the chat's /export (models/exports.py); the command line is
run by someone with the server's shell and database, so it needs no admin account, but a
full-data export is audited all the same, with the operating-system user who ran it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from models import export_files, exports
from models.db import close_database, migrate, open_database
from models.platform import PlatformConfig


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `export` subcommand; argparse refuses a bad table or format with exit status 2."""
    export = commands.add_parser("export", help="XLSX / CSV exports of the platform's tables")
    export.add_argument("table", choices=[*exports.TABLES, exports.ALL])
    export.add_argument("--format", choices=export_files.FORMATS, default="xlsx")
    export.add_argument("--lang", choices=("zh", "en"), default="zh", help="column headings")
    export.add_argument(
        "--full", action="store_true", help="unmasked personal data (recorded in the audit log)"
    )
    export.add_argument("--out", metavar="PATH", type=Path, help="the file to write")


def command(args: argparse.Namespace, settings: Settings, platform: PlatformConfig) -> int:
    """Run `innobridge export`: print the file written; 2 when it cannot be written there."""
    out: Path | None = args.out
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        print(f"innobridge export: --out {out}: not a file in an existing folder", file=sys.stderr)
        return 2
    print(asyncio.run(run(args, settings, platform)))
    return 0


async def run(args: argparse.Namespace, settings: Settings, platform: PlatformConfig) -> Path:
    """Write the export and return its path."""
    from handlers.stats_views import words  # brings telegram and matplotlib: only when used

    tables = exports.tables_for(args.table)
    options = exports.Options(
        lang=args.lang,
        full=args.full,
        timezone=settings.timezone,
        platform=platform,
        words=words(args.lang),
    )
    stamp = datetime.now(settings.tz).strftime("%Y%m%d-%H%M")
    suffix = export_files.suffix(args.format, tables)
    out: Path = args.out or Path(f"innobridge-{args.table}-{stamp}.{suffix}")
    await migrate(settings.database_url)
    await open_database(settings.database_url, secret_key=settings.secret)
    try:
        by = f"cli:{getpass.getuser()}"
        await exports.begin(None, args.table, args.format, options, by=by)
        written = await export_files.write(tables, args.format, options, out)
    finally:
        await close_database()
    return written.path
