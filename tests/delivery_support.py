"""Set-up shared by the reminder delivery tests (issue #4): a platform whose only rules are
the ones a test drives, institutions that started the bot, a clock the test moves, and what
each person received.

The annual report is the rule driven (Shanghai art. 20): by default due 03-31, announced
30, 7 and 1 days before at 09:00 Asia/Shanghai, to every institution that has not reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.emulator import BotAPIEmulator
from bot.emulator.user_actions import send_text
from models.entities import Role, User
from models.platform import PlatformConfig
from models.reminder_config import ReminderConfig
from models.reminder_entities import DeliveryState, ReminderDelivery
from models.reminders import RULES
from tests.demand_support import PLATFORM, make_member

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2030
ANNUAL = "年度报告"  # in every annual-report reminder (zh_CN)
FILING = "备案报告"  # in every filing-report reminder (zh_CN)


def platform_with(**reminders: Any) -> PlatformConfig:
    """The default platform with `[reminders]` as given. Rules are off unless named here,
    except the annual report; a rule's dict is its TOML section."""
    data: dict[str, Any] = {name: {"enabled": False} for name in RULES if name != "annual_report"}
    for key, value in reminders.items():
        data[key] = {"enabled": True, **value} if key in RULES else value
    return PLATFORM.model_copy(update={"reminders": ReminderConfig.model_validate(data)})


def local(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of YEAR on the platform's clock (Asia/Shanghai)."""
    return datetime(YEAR, month, day, hour, minute, second, tzinfo=ZONE)


class Clock:
    """The engine's clock; the test sets and moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def institutions(count: int, first_id: int = 5001) -> list[User]:
    """Active users of `count` active institutions, each of its own."""
    return [
        await make_member(uid, f"机构{uid}", Role.INSTITUTION, f"检测中心{uid}")
        for uid in range(first_id, first_id + count)
    ]


async def open_chats(emulator: BotAPIEmulator, ids: Iterable[int]) -> None:
    """Each person pressed Start some time ago (Telegram lets a bot write only to them).

    Called before the bot is attached: the /start updates wait in the emulator's queue and
    nobody answers them, so the chats hold nothing but what the test then sends."""
    assert emulator.deliver is None
    bot = emulator.bot()
    for uid in ids:
        info = emulator.user(uid, first_name=f"机构{uid}", language_code="zh-CN").info
        await send_text(emulator, bot, info, "/start", wait=False)


def received(emulator: BotAPIEmulator, user_id: int, phrase: str = ANNUAL) -> list[str]:
    """The texts of the bot's messages in this chat that contain `phrase`."""
    return [m.text for m in emulator.messages(user_id) if m.from_bot and phrase in m.text]


def sends_to(emulator: BotAPIEmulator, user_id: int) -> int:
    """How many sendMessage calls the bot made to this chat (accepted or refused)."""
    return sum(
        1
        for _, method, params in emulator.requests()
        if method == "sendMessage" and str(params.get("chat_id")) == str(user_id)
    )


def too_many_requests(emulator: BotAPIEmulator) -> int:
    """How many calls the emulator refused with 429."""
    return sum(1 for _, _, description in emulator.errors() if "Too Many Requests" in description)


async def states(rule: str = "annual_report", occurrence: str | None = None) -> dict[int, str]:
    """Delivery state by recipient for one rule (and occurrence)."""
    query = ReminderDelivery.filter(rule=rule)
    if occurrence is not None:
        query = query.filter(occurrence=occurrence)
    return {row.recipient_id: row.state.value for row in await query}


def every(ids: Iterable[int], state: DeliveryState) -> dict[int, str]:
    """The expected value of `states()` when all these recipients are in one state."""
    return dict.fromkeys(ids, state.value)
