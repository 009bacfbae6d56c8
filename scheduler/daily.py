"""Daily jobs of the domain, run shortly after midnight in the platform's zone and once at
start-up (a process that was down at midnight catches up).

Each job is a compare-and-set in models/, so running it twice, after a restart or in two
workers at once, changes each record once and tells its people once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from telegram.ext import Application, ContextTypes

from handlers.context import NOTIFIER, Notifier
from models import dashboard, evaluation, market, tiers
from models.events import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DailyJob:
    name: str
    at: time
    run: Callable[[date], Awaitable[list[Event]]]


JOBS = (
    # "Wanted by 30 June" is over on 1 July: a published demand without a match expires.
    DailyJob("expire_demands", time(0, 5), market.expire_due),
    # A tier notice (Shenyang art. 7) that ended without an upheld objection takes effect.
    DailyJob("close_tier_notices", time(0, 10), tiers.close_notices),
    # An evaluation whose notice (公示, Shanghai art. 22) has ended is published; each
    # institution then hears its own result from the reminder engine.
    DailyJob("publish_evaluations", time(0, 15), evaluation.publish_due),
    # Dashboard login links and sessions that expired yesterday or before are deleted.
    DailyJob("forget_dashboard_logins", time(0, 20), dashboard.forget_expired),
)


async def _run(job: DailyJob, context: ContextTypes.DEFAULT_TYPE) -> None:
    zone = ZoneInfo(context.application.bot_data["timezone"])
    await run_on(context.application, job, datetime.now(zone).date())


async def run_on(application: Application, job: DailyJob, day: date) -> int:
    """Run one job as of `day` and tell people what changed; returns how many changes."""
    events = await job.run(day)
    if events:
        log.info("%s on %s: %d change(s)", job.name, day.isoformat(), len(events))
        notifier: Notifier = application.bot_data[NOTIFIER]
        await notifier.publish(events)
    return len(events)


def schedule(application: Application, zone: ZoneInfo) -> None:
    """Every job daily at its time, and once a few seconds after start-up."""
    queue = application.job_queue
    if queue is None:  # PTB installed without the job-queue extra
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    for job in JOBS:
        callback = functools.partial(_run, job)
        queue.run_daily(callback, job.at.replace(tzinfo=zone), name=job.name)
        queue.run_once(callback, 5, name=f"{job.name}_at_start")
