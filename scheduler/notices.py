"""Public notices of tier promotions (Shenyang art. 7): a notice that ended without an upheld
objection takes effect, and the institution's representatives are told.

`tiers.close_notices` closes each notice with a compare-and-set, so running it twice, after a
restart or in two workers at once, promotes each institution once and tells it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from zoneinfo import ZoneInfo

from telegram.ext import Application, ContextTypes

from handlers.context import NOTIFIER, Notifier
from models import tiers

log = logging.getLogger(__name__)
# Just after the demand expiry job (scheduler/expiry.py): the day the notice ends is over.
DAILY_AT = time(0, 10)


async def close_notices(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Close the notices due today and publish the news."""
    zone = ZoneInfo(context.application.bot_data["timezone"])
    events = await tiers.close_notices(datetime.now(zone).date())
    if events:
        log.info("closed %d tier notice(s)", len(events))
        notifier: Notifier = context.application.bot_data[NOTIFIER]
        await notifier.publish(events)


def schedule(application: Application, zone: ZoneInfo) -> None:
    """Daily, and once at start-up (a process that was down at midnight catches up)."""
    queue = application.job_queue
    if queue is None:  # PTB installed without the job-queue extra
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    queue.run_daily(close_notices, DAILY_AT.replace(tzinfo=zone), name="close_tier_notices")
    queue.run_once(close_notices, 5, name="close_tier_notices_at_start")
