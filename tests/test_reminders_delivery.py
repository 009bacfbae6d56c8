"""Reminders are delivered once, on time, and paced (issue #4, "Done when"), in-process.

The engine runs with a clock the test sets (`ReminderEngine(..., clock=)`); the bot talks
to the Bot API emulator, which keeps Telegram's flood limits and refuses blocked chats. What
is checked is what each person received and the state of each delivery row. Two bot
processes on one database and a SIGKILL mid fan-out: tests/test_reminders_processes.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from telegram.ext import Application

from bot.emulator import BotAPIEmulator
from models import deliveries, reminders
from models.demand_entities import Engagement
from models.entities import Role, User
from models.platform import PlatformConfig
from models.reminder_entities import DeliveryState, ReminderDelivery
from scheduler.engine import ReminderEngine
from tests.conftest import TOKEN, Harness, make_staff, start_bot, stop_bot
from tests.delivery_support import (
    FILING,
    ZONE,
    Clock,
    every,
    institutions,
    local,
    open_chats,
    platform_with,
    received,
    sends_to,
    states,
    too_many_requests,
)
from tests.demand_support import contracted_demand, make_member

S = DeliveryState
DUE_7 = local(3, 24, 9)  # the annual report's "7 days before" notice
WEEK_BEFORE = f"{DUE_7.year}/-7d"


async def started(harness: Harness, users: list[User]) -> None:
    """Each person starts the bot, as on Telegram before it may write to them."""
    for user in users:
        await harness.person(user.id, user.real_name or "").send("/start")


def engine(
    application: Application,  # type: ignore[type-arg]
    platform: PlatformConfig,
    clock: Clock,
) -> ReminderEngine:
    """A reminder engine on the bot's own Bot (and rate limiter), on the test's clock."""
    return ReminderEngine(application.bot, platform, ZONE, clock=clock)


@asynccontextmanager
async def bot_with(
    database: str, platform: PlatformConfig, chats: list[int], **limits: Any
) -> AsyncIterator[tuple[BotAPIEmulator, Application]]:  # type: ignore[type-arg]
    """The bot against an emulator of its own (`limits` are the emulator's flood limits),
    for tests that provoke refusals (the harness fails any test that does)."""
    emulator = BotAPIEmulator(**limits)
    emulator.add_bot(TOKEN, username="innobridge_test_bot")
    await open_chats(emulator, chats)
    server = TestServer(emulator.make_app())
    await server.start_server()
    application = await start_bot(emulator, server, database, platform)
    try:
        yield emulator, application
    finally:
        await stop_bot(application)
        await server.close()


# --- when: quiet hours, catch-up, skip ----------------------------------------------------


async def test_quiet_hours_defer_until_they_end(harness: Harness) -> None:
    platform = platform_with(annual_report={"send_at": "22:00"})  # falls in 21:00-08:00
    people = await institutions(3)
    await started(harness, people)
    clock = Clock(local(3, 24, 22, 0, 30))
    sender = engine(harness.application, platform, clock)

    assert (await sender.tick()).quiet
    clock.set(local(3, 25, 7, 59))
    assert (await sender.tick()).quiet
    assert all(received(harness.emulator, p.id) == [] for p in people)

    clock.set(local(3, 25, 8, 0, 30))
    await sender.tick()
    for person in people:
        assert received(harness.emulator, person.id) == [
            "📝 2029 年度报告须在 2030-03-31 前提交。请点击下方按钮或发送 /report 上传报告。"
        ]
    assert await states() == every([p.id for p in people], S.SENT)


async def test_catch_up_after_downtime_within_the_grace_window(harness: Harness) -> None:
    people = await institutions(3)
    await started(harness, people)
    clock = Clock(DUE_7 - timedelta(minutes=1))
    sender = engine(harness.application, platform_with(), clock)
    assert (await sender.tick()).due == 0

    clock.set(DUE_7 + timedelta(hours=35))  # the bot was down; the grace window is 36 hours
    await sender.tick()
    await sender.tick()
    assert all(len(received(harness.emulator, p.id)) == 1 for p in people)
    assert await states(occurrence=WEEK_BEFORE) == every([p.id for p in people], S.SENT)


async def test_an_institution_approved_after_a_fan_out_gets_it_on_the_next_tick(
    harness: Harness,
) -> None:
    people = await institutions(3)
    await started(harness, people)
    clock = Clock(DUE_7 + timedelta(seconds=30))
    sender = engine(harness.application, platform_with(), clock)
    assert (await sender.tick()).sent == 3
    [late] = await institutions(1, first_id=5101)  # approved an hour later
    await started(harness, [late])
    clock.set(DUE_7 + timedelta(hours=1))
    assert (await sender.tick()).sent == 1  # the newcomer only: nobody gets it twice
    for person in [*people, late]:
        assert len(received(harness.emulator, person.id)) == 1
    assert await states(occurrence=WEEK_BEFORE) == every([p.id for p in [*people, late]], S.SENT)


async def test_older_than_the_grace_window_is_skipped_logged_never_sent(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    people = await institutions(3)
    await started(harness, people)
    clock = Clock(DUE_7 + timedelta(hours=47, minutes=30))  # down since before it was due
    sender = engine(harness.application, platform_with(), clock)

    with caplog.at_level(logging.WARNING, logger="models.deliveries"):
        await sender.tick()
    assert all(received(harness.emulator, p.id) == [] for p in people)
    assert await states(occurrence=WEEK_BEFORE) == every([p.id for p in people], S.SKIPPED)
    skips = [r.getMessage() for r in caplog.records if "grace window" in r.getMessage()]
    assert len(skips) == len(people)
    assert all(any(f"to {p.id} skipped" in line for line in skips) for p in people)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="models.deliveries"):
        await sender.tick()  # still in the engine's window: recorded and logged once only
    assert not [r for r in caplog.records if "grace window" in r.getMessage()]

    clock.set(local(3, 30, 9, 0, 30))  # the next notice (1 day before) goes out as usual
    await sender.tick()
    for person in people:
        assert received(harness.emulator, person.id) == [
            "📝 2029 年度报告须在 2030-03-31 前提交。请点击下方按钮或发送 /report 上传报告。"
        ]
    assert await states(occurrence=WEEK_BEFORE) == every([p.id for p in people], S.SKIPPED)


async def test_a_recorded_but_unsent_reminder_past_the_grace_window_is_skipped_and_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # A sender recorded and claimed it, then the whole platform was down for two days.
    platform = platform_with()
    people = await institutions(2)
    await started(harness, people)
    at = DUE_7 + timedelta(seconds=30)
    grace = timedelta(hours=platform.reminders.grace_hours)
    ids = await deliveries.record(
        await reminders.due_between(platform.reminders, ZONE, at - grace, at), at, grace
    )
    await deliveries.claim(ids, "dead-sender", at, timedelta(minutes=5))

    clock = Clock(at + timedelta(hours=47))
    with caplog.at_level(logging.WARNING, logger="models.deliveries"):
        await engine(harness.application, platform, clock).tick()
    assert all(received(harness.emulator, p.id) == [] for p in people)
    assert await states(occurrence=WEEK_BEFORE) == every([p.id for p in people], S.SKIPPED)
    skips = [r.getMessage() for r in caplog.records if "grace window" in r.getMessage()]
    assert all(any(f"to {p.id} skipped" in line for line in skips) for p in people)


# --- once: leases and two senders ----------------------------------------------------------


async def test_an_expired_lease_is_taken_over_a_valid_one_is_not(harness: Harness) -> None:
    platform = platform_with()
    lease = timedelta(seconds=platform.reminders.lease_seconds)
    grace = timedelta(hours=platform.reminders.grace_hours)
    people = await institutions(4)
    await started(harness, people)
    # Another sender recorded the notice and claimed two of the rows, then went silent.
    at = DUE_7 + timedelta(seconds=30)
    due = await reminders.due_between(platform.reminders, ZONE, at - grace, at)
    ids = await deliveries.record(due, at, grace)
    held = await deliveries.claim(ids[:2], "dead-sender", at, lease)
    dead = {row.recipient_id for row in held}
    assert len(dead) == 2
    alive = {p.id for p in people} - dead

    clock = Clock(at + timedelta(seconds=60))
    sender = engine(harness.application, platform, clock)
    await sender.tick()
    assert all(received(harness.emulator, uid) == [] for uid in dead)
    assert all(len(received(harness.emulator, uid)) == 1 for uid in alive)

    clock.set(at + lease + timedelta(seconds=1))
    await sender.tick()
    await sender.tick()
    assert all(len(received(harness.emulator, p.id)) == 1 for p in people)
    rows = await ReminderDelivery.filter(rule="annual_report")
    assert {r.state for r in rows} == {S.SENT}
    assert all(r.claimed_by != "dead-sender" for r in rows)
    # Were the dead sender to wake up, its rows are no longer its own to send.
    assert not any([await deliveries.hold(r.id, "dead-sender", clock(), lease) for r in held])


async def test_two_engines_ticking_at_once_send_each_notice_once(harness: Harness) -> None:
    platform = platform_with()
    people = await institutions(12)
    await started(harness, people)
    clock = Clock(DUE_7)
    first = engine(harness.application, platform, clock)
    second = engine(harness.application, platform, clock)

    notices = [local(3, 1, 9), local(3, 24, 9), local(3, 30, 9)]  # 30, 7 and 1 day before
    for n, moment in enumerate(notices, start=1):
        clock.set(moment + timedelta(seconds=5))
        one, other = await asyncio.gather(first.tick(), second.tick())
        assert one.sent + other.sent == len(people)
        assert all(len(received(harness.emulator, p.id)) == n for p in people)
    assert await ReminderDelivery.filter(rule="annual_report", state=S.SENT).count() == 36


# --- pacing: Telegram's flood limits, 429 and 403 ------------------------------------------


async def test_a_fan_out_at_the_configured_rate_gets_no_429(database: str) -> None:
    platform = platform_with(filing_report={})  # rate_per_second 25, the default
    people = await institutions(50)
    # The first institution also owes a filing report due on the same day: two messages
    # to one chat in the same tick.
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    reviewer = await make_staff(201, Role.REVIEWER, "李审核")
    demand = await contracted_demand(owner, reviewer, people[0])
    await Engagement.filter(demand_id=demand.id).update(filing_due=date(DUE_7.year, 3, 31))
    ids = [p.id for p in people]
    # Telegram: about 30 messages a second in all, one a second in one chat (no burst here,
    # so a second message to a chat within the second is refused).
    async with bot_with(database, platform, ids, global_rate=30, chat_rate=1, chat_burst=1) as (
        emulator,
        application,
    ):
        report = await engine(application, platform, Clock(DUE_7 + timedelta(seconds=5))).tick()

        assert report.sent == 51
        assert emulator.errors() == []
        assert all(len(received(emulator, uid)) == 1 for uid in ids)
        assert len(received(emulator, people[0].id, FILING)) == 1
        assert sends_to(emulator, people[0].id) == 2
    assert await states() == every(ids, S.SENT)
    assert await states("filing_report") == {people[0].id: S.SENT.value}


async def test_429_pauses_and_every_recipient_still_gets_one_message(database: str) -> None:
    platform = platform_with()  # 25 messages a second
    people = await institutions(12)
    ids = [p.id for p in people]
    # This Telegram takes 2 a second: the bot hears 429s, the rate limiter waits each one's
    # retry_after and tries again, three times; what still fails waits for a later tick.
    async with bot_with(database, platform, ids, global_rate=2, chat_burst=5) as (
        emulator,
        application,
    ):
        clock = Clock(DUE_7 + timedelta(seconds=5))
        sender = engine(application, platform, clock)
        first = await sender.tick()
        assert first.sent > 0
        assert first.retried > 0
        for _ in range(5):
            clock.advance(minutes=2)
            await sender.tick()
            if not await ReminderDelivery.exclude(state=S.SENT).exists():
                break

        assert too_many_requests(emulator) > 0
        assert all(len(received(emulator, uid)) == 1 for uid in ids)
    assert await states() == every(ids, S.SENT)


async def test_403_marks_the_person_unreachable_and_stops_trying(database: str) -> None:
    # Announced 8 and 7 days before: after downtime both fall due in the same tick.
    platform = platform_with(annual_report={"lead_days": [8, 7, 1]})
    people = await institutions(5)
    ids = [p.id for p in people]
    gone = people[2].id
    async with bot_with(database, platform, ids, chat_burst=5) as (emulator, application):
        emulator.block(gone)
        clock = Clock(DUE_7 + timedelta(seconds=5))
        sender = engine(application, platform, clock)
        await sender.tick()
        clock.advance(hours=2)  # when a retry would be due
        await sender.tick()
        clock.set(local(3, 30, 9, 0, 5))  # the next notice
        await sender.tick()

        assert received(emulator, gone) == []
        assert sends_to(emulator, gone) == 1  # refused once, never tried again
        assert all(len(received(emulator, uid)) == 3 for uid in ids if uid != gone)
    assert not (await User.get(id=gone)).reachable
    for occurrence in (f"{DUE_7.year}/-8d", f"{DUE_7.year}/-7d"):
        assert await states(occurrence=occurrence) == {
            **every(ids, S.SENT),
            gone: S.UNREACHABLE.value,
        }
    assert await states(occurrence=f"{DUE_7.year}/-1d") == every(
        [uid for uid in ids if uid != gone], S.SENT
    )
