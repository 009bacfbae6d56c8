"""innobridge as `innobridge run` starts it, optionally with the send-rate limiter lifted.

`python -m bench.bot_process` reads the same INNOBRIDGE_* environment. Without
BENCH_RATE_PER_SECOND it is exactly `innobridge run` (bot/cli.py). With it, both limits of
sending are set to that rate, past Telegram's: the overall rate of the AIORateLimiter
(bot/retrying.py, 28/s, which paces every reply) and the reminders' rate_per_second, to
measure the software rather than Telegram's limit; everything else (migrate, then
bot/runner.py serve) is the same.

BENCH_EXPERIMENTS names fixes to undo first, to measure the code as it was
(bench/experiments.py).
With BENCH_QUERY_LOG=PATH (profiling only) every SQL statement Tortoise runs is counted by
its shape, and SIGUSR1 appends the counts so far to PATH as one JSON line.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path
from types import FrameType

os.environ.setdefault("PTB_TIMEDELTA", "1")

import bot.app  # noqa: E402
from bench.orphan import die_with_parent  # noqa: E402
from bot import cli  # noqa: E402
from bot.config import load_platform, load_settings  # noqa: E402
from bot.retrying import RetryingRateLimiter  # noqa: E402
from bot.runner import serve  # noqa: E402
from bot.web import create_web_app  # noqa: E402
from models.db import migrate  # noqa: E402

_LITERALS = re.compile(r"'[^']*'|\b\d+\b")


class QueryCounter(logging.Handler):
    """Counts Tortoise's statements by shape (literals blanked), dumped on SIGUSR1."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.DEBUG)
        self.path = path
        self.shapes: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        """Count one statement."""
        query = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        self.shapes[_LITERALS.sub("?", str(query))[:160]] += 1

    def dump(self, signum: int, frame: FrameType | None) -> None:
        """Append the counts so far."""
        with self.path.open("a") as out:
            out.write(json.dumps(dict(self.shapes)) + "\n")


def count_queries(path: str) -> None:
    """Send Tortoise's per-statement debug records to a QueryCounter only."""
    counter = QueryCounter(Path(path))
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(counter)
    signal.signal(signal.SIGUSR1, counter.dump)


def main() -> int:
    """Run the bot until SIGTERM (or until the bench that started it dies)."""
    die_with_parent()
    if os.environ.get("BENCH_QUERY_LOG"):  # "{pid}" in it: one file per worker process
        count_queries(os.environ["BENCH_QUERY_LOG"].replace("{pid}", str(os.getpid())))
    experiments = os.environ.get("BENCH_EXPERIMENTS")
    if experiments:
        from bench.experiments import apply

        apply({name.strip() for name in experiments.split(",") if name.strip()})
    rate = os.environ.get("BENCH_RATE_PER_SECOND")
    if not rate:
        return cli.main(["run"])
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = load_settings()
    platform = load_platform(settings.config)
    bot.app.RetryingRateLimiter = functools.partial(  # type: ignore[misc,assignment]
        RetryingRateLimiter, overall_max_rate=int(rate)
    )
    lifted = platform.reminders.model_copy(update={"rate_per_second": int(rate)})
    platform = platform.model_copy(update={"reminders": lifted})
    asyncio.run(migrate(settings.database_url))
    asyncio.run(serve(settings, platform, create_web_app(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
