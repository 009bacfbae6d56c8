"""The reminder engine (DESIGN §4): each tick sends what should have been sent by now.

A tick asks the rules (models/reminders.py) for everything due up to now, records it
(models/deliveries.py: unique per rule, recipient and occurrence), claims what nobody holds
and sends it, paced by its own limiter at the configured rate for all chats together, under
the Application's AIORateLimiter (Telegram's overall rate, bot/retrying.py), so replies to
people keep the difference instead of queueing behind a fan-out; a 429's retry_after pauses
everyone. One chat gets at most one message a second. Quiet hours defer the whole tick;
the grace window decides what is caught up after downtime. python-telegram-bot's JobQueue
(APScheduler) runs the ticks.

Admins' broadcasts (models/broadcasts.py) are deliveries written when confirmed: each tick
sends those not yet sent with everything else, and edits the admins' progress messages
(scheduler/broadcast_progress.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiolimiter import AsyncLimiter
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from locales.i18n import use_locale
from models import broadcasts, deliveries, fan_deliveries, reminders
from models.entities import User
from models.platform import PlatformConfig
from models.reminder_entities import DeliveryState, ReminderDelivery
from models.users import locale_of, mark_unreachable
from scheduler.broadcast_progress import BroadcastProgress
from scheduler.messages import prepare, render

log = logging.getLogger(__name__)
ENGINE = "reminder_engine"
# How far back a tick looks for occurrences it must record as skipped (older: forgotten).
LOOKBACK = timedelta(days=7)
# Rows claimed at once: sent well within one lease at the configured rate.
BATCH = 500
CHAT_GAP = 1.0  # seconds between two messages to one chat (Telegram: about one a second)
BACKOFF_MAX = timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class TickReport:
    """What one tick did (logged, and read by tests and the benchmark)."""

    quiet: bool = False
    due: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    lost: int = 0  # claimed by another sender meanwhile
    skipped: int = 0  # recorded earlier, no longer due or past the grace window


class ReminderEngine:
    """Sends due reminders once; several engines (processes) may share one database."""

    def __init__(
        self,
        bot: Bot,
        platform: PlatformConfig,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> None:
        self.bot = bot
        self.config = platform.reminders
        self.zone = zone
        self.clock = clock
        self.on_tick = on_tick  # told what each tick did (bot/metrics.py counts it)
        self._lock = asyncio.Lock()
        self._paused_until = 0.0  # loop time before which nobody sends (a 429 got through)
        # Reminders are paced below the overall rate, so replies never wait behind a fan-out.
        self._pace = AsyncLimiter(self.config.rate_per_second, 1)
        self.progress = BroadcastProgress(bot, platform.broadcasts, clock)

    async def tick(self) -> TickReport:
        """Record, claim and send everything due by now; one tick at a time per process."""
        async with self._lock:
            report = await self._tick()
        if self.on_tick is not None:
            self.on_tick(report)
        return report

    async def _tick(self) -> TickReport:
        now = self.clock()
        if self.config.is_quiet(now.astimezone(self.zone).time()):
            return TickReport(quiet=True)
        grace = timedelta(hours=self.config.grace_hours)
        since = now - grace - LOOKBACK
        due, fans = await reminders.plan_between(self.config, self.zone, since, now)
        for fan in fans:  # a whole audience in one statement each (issue #8, T5)
            await fan_deliveries.record(fan, now, grace)
        ids = await deliveries.record(due, now, grace)
        ids += await fan_deliveries.sendable(fans, now, grace)
        report = TickReport()
        fanned = frozenset(fan.pair for fan in fans)
        report.skipped = await deliveries.settle_stale(due, now, since, grace, fanned)
        report.skipped += await fan_deliveries.settle(fans, now)
        report.skipped += await broadcasts.settle(now, grace)
        ids += await broadcasts.sendable()
        report.due = len(ids)
        token = uuid.uuid4().hex
        lease = timedelta(seconds=self.config.lease_seconds)
        for start in range(0, len(ids), BATCH):
            rows = await deliveries.claim(ids[start : start + BATCH], token, self.clock(), lease)
            await self._send_all(rows, token, report)
        await self.progress.refresh()
        if report.due:
            log.info("reminder tick: %s", report)
        return report

    async def _send_all(
        self, rows: Sequence[ReminderDelivery], token: str, report: TickReport
    ) -> None:
        by_chat: dict[int, list[ReminderDelivery]] = defaultdict(list)
        for row in rows:
            by_chat[row.recipient_id].append(row)
        users = {u.id: u for u in await User.filter(id__in=list(by_chat))}
        extra = await prepare(rows)  # what the rows' params only point at (a broadcast's text)
        chats = asyncio.Queue[int]()
        for chat in by_chat:
            chats.put_nowait(chat)

        async def worker() -> None:
            while not chats.empty():
                chat = chats.get_nowait()
                for n, row in enumerate(by_chat[chat]):
                    if n:
                        await asyncio.sleep(CHAT_GAP)
                    await self._send(row, users.get(chat), token, report, extra.get(row.id))
                    if row.rule == deliveries.BROADCAST:  # counts settle-ups for its edits
                        await self.progress.settled(int(row.params["broadcast"]))

        workers = min(self.config.rate_per_second, len(by_chat))
        await asyncio.gather(*(worker() for _ in range(workers)))

    async def _send(
        self,
        row: ReminderDelivery,
        user: User | None,
        token: str,
        report: TickReport,
        extra: dict[str, object] | None = None,
    ) -> None:
        await self._wait_out_pause()
        lease = timedelta(seconds=self.config.lease_seconds)
        if not await deliveries.hold(row.id, token, self.clock(), lease):
            report.lost += 1
            return
        if user is None or not user.reachable:
            state = DeliveryState.FAILED if user is None else DeliveryState.UNREACHABLE
            await deliveries.mark_final(
                row, token, state, "no such user" if user is None else "unreachable"
            )
            report.failed += 1
            return
        try:
            with use_locale(locale_of(user)):
                text, markup = render(row.rule, {**row.params, **(extra or {})})
        except (KeyError, ValueError) as problem:  # a rule or parameter this code no longer knows
            await deliveries.mark_final(
                row, token, DeliveryState.FAILED, f"cannot render: {problem!r}"
            )
            report.failed += 1
            return
        try:
            async with self._pace:
                await self.bot.send_message(user.id, text, reply_markup=markup)
        except Forbidden as error:
            user.reachable = False  # the chat's other reminders in this tick go unsent too
            await mark_unreachable(user.id)
            await deliveries.mark_final(row, token, DeliveryState.UNREACHABLE, str(error))
            report.failed += 1
        except RetryAfter as error:
            # The rate limiter already waited and retried; pause everyone, try this later.
            seconds = _seconds(error.retry_after)
            self._paused_until = asyncio.get_running_loop().time() + seconds
            at = self.clock() + timedelta(seconds=seconds)
            await deliveries.mark_retry(row, token, at, str(error), self.config.max_attempts)
            report.retried += 1
        except BadRequest as error:  # chat not found and the like: retrying cannot help
            await deliveries.mark_final(row, token, DeliveryState.FAILED, str(error))
            report.failed += 1
        except TelegramError as error:  # network trouble, 5xx: back off and try again
            at = self.clock() + min(BACKOFF_MAX, timedelta(minutes=2**row.attempts))
            await deliveries.mark_retry(row, token, at, str(error), self.config.max_attempts)
            report.retried += 1
        else:
            await deliveries.mark_sent(row.id, token, self.clock())
            report.sent += 1

    async def _wait_out_pause(self) -> None:
        wait = self._paused_until - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)


def _seconds(retry_after: int | timedelta) -> float:
    return (
        retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)
    )


async def run_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue callback: one tick. A failure (the database down) reaches the
    Application's error handler, which logs it; the next tick tries again."""
    engine: ReminderEngine = context.application.bot_data[ENGINE]
    await engine.tick()


def schedule(application: Application, platform: PlatformConfig, zone: ZoneInfo) -> ReminderEngine:
    """Create the engine and tick it every `tick_seconds`, starting soon after start-up."""
    engine = ReminderEngine(application.bot, platform, zone)
    application.bot_data[ENGINE] = engine
    queue = application.job_queue
    if queue is None:  # PTB installed without the job-queue extra
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    queue.run_repeating(
        run_tick, interval=platform.reminders.tick_seconds, first=10, name="reminders"
    )
    return engine
