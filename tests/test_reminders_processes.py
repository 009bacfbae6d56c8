"""Reminders across real processes on one PostgreSQL database (issue #4, "Done when").

Each process is `innobridge reminders --send-due` (python -m bot): one tick with a bot of its
own, configured only through the environment and a platform file, exactly as cron would run
it. The Bot API emulator runs in the test on a real port and shows what each person got.
The occurrence falls due "now" on the real clock, so the platform file is written per run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.emulator import BotAPIEmulator
from models.reminder_entities import DeliveryState, ReminderDelivery
from models.reminders import RULES
from tests.conftest import TOKEN
from tests.delivery_support import ZONE, every, institutions, open_chats, received, states

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database", ["postgres"], indirect=True),
]
S = DeliveryState
# Generous bounds on how long a process may take; reaching one is a failure, not a wait.
PROCESS_TIMEOUT = 90.0


def platform_file(folder: Path, **engine: int) -> Path:
    """A platform file whose only rule, the annual report, fell due two minutes ago.

    Quiet hours are off (start = end) so the test runs at any hour; overdue notices every 80
    days keep last year's cycle out of the window even in early January."""
    moment = datetime.now(ZONE) - timedelta(minutes=2)
    # Announced `lead` days before a due date that exists every year (never 02-29).
    lead = next(n for n in range(3) if f"{moment + timedelta(days=n):%m-%d}" != "02-29")
    lines = [
        "[reminders]",
        "quiet_start = 00:00:00",
        "quiet_end = 00:00:00",
        *(f"{key} = {value}" for key, value in engine.items()),
        "[reminders.annual_report]",
        f'due = "{moment + timedelta(days=lead):%m-%d}"',
        f"lead_days = [{lead}]",
        f"send_at = {moment:%H:%M:%S}",
        "overdue_every_days = 80",
    ]
    for rule in RULES:
        if rule != "annual_report":
            lines += [f"[reminders.{rule}]", "enabled = false"]
    path = folder / "platform.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class SendDue:
    """Starts `innobridge reminders --send-due` processes against one database and emulator."""

    def __init__(self, folder: Path, database: str, server: TestServer, config: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("INNOBRIDGE_")}
        self.env.update(
            INNOBRIDGE_BOT_TOKEN=TOKEN,
            INNOBRIDGE_TELEGRAM_API_URL=str(server.make_url("")),
            INNOBRIDGE_DATABASE_URL=database,
            INNOBRIDGE_CONFIG=str(config),
            PTB_TIMEDELTA="1",
        )
        self.started = 0

    async def start(self) -> asyncio.subprocess.Process:
        self.started += 1
        with (self.folder / f"send-due-{self.started}.log").open("wb") as log:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "reminders",
                "--send-due",
                cwd=self.folder,  # no developer's .env
                env=self.env,
                stdout=log,
                stderr=log,
            )

    async def finish(self, process: asyncio.subprocess.Process) -> int:
        """Wait for the process to exit; its exit status (its log is in the test's folder)."""
        status = await asyncio.wait_for(process.wait(), PROCESS_TIMEOUT)
        if status != 0:
            for log in sorted(self.folder.glob("send-due-*.log")):
                print(log.name, log.read_text(encoding="utf-8", errors="replace"), sep="\n")
        return status


def delivered(emulator: BotAPIEmulator) -> int:
    """How many messages the emulator accepted from the bot."""
    accepted = [r for r in emulator.requests() if r[1] == "sendMessage"]
    return len(accepted) - sum(1 for e in emulator.errors() if e[1] == "sendMessage")


async def test_two_processes_through_one_due_occurrence_send_each_message_once(
    database: str,
    emulator_server: tuple[BotAPIEmulator, TestServer],
    tmp_path: Path,
) -> None:
    emulator, server = emulator_server
    ids = [p.id for p in await institutions(40)]
    await open_chats(emulator, ids)
    processes = SendDue(tmp_path, database, server, platform_file(tmp_path))

    first, second = await processes.start(), await processes.start()
    assert await processes.finish(first) == 0
    assert await processes.finish(second) == 0

    assert {uid: len(received(emulator, uid)) for uid in ids} == dict.fromkeys(ids, 1)
    assert await states() == every(ids, S.SENT)


async def test_sigkill_mid_fan_out_then_restart_loses_nothing(
    database: str,
    emulator_server: tuple[BotAPIEmulator, TestServer],
    tmp_path: Path,
) -> None:
    emulator, server = emulator_server
    ids = [p.id for p in await institutions(45)]
    await open_chats(emulator, ids)
    # Five messages a second: the fan-out takes about nine seconds, time to kill it midway.
    config = platform_file(tmp_path, rate_per_second=5, lease_seconds=5)
    processes = SendDue(tmp_path, database, server, config)

    sender = await processes.start()

    async def some_sent() -> None:
        while delivered(emulator) < 8:
            assert sender.returncode is None, "the sender ended before it was killed"
            await asyncio.sleep(0.02)

    await asyncio.wait_for(some_sent(), PROCESS_TIMEOUT)
    sender.send_signal(signal.SIGKILL)
    await sender.wait()
    got = {uid for uid in ids if received(emulator, uid)}
    assert 8 <= len(got) < len(ids)
    recorded = await ReminderDelivery.filter(state=S.SENT).values_list("recipient_id", flat=True)
    # Telegram took it, the database never heard: at most the one send under way.
    in_flight = got - set(recorded)
    assert len(in_flight) <= 1

    # The dead sender's claims hold until their lease runs out; then a new process starts.
    leases = await ReminderDelivery.filter(state=S.CLAIMED).values_list("lease_until", flat=True)
    last = max(leases, default=None)
    if last is not None:
        await asyncio.sleep((last - datetime.now(UTC)).total_seconds() + 0.5)
    assert await processes.finish(await processes.start()) == 0

    counts = {uid: len(received(emulator, uid)) for uid in ids}
    assert min(counts.values()) == 1
    assert {uid for uid, n in counts.items() if n > 1} <= in_flight
    assert max(counts.values()) <= 2
    assert await states() == every(ids, S.SENT)
