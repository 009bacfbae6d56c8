"""`innobridge reminders`: preview what the engine would send, or send what is due once.

`--preview` never sends and never writes: it lists, per moment, which rule goes to how many
people and who they are (user id and role; no names or phones in an operator's terminal).
`--send-due` runs one tick and exits, for platforms that prefer cron to a resident process.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from telegram.ext import ExtBot

from bot.config import Settings
from bot.retrying import RetryingRateLimiter
from models.db import close_database, open_database
from models.entities import User
from models.platform import PlatformConfig
from models.reminder_entities import DeliveryState, ReminderDelivery
from models.reminders import due_between
from scheduler.engine import ReminderEngine, TickReport

RECIPIENTS_SHOWN = 5


async def preview_lines(
    platform: PlatformConfig, zone: ZoneInfo, now: datetime, days: int
) -> list[str]:
    """What would be sent from now for `days` days, one line per rule and moment."""
    config = platform.reminders
    items = await due_between(config, zone, now, now + timedelta(days=days))
    groups: dict[tuple[datetime, str, str], list[int]] = defaultdict(list)
    for item in items:
        groups[(item.due_at, item.rule, item.occurrence)].append(item.recipient_id)
    roles = dict(
        await User.filter(id__in=[i.recipient_id for i in items]).values_list("id", "role")
    )
    sent = {
        (r.rule, r.recipient_id, r.occurrence)
        for r in await ReminderDelivery.filter(
            state=DeliveryState.SENT, due_at__gte=now - timedelta(days=1)
        )
    }
    lines = []
    for (due_at, rule, occurrence), ids in sorted(groups.items()):
        local = due_at.astimezone(zone)
        note = " (quiet hours: sent when they end)" if config.is_quiet(local.time()) else ""
        waiting = [i for i in ids if (rule, i, occurrence) not in sent]
        shown = ", ".join(f"{i}:{roles.get(i) or '?'}" for i in waiting[:RECIPIENTS_SHOWN])
        more = f" +{len(waiting) - RECIPIENTS_SHOWN}" if len(waiting) > RECIPIENTS_SHOWN else ""
        head = f"{local:%Y-%m-%d %H:%M} {rule:<20} {occurrence:<22} {len(waiting):>5}"
        lines.append(f"{head} → {shown}{more}{note}")
    return lines or [f"nothing due in the next {days} day(s)"]


async def preview(settings: Settings, platform: PlatformConfig, days: int) -> list[str]:
    await open_database(settings.database_url, secret_key=settings.secret)
    try:
        return await preview_lines(platform, settings.tz, datetime.now(UTC), days)
    finally:
        await close_database()


async def send_due(settings: Settings, platform: PlatformConfig) -> TickReport:
    """One tick with a bot of its own (same rate limiter as `innobridge run`)."""
    assert settings.bot_token is not None
    bot = ExtBot(
        settings.bot_token.get_secret_value(),
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_file_base_url,
        rate_limiter=RetryingRateLimiter(),
    )
    await open_database(settings.database_url, secret_key=settings.secret)
    try:
        async with bot:
            return await ReminderEngine(bot, platform, settings.tz).tick()
    finally:
        await close_database()
