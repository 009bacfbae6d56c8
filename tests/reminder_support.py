"""A controllable clock and an engine for reminder tests (the bot is the harness's)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.emulator.client import EmulatedUser
from models.entities import Role, User
from models.platform import PlatformConfig
from scheduler.engine import ReminderEngine
from tests.conftest import Harness, make_staff
from tests.demand_support import PLATFORM, make_member

ZONE = ZoneInfo("Asia/Shanghai")


class Clock:
    """The engine's `now`, set by the test (UTC inside, local days and times outside)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hour: int = 9, minute: int = 0) -> Clock:
        """Move to a local day and time of day in the platform's zone."""
        self.now = datetime.combine(day, time(hour, minute), ZONE).astimezone(UTC)
        return self


def engine(harness: Harness, clock: Clock, platform: PlatformConfig = PLATFORM) -> ReminderEngine:
    return ReminderEngine(harness.application.bot, platform, ZONE, clock=clock)


async def started(harness: Harness, user: User, lang: str = "zh-CN") -> EmulatedUser:
    """The chat of a user made in the database, after /start (only then can the bot write)."""
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


async def institution(
    harness: Harness, user_id: int, org: str, lang: str = "zh-CN"
) -> tuple[User, EmulatedUser]:
    user = await make_member(user_id, f"机构{user_id}", Role.INSTITUTION, org, language_code=lang)
    return user, await started(harness, user, lang)


async def staff(harness: Harness, user_id: int, role: Role) -> tuple[User, EmulatedUser]:
    user = await make_staff(user_id, role, f"{role.value}{user_id}")
    return user, await started(harness, user)


def texts(person: EmulatedUser, needle: str) -> list[str]:
    """The bot messages this person got that contain `needle`."""
    return [m.text for m in person.messages if needle in m.text]
