"""Every button, pressed by people it was not meant for (issue #7 item 4).

A whole demand lifecycle is played through the chat, and every callback_data the bot ever
sent is collected from the emulator's request log. Then people of every role who had no
part in it press each of them, and forged variants (other ids, garbage, overlong numbers),
from a message in their own chat. Every press must be answered (Telegram shows a spinner
until it is), no record may change, and the bot may make no call the Bot API refuses.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from models import complaints
from models.demand_entities import Complaint, Demand, DemandStatus, Engagement, Feedback, Intent
from models.entities import AuditLog, Organization, Review, Role, User
from models.reminder_entities import MeetingRsvp, Report
from tests.conftest import Harness, make_staff
from tests.demand_support import make_member
from tests.journey_support import ZH
from tests.lifecycle_support import cast, in_status, offer
from tests.test_lifecycle_journey import _journey, emulator_server  # noqa: F401

S = DemandStatus


def _harvest(requests: list[tuple[str, str, dict[str, Any]]]) -> set[str]:
    """Every callback_data in a keyboard the bot sent or edited in."""
    found: set[str] = set()
    for _, method, params in requests:
        markup = params.get("reply_markup")
        if not markup or method == "answerCallbackQuery":
            continue
        rows = (json.loads(markup) if isinstance(markup, str) else markup).get(
            "inline_keyboard", []
        )
        found |= {b["callback_data"] for row in rows for b in row if "callback_data" in b}
    return found


def _forged(data: set[str]) -> set[str]:
    """Variants of real data: another record's id, garbage, overflow; and no data at all."""
    forged = {"", "xx", "mk", "rv:a", "en:dl:abc", "fb:s:-1", "rm:r:2026:1", "x" * 64}
    for item in data:
        head, _, last = item.rpartition(":")
        if last.isdigit():
            forged |= {f"{head}:{int(last) + 1000}", f"{head}:{'9' * 30}", f"{head}:0"}
    return forged


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Handler failures logged (an unhandled exception reaches PTB's error handler)."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def _snapshot() -> dict[str, Any]:
    """What a press must never change: the records and their states (not chats or menus)."""
    return {
        "demands": await Demand.all().order_by("id").values_list("id", "status", "owner_id"),
        "intents": await Intent.all().order_by("id").values_list("id", "status"),
        "engagements": await Engagement.all()
        .order_by("id")
        .values_list("id", "contract_sha256", "delivered_at", "completed_at"),
        "feedback": await Feedback.all().count(),
        "complaints": await Complaint.all().values_list("id", "status"),
        "reviews": await Review.all().order_by("id").values_list("id", "status", "decided_by_id"),
        "users": await User.all().order_by("id").values_list("id", "role", "status"),
        "organizations": await Organization.all().values_list("id", "status", "tier"),
        "reports": await Report.all().count(),
        "rsvps": await MeetingRsvp.all().count(),
        # Only refusals may be audited; a press that changed something writes its record.
        "audit": await AuditLog.exclude(action__startswith="refused").count(),
    }


async def test_every_button_pressed_by_people_it_was_not_for_changes_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await _journey(
        harness, ZH, ("王审核", "张伟", "如皋市星火科技有限公司", "李检测", "南通检测中心")
    )
    data = _harvest(harness.emulator.requests())
    assert {d.split(":")[0] for d in data} >= {"rv", "mk", "en", "fb", "dm"}
    outsiders = [
        await make_member(601, "陈总", Role.ENTERPRISE, "海安纺织有限公司"),
        await make_member(602, "周工", Role.INSTITUTION, "苏州技术转移中心"),
        await make_member(603, "钱教授", Role.RESEARCH, "南通大学课题组"),
        await make_staff(604, Role.ASSISTANT, "孙助理"),
        await make_staff(605, Role.REVIEWER, "吴审核"),
        await make_staff(606, Role.ADMIN, "郑管理"),
    ]
    people = [harness.person(u.id, u.real_name or "") for u in outsiders]
    people.append(harness.person(607, "路人"))  # never registered
    anchors = {}
    for person in people:
        await person.send("/start")
        await person.send("/language")  # a message of their own with a keyboard to press from
        anchors[person.user_id] = person.last.message_id
    before = await _snapshot()
    presses = sorted(data | _forged(data))
    for person in people:
        anchor = anchors[person.user_id]
        for item in presses:
            if item.startswith("lang:"):
                continue  # one's own language is one's own business
            answer = await person.press_data(item, message_id=anchor)
            assert answer is not None, (person.user_id, item)
    assert await _snapshot() == before
    assert _failures(caplog) == []


# Buttons that name a record, by the kind of id they carry (handlers/*.py build them so).
SHAPES = {
    "demand": [
        "mk:h:{}",
        "mk:o:{}",
        "mk:w:{}",
        "mk:wy:{}",
        "mk:wn:{}",
        "mk:v:{}",
        "dt:{}",
        "en:c:{}",
        "en:dl:{}",
        "en:ok:{}",
        "en:ds:{}",
        "en:rc:{}",
        "en:ro:{}",
        "fb:s:{}",
        "rm:rep:f:{}",
    ],
    "intent": ["mk:a:{}", "mk:d:{}"],
    "review": [
        "rv:a:{}",
        "rv:r:{}",
        "rv:keep:{}",
        "rv:f:{}",
        "rv:t:{}:no_secret",
        "rv:why:{}:incomplete",
        "pq:o:{}",
    ],
    "complaint": ["cp:u:{}", "cp:x:{}"],
}


async def test_outsiders_pressing_buttons_of_open_records_change_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Every demand state with its buttons live, pressed by people with no part in it."""
    c = await cast()
    for status in (S.SUBMITTED, S.PUBLISHED, S.MATCHED, S.CONTRACTED, S.DISPUTED, S.COMPLETED):
        await in_status(c, status)
    delivered = await in_status(c, S.DELIVERED)
    await offer(await in_status(c, S.PUBLISHED), c.inst)  # a pending offer to accept
    complaint, _ = await complaints.file(
        c.owner, c.inst.organization_id or 0, "检测报告比约定晚交了两周，数据也不全"
    )
    ids = {
        "demand": await Demand.all().values_list("id", flat=True),
        "intent": await Intent.all().values_list("id", flat=True),
        "review": await Review.all().values_list("id", flat=True),
        "complaint": [complaint.id],
    }
    assert (await Demand.get(id=delivered.id)).status is S.DELIVERED
    outsiders = [
        c.stranger,  # an enterprise with no part in these demands
        c.rival,  # another serving institution
        await make_member(603, "钱教授", Role.RESEARCH, "南通大学课题组"),
        await make_staff(604, Role.ASSISTANT, "孙助理"),  # relayed none of them
    ]
    people = [harness.person(u.id, u.real_name or "") for u in outsiders]
    people.append(harness.person(607, "路人"))  # never registered
    anchors = {}
    for person in people:
        await person.send("/start")
        await person.send("/language")
        anchors[person.user_id] = person.last.message_id
    before = await _snapshot()
    for person in people:
        for kind, shapes in SHAPES.items():
            for shape in shapes:
                for record in ids[kind]:
                    data = shape.format(record)
                    answer = await person.press_data(data, message_id=anchors[person.user_id])
                    assert answer is not None, (person.user_id, data)
    assert await _snapshot() == before
    assert _failures(caplog) == []
