"""The world the fuzzer plays in (issue #7 item 5): people in every state, records in every
status, and flows walked to any step through the chat.

Each example starts from an empty database (`reset`), so a failing example replays alike while
Hypothesis shrinks it. Records are made lazily, only those a scene names.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Update
from tortoise import Tortoise

from bot.emulator import EmulatedUser
from bot.emulator.state import CallbackRecord
from bot.emulator.user_actions import press
from models import complaints
from models.demand_entities import DemandStatus
from models.entities import Role, User
from tests.conftest import ADMIN_ID, Harness
from tests.demand_support import TODAY, make_assistant, make_member
from tests.factories import VALID_CODE
from tests.lifecycle_support import Cast, acknowledge, cast, in_status, offer, pending_review

S = DemandStatus
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n"
# Who plays: the lifecycle cast, a research team, an assistant, and a newcomer never seen.
IDS = {
    "owner": 101,
    "reviewer": 201,
    "inst": 301,
    "rival": 302,
    "stranger": 401,
    "research": 603,
    "assistant": 604,
    "admin": ADMIN_ID,
    "newcomer": 700,
}
PEOPLE = tuple(IDS)

# Each scene: who acts, and the steps that walk them into a flow through the chat. A step is
# ("send", text), ("press", callback data), ("doc",), ("contact",) or ("need", record);
# {names} are records
# made on demand (World.record). The fuzzer plays the first `depth` steps, then its input.
REGISTRATION = [("send", "/start")]
SCENES: dict[str, tuple[str, list[tuple[str, ...]]]] = {
    "stranger": ("newcomer", []),
    "register_enterprise": (
        "newcomer",
        [
            *REGISTRATION,
            ("press", "rg:role:v:enterprise"),
            ("send", "张伟"),
            ("contact",),
            ("send", "如皋市星火科技有限公司"),
            ("send", VALID_CODE),
            ("press", "rg:township:v:chengnan"),
            ("press", "rg:confirm:edit"),
            ("press", "rg:edit:f:real_name"),
            ("send", "张伟伟"),
            ("press", "rg:confirm:ok"),
        ],
    ),
    "register_institution": (
        "newcomer",
        [
            *REGISTRATION,
            ("press", "rg:role:v:institution"),
            ("send", "Emma Li"),
            ("contact",),
            ("send", "南通检测中心二部"),
            ("send", VALID_CODE),
            ("press", "rg:service_fields:t:testing"),
            ("press", "rg:service_fields:done"),
            ("press", "rg:confirm:ok"),
        ],
    ),
    "register_research": (
        "newcomer",
        [*REGISTRATION, ("press", "rg:role:v:research"), ("send", "钱教授"), ("contact",)],
    ),
    "new_demand": (
        "owner",
        [
            ("send", "/new"),
            ("send", "红外光谱检测"),
            ("press", "dm:category:v:testing"),
            ("send", "需要对三批高分子材料样品做红外光谱分析，出具检测报告。"),
            ("press", "dm:budget:v:under_50k"),
            ("press", "dm:wanted_by:d:{wanted}"),
            ("doc",),
            ("press", "dm:attachments:done"),
            ("press", "dm:township:v:chengnan"),
            ("press", "dm:confirm:edit"),
            ("press", "dm:pick:f:title"),
            ("send", "红外光谱检测（加急）"),
            ("press", "dm:confirm:ok"),
        ],
    ),
    "relay": (
        "assistant",
        [
            ("send", "/new"),
            ("press", "dm:enterprise:new"),
            ("send", "如皋市东方纺织有限公司"),
            ("send", VALID_CODE),
            ("send", "张经理"),
            ("send", "纺织品色牢度检测"),
            ("press", "dm:category:v:testing"),
        ],
    ),
    "resubmit": ("owner", [("send", "/my"), ("press", "dm:edit:{rejected.id}")]),
    "offer": (
        "inst",
        [
            ("send", "/demands"),
            ("press", "mk:h:{published.id}"),
            ("send", "我们有傅里叶红外光谱仪，三天出报告。"),
            ("send", "30000"),
            ("press", "mk:i:confirm:ok"),
        ],
    ),
    "decide_offer": (
        "owner",
        [("send", "/my"), ("press", "mk:o:{offered.id}"), ("press", "mk:a:{intent}")],
    ),
    "withdraw": (
        "owner",
        [("send", "/my"), ("press", "mk:w:{published.id}"), ("press", "mk:wy:{published.id}")],
    ),
    "contract": (
        "inst",
        [
            ("send", "/contract {matched.reference}"),
            ("doc",),
            ("send", "30000"),
            ("send", "{today}"),
            ("press", "en:f:voucher:v:1"),
            ("press", "en:f:confirm:ok"),
        ],
    ),
    "review": (
        "reviewer",
        [
            ("send", "/pending"),
            ("press", "pq:o:{review}"),
            ("press", "rv:t:{review}:no_secret"),
            ("press", "rv:r:{review}"),
            ("send", "描述不完整，请补充样品数量"),
        ],
    ),
    "acknowledge": ("reviewer", [("send", "/pending"), ("press", "rv:a:{contract_review}")]),
    "deliver": ("inst", [("send", "/my"), ("press", "en:dl:{acknowledged.id}")]),
    "dispute": (
        "owner",
        [("send", "/my"), ("press", "en:ds:{delivered.id}"), ("send", "报告缺少第三批样品")],
    ),
    "resolve": ("admin", [("send", "/help"), ("press", "en:ro:{disputed.id}")]),
    "feedback": (
        "owner",
        [
            ("send", "/my"),
            ("press", "fb:s:{completed.id}"),
            ("press", "fb:v:overall:5"),
            ("press", "fb:v:quality:4"),
            ("press", "fb:v:timeliness:4"),
            ("press", "fb:v:professionalism:5"),
            ("press", "fb:v:outcome:solved"),
            ("send", "报告出得很快，专业。"),
            ("press", "fb:n:confirm:ok"),
        ],
    ),
    "complaint": (
        "owner",
        [
            ("need", "{completed}"),  # an institution the owner dealt with
            ("send", "/complaint"),
            ("press", "cp:i:{inst_org}"),
            ("send", "检测报告比约定晚交了两周，数据也不全"),
            ("press", "cp:n:confirm:ok"),
        ],
    ),
    "complaint_decide": ("admin", [("send", "/complaints"), ("press", "cp:u:{complaint}")]),
    "report_annual": ("inst", [("send", "/report"), ("doc",)]),
    "report_filing": ("inst", [("send", "/report {contracted.reference}"), ("doc",)]),
    "language": ("research", [("send", "/language"), ("press", "lang:en")]),
    **{f"idle_{name}": (name, [("send", "/start")]) for name in PEOPLE if name != "newcomer"},
}


@dataclass
class World:
    """One example's people and records, made through the domain and the chat."""

    harness: Harness
    cast: Cast
    people: dict[str, EmulatedUser]
    records: dict[str, Any] = field(default_factory=dict)
    callbacks: list[CallbackRecord] = field(default_factory=list)

    async def record(self, name: str) -> Any:
        """A record in the state its name says, made the first time it is asked for."""
        if name not in self.records:
            self.records[name] = await self._make(name)
        return self.records[name]

    async def _make(self, name: str) -> Any:
        c = self.cast
        if name == "wanted":
            return (TODAY + timedelta(days=30)).isoformat()
        if name == "today":
            return TODAY.isoformat()
        if name == "inst_org":
            return c.inst.organization_id
        if name in {s.value for s in S}:
            return await in_status(c, S(name))
        if name == "review":
            return (await pending_review(await self.record("submitted"))).id
        if name == "contract_review":
            return (await pending_review(await self.record("contracted"), "contract")).id
        if name == "acknowledged":
            demand = await in_status(c, S.CONTRACTED)
            await acknowledge(demand, c.reviewer)
            return demand
        if name in ("offered", "intent"):
            demand = await in_status(c, S.PUBLISHED)
            self.records["offered"] = demand
            return (await offer(demand, c.rival)).id if name == "intent" else demand
        if name == "complaint":
            await self.record("completed")
            text = "检测报告比约定晚交了两周，数据也不全"
            return (await complaints.file(c.owner, c.inst.organization_id or 0, text))[0].id
        raise KeyError(name)

    async def fill(self, template: str) -> str:
        """The step's text with the records it names."""
        names = {f.split(".")[0] for _, f, _, _ in string.Formatter().parse(template) if f}
        values = {n: await self.record(n) for n in names}
        return template.format(**values)

    async def press(self, person: EmulatedUser, data: str) -> None:
        """Press `data` on the bot message that carries it, else on the newest bot message."""
        live = [m for m in reversed(person.chat.live()) if m.from_bot]
        carrying = [
            m
            for m in live
            if any(b.get("callback_data") == data for r in m.inline or [] for b in r)
        ]
        target = (carrying or live or [None])[0]
        if target is None:
            await inaccessible_press(self, person, data, message_id=1)
            return
        emulator = self.harness.emulator
        record = await press(emulator, person.bot, person.info, target, data, wait=True)
        self.callbacks.append(record)

    async def walk(self, scene: str, depth: int) -> EmulatedUser:
        """Play the first `depth` steps of the scene; returns who acts in it."""
        who, steps = SCENES[scene]
        person = self.people[who]
        for step in steps:  # the records the scene names exist, however deep it is played
            for template in step[1:]:
                await self.fill(template)
        for step in steps[:depth]:
            kind, *args = step
            if kind == "need":
                continue
            if kind == "send":
                await person.send(await self.fill(args[0]))
            elif kind == "press":
                await self.press(person, await self.fill(args[0]))
            elif kind == "doc":
                await person.send_document("合同.pdf", PDF, mime_type="application/pdf")
            else:
                await person.share_contact()
        return person


async def reset() -> None:
    """Empty every table (ids start again at 1), as the `database` fixture leaves them."""
    connection = Tortoise.get_connection("default")
    names = sorted(
        model._meta.db_table
        for model in Tortoise.apps.get_models_iterable()  # type: ignore[union-attr]
        if model._meta.db_table and not model._meta.abstract
    )
    if connection.capabilities.dialect == "postgres":
        tables = ", ".join(f'"{name}"' for name in names)
        await connection.execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return
    deletes = "".join(f'DELETE FROM "{name}";' for name in names)
    _, rows = await connection.execute_query(
        "SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"
    )
    sequence = "DELETE FROM sqlite_sequence;" if rows else ""
    await connection.execute_script(
        f"PRAGMA foreign_keys=OFF;{deletes}{sequence}PRAGMA foreign_keys=ON;"
    )


async def world(harness: Harness) -> World:
    """A fresh database with everyone active (but the newcomer) and every chat started."""
    await reset()
    c = await cast()
    await make_member(603, "钱教授", Role.RESEARCH, "南通大学课题组", service_fields=["testing"])
    await make_assistant(604, "孙助理")
    people = {}
    for name, user_id in IDS.items():
        user = await User.get_or_none(id=user_id)
        shown = user.real_name if user and user.real_name else "路人"
        people[name] = harness.person(user_id, shown or "路人", started=name != "newcomer")
    return World(harness, c, people)


async def deliver(world: World, body: dict[str, Any]) -> None:
    """Hand an update to the Application as the harness does (start_bot's `deliver`)."""
    application = world.harness.application
    body = {"update_id": world.harness.emulator.bot().updates.next_id(), **body}
    await application.process_update(Update.de_json(body, application.bot))


def register_press(world: World, person: EmulatedUser, message_id: int) -> str:
    """A callback query Telegram would accept an answer for."""
    record = CallbackRecord(str(secrets.randbits(62)), person.user_id, message_id)
    person.bot.callbacks[record.query_id] = record
    world.callbacks.append(record)
    return record.query_id


async def inaccessible_press(
    world: World, person: EmulatedUser, data: str, *, message_id: int
) -> None:
    """A press on a message the bot can no longer see: too old, deleted, or never there."""
    message = {"chat": person.info.chat(), "message_id": message_id, "date": 0}
    query = {
        "id": register_press(world, person, message_id),
        "from": person.info.api(),
        "chat_instance": person.chat.chat_instance,
        "message": message,
        "data": data,
    }
    await deliver(world, {"callback_query": query})
