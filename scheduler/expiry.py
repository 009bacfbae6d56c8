"""Demand expiry: a published demand whose wanted-by date has passed without a match expires.

The move is a compare-and-set (models/lifecycle.py), so running it twice, after a restart or
in two workers at once, expires each demand once and tells its owner once.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

from telegram.ext import Application, ContextTypes

from handlers.context import NOTIFIER, Notifier
from models import market

log = logging.getLogger(__name__)
# Shortly after midnight in the platform's zone: "wanted by 30 June" is over on 1 July.
DAILY_AT = time(0, 5)


async def expire_demands(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Expire what is due today and publish the notices."""
    zone = ZoneInfo(context.application.bot_data["timezone"])
    events = await market.expire_due(datetime.now(zone).date())
    if events:
        log.info("expired %d demand(s)", len(events))
        notifier: Notifier = context.application.bot_data[NOTIFIER]
        await notifier.publish(events)


def schedule(application: Application, zone: ZoneInfo) -> None:
    """Daily, and once at start-up (a process that was down at midnight catches up)."""
    queue = application.job_queue
    if queue is None:  # PTB installed without the job-queue extra
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    queue.run_daily(expire_demands, DAILY_AT.replace(tzinfo=zone), name="expire_demands")
    queue.run_once(expire_demands, 5, name="expire_demands_at_start")
