"""Simulated people: scripted chats played against the bot, with the latency of each reply.

A script is a list of steps: what the person does (a text, a button press, their contact)
and what they wait to see before doing the next thing (a phrase in the bot's newest
message, one of its buttons, or a reply-keyboard label). The latency of a step runs from the
moment the update is queued in the emulator until the awaited reply is stored there.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench.emulated import EmulatorServer
from bench.stats import percentile
from bot.emulator import user_actions
from bot.emulator.messages import StoredMessage
from bot.emulator.state import UserInfo
from models.credit_code import check_character

STEP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Step:
    """One action and the reply it waits for."""

    kind: str  # "text", "press" or "contact"
    value: str
    expect: str


@dataclass
class Script:
    """What one simulated person does, in order."""

    user_id: int
    name: str
    steps: list[Step]
    language_code: str = "zh-CN"


@dataclass
class LoadResult:
    """The outcome of playing many scripts at once."""

    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Updates answered per second."""
        return self.updates / self.seconds if self.seconds else 0.0


class Person:
    """A simulated human in a private chat with the (only) bot of the emulator."""

    def __init__(self, server: EmulatorServer, script: Script) -> None:
        self.server = server
        emulator = server.emulator
        self.bot = emulator.bot()
        self.info: UserInfo = emulator.user(
            script.user_id,
            first_name=script.name,
            language_code=script.language_code,
            phone_number=f"+86138{script.user_id % 10**8:08d}",
        ).info
        self.script = script

    def _newest(self) -> StoredMessage | None:
        chat = self.bot.chats.get(self.info.id)
        if chat is None:
            return None
        for message in reversed(chat.messages.values()):
            if message.from_bot and not message.deleted:
                return message
        return None

    def _labels(self, message: StoredMessage) -> list[str]:
        inline = [str(b.get("text", "")) for row in message.inline or [] for b in row]
        keyboard = self.bot.chat(self.info).keyboard
        reply = [
            str(b.get("text", "")) for row in (keyboard or {}).get("keyboard", []) for b in row
        ]
        return inline + reply

    def _shows(self, phrase: str, after: int) -> bool:
        message = self._newest()
        if message is None or message.version <= after:
            return False
        return phrase in (message.text or "") or any(phrase in b for b in self._labels(message))

    async def _act(self, step: Step) -> None:
        emulator, bot, info = self.server.emulator, self.bot, self.info
        if step.kind == "text":
            await user_actions.send_text(emulator, bot, info, step.value, wait=False)
        elif step.kind == "contact":
            contact: dict[str, Any] = {
                "phone_number": info.phone_number,
                "first_name": info.first_name,
                "user_id": info.id,
            }
            await user_actions.share_contact(emulator, bot, info, contact, wait=False)
        elif step.kind == "press":
            message, data = self._button(step.value)
            await user_actions.press(emulator, bot, info, message, data, wait=False)
        else:
            raise ValueError(f"unknown step kind {step.kind!r}")

    def _button(self, label: str) -> tuple[StoredMessage, str]:
        chat = self.bot.chat(self.info)
        for message in reversed(chat.messages.values()):
            if not message.from_bot or message.deleted:
                continue
            for row in message.inline or []:
                for button in row:
                    if button.get("text") == label and isinstance(
                        button.get("callback_data"), str
                    ):
                        return message, button["callback_data"]
        raise LookupError(f"user {self.info.id}: no button {label!r}")

    async def play(self, result: LoadResult) -> None:
        """Play the script; a step whose reply never comes ends it as a failure."""
        for number, step in enumerate(self.script.steps):
            newest = self._newest()
            after = max(newest.version if newest else 0, self._last_version())
            started = time.perf_counter()
            try:
                await self._act(step)
            except LookupError as problem:
                result.failures.append(str(problem))
                return
            seen = await self.server.observer.wait_until(
                self.info.id, functools.partial(self._shows, step.expect, after), STEP_TIMEOUT
            )
            if not seen:
                newest = self._newest()
                shown = newest.text if newest else None
                result.failures.append(
                    f"user {self.info.id} step {number} {step}: no {step.expect!r}; "
                    f"newest bot message: {shown!r}"
                )
                return
            result.latencies.append(time.perf_counter() - started)
            result.updates += 1

    def _last_version(self) -> int:
        chat = self.bot.chats.get(self.info.id)
        if chat is None or not chat.messages:
            return 0
        return max(m.version for m in chat.messages.values())


async def play_all(server: EmulatorServer, scripts: list[Script], concurrency: int) -> LoadResult:
    """Play every script, at most `concurrency` people at a time; time the whole."""
    result = LoadResult()
    gate = asyncio.Semaphore(concurrency)
    people = [Person(server, script) for script in scripts]

    async def one(person: Person) -> None:
        async with gate:
            await person.play(result)

    started = time.perf_counter()
    await asyncio.gather(*(one(person) for person in people))
    result.seconds = time.perf_counter() - started
    return result


# --- the scripts ------------------------------------------------------------------------


def credit_code(number: int) -> str:
    """A valid, unique unified social credit code (GB 32100) for a number."""
    first17 = f"9132068{number % 10**10:010d}"
    return first17 + check_character(first17)


def echo_script(user_id: int, steps: int) -> Script:
    """Texts that an echo bot repeats; each waits for its own echo."""
    texts = [f"echo {user_id}-{n}" for n in range(steps)]
    return Script(user_id, "回声", [Step("text", text, text) for text in texts])


def registration_script(user_id: int) -> Script:
    """An enterprise registers in Chinese, as tests/test_registration_flow.py walks it."""
    return Script(
        user_id,
        "张伟",
        [
            Step("text", "/start", "企业用户"),
            Step("press", "企业用户", "真实姓名"),
            Step("text", "张伟", "分享我的手机号"),
            Step("contact", "", "第 4 步"),
            Step("text", f"如皋市星火科技有限公司{user_id}", "统一社会信用代码"),
            Step("text", credit_code(user_id), "城南街道"),
            Step("press", "城南街道", "请核对"),
            Step("press", "✅ 确认提交", "注册申请已提交"),
        ],
    )


def half_registration_script(user_id: int) -> Script:
    """Registration left after the name step: the phone is the next question."""
    return Script(user_id, "张伟", registration_script(user_id).steps[:3])


def demand_script(user_id: int, today: date) -> Script:
    """An active enterprise member submits a demand by /new, as tests/test_demand_submit.py."""
    wanted = (today + timedelta(days=40)).isoformat()
    return Script(
        user_id,
        "李经理",
        [
            Step("text", "/new", "第 1 步"),
            Step("text", f"红外光谱检测 {user_id}", "检验检测"),
            Step("press", "检验检测", "第 3 步"),
            Step("text", "需要对三批高分子材料样品做红外光谱分析。", "5 万元以下"),
            Step("press", "5 万元以下", "第 5 步"),
            Step("text", wanted, "第 6 步"),
            Step("press", "跳过，不上传附件", "第 7 步"),
            Step("press", "城南街道", "请核对"),
            Step("press", "✅ 确认提交", "需求已提交"),
        ],
    )


def summary(result: LoadResult) -> dict[str, Any]:
    """The figures of one load run."""
    return {
        "updates": result.updates,
        "seconds": round(result.seconds, 3),
        "updates_per_s": round(result.rate, 1),
        "p50_ms": round(percentile(result.latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(result.latencies, 99) * 1000, 1),
        "failures": len(result.failures),
        "first_failure": result.failures[0] if result.failures else None,
    }
