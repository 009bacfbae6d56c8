"""The `innobridge` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, load_platform, load_settings
from models.db import migrate
from models.platform import PlatformConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="innobridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="bot + web server; migrates the database first")
    commands.add_parser("sandbox", help="everything offline: emulator, demo data, web chat")
    commands.add_parser("migrate", help="apply database migrations")
    return parser


def _configure() -> tuple[Settings, PlatformConfig]:
    settings = load_settings()
    return settings, load_platform(settings.config)


def main(argv: list[str] | None = None) -> int:
    """Entry point; configuration problems end with exit status 2 and the reason."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the log
    try:
        if args.command == "sandbox":
            from bot.sandbox import run_sandbox

            asyncio.run(run_sandbox())
            return 0
        settings, platform = _configure()
        if args.command == "migrate":
            asyncio.run(migrate(settings.database_url))
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
