"""The `innobridge` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import ConfigError, Settings, load_platform, load_settings
from bot.logs import configure_logging
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
    configure_logging()
    try:
        if args.command == "sandbox":
            from bot.sandbox import run_sandbox

            asyncio.run(run_sandbox())
            return 0
        settings, platform = _configure()
        if args.command == "migrate":
            asyncio.run(migrate(settings.database_url))
        elif args.command == "reminders":
            return _reminders(args, settings, platform)
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
