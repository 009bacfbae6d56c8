"""The `innobridge` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from telegram.error import InvalidToken

from bot import export_cli, logs
from bot.config import ConfigError, Settings, load_platform, load_settings
from models.db import migrate
from models.platform import PlatformConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="innobridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="bot + web server; migrates the database first")
    commands.add_parser("sandbox", help="everything offline: emulator, demo data, web chat")
    commands.add_parser("migrate", help="apply database migrations")
    reminders = commands.add_parser("reminders", help="preview reminders, or send what is due")
    mode = reminders.add_mutually_exclusive_group(required=True)
    mode.add_argument("--preview", action="store_true", help="list what would be sent, when")
    mode.add_argument("--send-due", action="store_true", help="send what is due now, then exit")
    reminders.add_argument("--days", type=_days, default=30, help="preview horizon (1-366)")
    backup = commands.add_parser("backup", help="online backup of the SQLite database")
    backup.add_argument(
        "--to",
        metavar="PATH",
        help="a directory for a timestamped copy (default: backups/ beside the database), "
        "or the file to write",
    )
    commands.add_parser("doctor", help="check configuration, database, Bot API and webhook")
    export_cli.add_parser(commands)
    evaluate = commands.add_parser("evaluate", help="compute a year's evaluation, print it")
    evaluate.add_argument("--year", required=True, help="a finished year, e.g. 2025")
    return parser


def _days(raw: str) -> int:
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= 366:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to 366, got {raw!r}")
    return days


def _configure() -> tuple[Settings, PlatformConfig]:
    settings = load_settings()
    return settings, load_platform(settings.config)


def main(argv: list[str] | None = None) -> int:
    """Entry point; configuration problems end with exit status 2 and the reason."""
    args = _parser().parse_args(argv)
    try:
        # A service's log is read by machines (JSON lines); a person runs the other commands.
        logs.configure("json" if args.command == "run" else "text")
        if args.command == "doctor":
            return asyncio.run(_doctor())
        if args.command == "backup":
            return _backup(args)
        if args.command == "sandbox":
            from bot.sandbox import run_sandbox

            asyncio.run(run_sandbox())
            return 0
        settings, platform = _configure()
        if args.command == "migrate":
            asyncio.run(migrate(settings.database_url))
        elif args.command == "reminders":
            return _reminders(args, settings, platform)
        elif args.command == "export":
            return export_cli.command(args, settings, platform)
        elif args.command == "evaluate":
            return _evaluate(args, settings, platform)
        elif args.command == "run":
            if settings.bot_token is None:
                raise ConfigError(
                    "environment: INNOBRIDGE_BOT_TOKEN: required for `innobridge run`"
                )
            from bot.runner import serve
            from bot.web import create_web_app

            asyncio.run(migrate(settings.database_url))
            asyncio.run(serve(settings, platform, create_web_app(settings)))
    except ConfigError as error:
        print(f"innobridge: configuration error\n{error}", file=sys.stderr)
        return 2
    except InvalidToken:
        # PTB's message quotes the token, which must not reach a log: say it without it.
        print("innobridge: the Bot API refused INNOBRIDGE_BOT_TOKEN", file=sys.stderr)
        return 2
    except Exception:
        # Through the log's formatter, which masks a token or phone number in the traceback.
        logging.getLogger(__name__).exception("innobridge %s stopped", args.command)
        return 1
    return 0


async def _doctor() -> int:
    from bot import doctor

    return await doctor.run()


def _backup(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, NotSQLite, backup_sqlite

    settings = load_settings()
    try:
        made = backup_sqlite(settings.database_url, args.to)
    except NotSQLite as error:
        print(error, file=sys.stderr)
        return 2
    except BackupError as error:
        print(f"innobridge backup: {error}", file=sys.stderr)
        return 1
    print(made)
    return 0


def _reminders(args: argparse.Namespace, settings: Settings, platform: PlatformConfig) -> int:
    from scheduler import operator

    asyncio.run(migrate(settings.database_url))
    if args.preview:
        for line in asyncio.run(operator.preview(settings, platform, args.days)):
            print(line)
        return 0
    if settings.bot_token is None:
        raise ConfigError("environment: INNOBRIDGE_BOT_TOKEN: required to send reminders")
    report = asyncio.run(operator.send_due(settings, platform))
    print(report)
    return 0


def _evaluate(args: argparse.Namespace, settings: Settings, platform: PlatformConfig) -> int:
    from bot import evaluation_cli

    asyncio.run(migrate(settings.database_url))
    status, lines = asyncio.run(evaluation_cli.run(settings, platform, args.year))
    for line in lines:
        print(line, file=sys.stderr if status else sys.stdout)
    return status
