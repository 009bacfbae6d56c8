"""Submitting a demand from the chat: /new step by step, relay by an assistant, take-over,
rejection with Edit and resubmit, /township (issue #3 items 1-3)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestServer

from bot.emulator import BotAPIEmulator, EmulatedUser
from handlers.context import NOTIFIER
from models import conversations, review
from models.conversations import ConversationState
from models.demand_entities import Demand, DemandStatus
from models.entities import (
    AuditLog,
    Organization,
    OrgKind,
    Review,
    ReviewStatus,
    Role,
    User,
    UserStatus,
)
from models.events import DemandPublished
from tests.conftest import Harness, make_staff, start_bot, stop_bot
from tests.demand_support import (
    PLATFORM,
    approve_demand,
    make_assistant,
    make_member,
    submitted_demand,
)
from tests.factories import credit_code

DESCRIPTION = "需要对三批高分子材料样品做红外光谱分析。\n每批约 20 个样品，需出具检测报告。"
EN_DESCRIPTION = (
    "We need infrared spectroscopy of three batches of polymer samples.\nReport needed."
)


def _today() -> date:
    # The bot judges "after today" in the platform's zone (Asia/Shanghai).
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _later(days: int = 40) -> str:
    return (_today() + timedelta(days=days)).isoformat()


async def _enterprise(
    harness: Harness, user_id: int = 401, name: str = "张伟", language: str = "zh-CN"
) -> EmulatedUser:
    await make_member(
        user_id, name, Role.ENTERPRISE, "如皋市星火科技有限公司", language_code=language
    )
    return harness.person(user_id, name, language_code=language)


async def _reviewer(harness: Harness, user_id: int = 301, name: str = "王审核") -> EmulatedUser:
    await make_staff(user_id, Role.REVIEWER, name)
    person = harness.person(user_id, name)
    await person.send("/start")
    return person


async def _fill_zh(zhang: EmulatedUser, *, title: str = "红外光谱检测") -> None:
    """/new up to the attachments step, in Chinese."""
    await zhang.send("/new")
    assert "第 1 步，共 7 步" in zhang.last.text
    assert "✖️ 取消" in _labels(zhang) and "⬅️ 返回" not in _labels(zhang)  # the first step
    await zhang.send(title)
    assert "第 2 步" in zhang.last.text
    assert {"⬅️ 返回", "✖️ 取消"} <= set(_labels(zhang))
    await zhang.press("检验检测")
    await zhang.send(DESCRIPTION)
    await zhang.press("5 万元以下")
    assert "第 5 步" in zhang.last.text
    await zhang.send(_later())
    assert "第 6 步" in zhang.last.text


def _labels(person: EmulatedUser) -> list[str]:
    return person.last.button_labels()


async def _publish(harness: Harness, events: list) -> None:  # type: ignore[type-arg]
    await harness.application.bot_data[NOTIFIER].publish(events)


async def test_whole_submission_in_chinese(harness: Harness) -> None:
    wang = await _reviewer(harness)
    zhang = await _enterprise(harness)
    await zhang.send("/new")
    await zhang.send("红外光谱检测")
    await zhang.press("检验检测")
    assert "服务类别：检验检测" in zhang.messages[-2].text  # the answered question, no buttons
    assert zhang.messages[-2].buttons == []
    await zhang.send(DESCRIPTION)
    await zhang.press("5 万元以下")
    # The date picker opens on the month of tomorrow; page to the next one, pick the 15th.
    assert "日" in _labels(zhang)
    await zhang.press("▶")
    await zhang.press("15")
    tomorrow = _today() + timedelta(days=1)
    wanted = (tomorrow.replace(day=1) + timedelta(days=32)).replace(day=15)
    assert wanted.isoformat() in zhang.messages[-2].text
    await zhang.send_document("spec.pdf", b"%PDF-1.4 spec", mime_type="application/pdf")
    assert "1/5" in zhang.last.text and "spec.pdf" in zhang.last.text
    await zhang.send_photo(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    assert "2/5" in zhang.last.text
    await zhang.press("完成（2 个附件）")
    assert "第 7 步" in zhang.last.text
    await zhang.press("城南街道")
    summary = zhang.last.text
    for expected in (
        "红外光谱检测",
        "检验检测",
        "每批约 20 个样品",
        "5 万元以下",
        "城南街道",
        "2 个附件",
    ):
        assert expected in summary
    await zhang.press("✅ 确认提交")
    demand = await Demand.get(title="红外光谱检测")
    assert demand.reference in zhang.last.text
    assert demand.reference.startswith(f"D{demand.created_at.year}-")
    assert demand.wanted_by == wanted
    assert [a["kind"] for a in demand.attachments] == ["document", "photo"]
    assert demand.attachments[0]["name"] == "spec.pdf"
    assert demand.status is DemandStatus.SUBMITTED
    assert any(demand.reference in m.text for m in wang.messages)
    # The confirmed summary cannot be confirmed twice.
    assert zhang.messages[-2].buttons == []
    assert await AuditLog.filter(action="demand.submitted").count() == 1


async def test_whole_submission_in_english(harness: Harness) -> None:
    wang = await _reviewer(harness)
    alice = await _enterprise(harness, 402, "Alice", "en")
    await alice.send("/new")
    assert "Step 1 of 7" in alice.last.text
    await alice.send("   ")
    assert "Too short" in alice.last.text
    await alice.send("Infrared spectroscopy")
    await alice.press("Testing and inspection")
    await alice.send(EN_DESCRIPTION)
    await alice.press("Under 50,000 yuan")
    assert "Mo" in _labels(alice)
    await alice.send((_today() - timedelta(days=3)).isoformat())
    assert "must be after today" in alice.last.text
    await alice.send("31.03.2027")
    assert "YYYY-MM-DD" in alice.last.text
    await alice.send(_later(60))
    assert "Step 6 of 7" in alice.last.text
    await alice.press("Skip, no attachments")
    await alice.press("Chengnan Subdistrict")
    assert "Please check your demand" in alice.last.text
    assert "R&amp;D" not in alice.last.text  # only the chosen category is shown
    await alice.press("✅ Confirm and submit")
    demand = await Demand.get(title="Infrared spectroscopy")
    assert f"submitted as {demand.reference}" in alice.last.text
    assert demand.attachments == []
    assert any(demand.reference in m.text for m in wang.messages)


async def test_bad_answers_are_refused_and_asked_again(harness: Harness) -> None:
    zhang = await _enterprise(harness)
    await zhang.send("/new")
    await zhang.send("ab")
    assert "太短了" in zhang.last.text
    await zhang.send("长" * 61)
    assert "最多 60 个字符（现在 61 个）" in zhang.last.text
    await zhang.send_sticker()
    assert "需要输入文字" in zhang.last.text
    assert "第 1 步" in zhang.last.text
    await zhang.send("红外光谱检测")
    category_question = zhang.last.message_id
    await zhang.send("检验检测")  # typed where a button is expected
    assert "按钮" in zhang.last.text
    await zhang.press("检验检测")
    # A stale button: the category question was answered, its buttons are gone; forged
    # data of that step is outdated now.
    answer = await zhang.press_data("dm:category:v:testing", message_id=category_question)
    assert answer is not None and "已过期" in answer["text"]
    await zhang.send("描" * 2001)
    assert "最多 2000 个字符" in zhang.last.text
    await zhang.send(DESCRIPTION)
    await zhang.press("5 万元以下")
    await zhang.send((_today() - timedelta(days=1)).isoformat())
    assert "必须晚于今天" in zhang.last.text
    await zhang.send(_today().isoformat())
    assert "必须晚于今天" in zhang.last.text
    await zhang.send("2027/03/31")
    assert "YYYY-MM-DD" in zhang.last.text
    await zhang.send(_later())
    assert "第 6 步" in zhang.last.text


async def test_bad_attachments_are_refused_and_nothing_is_lost(harness: Harness) -> None:
    zhang = await _enterprise(harness)
    await _fill_zh(zhang)
    for n in range(4):
        await zhang.send_document(f"part{n}.pdf", b"%PDF " + bytes([n]))
    await zhang.send_document("huge.pdf", b"\0" * (30 * 1024 * 1024))
    assert "20 MB" in zhang.last.text
    assert "4/5" in zhang.last.text
    await zhang.send_document("part4.pdf", b"%PDF 4")
    await zhang.send_photo(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    assert "最多 5 个附件" in zhang.last.text
    await zhang.send_sticker()
    assert "只能是文件或图片" in zhang.last.text
    assert "5/5" in zhang.last.text
    stored = await conversations.load("401:401")
    assert stored is not None
    assert [a["name"] for a in stored.data["attachments"]] == [f"part{n}.pdf" for n in range(5)]
    await zhang.press("完成（5 个附件）")
    await zhang.press("城南街道")
    assert "5 个附件" in zhang.last.text
    # A forged button of another step, and garbage, change nothing.
    for forged in ("dm:title:v:x", "dm:confirm:zz", "dm:edit:abc", "dm"):
        answer = await zhang.press_data(forged)
        assert answer is not None and ("过期" in answer["text"] or "无法识别" in answer["text"])
    await zhang.press("✅ 确认提交")
    assert (await Demand.get(owner_id=(await User.get(id=401)).organization_id)).title == (
        "红外光谱检测"
    )


async def test_date_picker_pages_and_refuses_a_stale_day(harness: Harness) -> None:
    zhang = await _enterprise(harness)
    await _fill_zh(zhang)
    await zhang.press("⬅️ 返回")
    assert "第 5 步" in zhang.last.text
    picker = zhang.last.message_id
    today = _today()
    # A day of a calendar left open since yesterday: refused, the step stays.
    answer = await zhang.press_data(f"dm:wanted_by:d:{today.isoformat()}", message_id=picker)
    assert answer is not None and "必须晚于今天" in answer["text"]
    await zhang.press("▶")
    await zhang.press("◀")
    # No paging into the past: the first month has no ◀.
    assert "◀" not in _labels(zhang)
    answer = await zhang.press_data("dm:wanted_by:m:1999-01", message_id=picker)
    assert answer is not None and "无法识别" in answer["text"]


async def test_back_edit_and_cancel(harness: Harness) -> None:
    zhang = await _enterprise(harness)
    await _fill_zh(zhang)
    await zhang.press("⬅️ 返回")
    await zhang.press("⬅️ 返回")
    assert "第 4 步" in zhang.last.text
    await zhang.press("20–100 万元")
    await zhang.send(_later(10))
    await zhang.press("跳过，不上传附件")
    await zhang.press("城南街道")
    assert "20–100 万元" in zhang.last.text
    await zhang.press("✏️ 修改")
    await zhang.press("标题")
    await zhang.send("红外光谱与热分析检测")
    assert "红外光谱与热分析检测" in zhang.last.text and "请核对" in zhang.last.text
    await zhang.press("✏️ 修改")
    await zhang.press("附件")
    await zhang.send_document("late.pdf", b"%PDF late")
    await zhang.press("完成（1 个附件）")
    assert "1 个附件" in zhang.last.text and "请核对" in zhang.last.text
    await zhang.press("✖️ 取消")
    assert "已取消" in zhang.last.text
    assert await conversations.load("401:401") is None
    assert await Demand.all().count() == 0
    await zhang.send("/new")
    assert "第 1 步" in zhang.last.text
    await zhang.press("✖️ 取消")
    assert "已取消" in zhang.last.text


async def test_restart_mid_flow_loses_nothing(
    harness: Harness, database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    zhang = await _enterprise(harness)
    await _fill_zh(zhang)
    await zhang.send_document("spec.pdf", b"%PDF spec")
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database)
    await zhang.send_document("drawing.pdf", b"%PDF drawing")
    assert "2/5" in zhang.last.text
    await zhang.press("完成（2 个附件）")
    await zhang.press("城南街道")
    assert "红外光谱检测" in zhang.last.text and "2 个附件" in zhang.last.text
    # /start (or /new) after a restart re-asks where the user was.
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database)
    await zhang.send("/new")
    assert "未完成的需求草稿" in zhang.messages[-2].text
    await zhang.press("✅ 确认提交")
    assert (await Demand.all().count()) == 1


async def test_a_stored_state_of_another_version_restarts_politely(harness: Harness) -> None:
    zhang = await _enterprise(harness)
    await zhang.send("/start")
    draft = {"title": "红外光谱检测", "category": "testing"}
    await conversations.save("401:401", ConversationState("demand", "old_state", 0, draft))
    await zhang.send("/start")
    assert "已填写的内容都保留" in zhang.messages[-2].text
    assert "第 3 步" in zhang.last.text
    await zhang.send(DESCRIPTION)
    assert "第 4 步" in zhang.last.text


async def test_who_may_submit(harness: Harness) -> None:
    stranger = harness.person(410, "路人")
    await stranger.send("/new")
    assert "尚未通过审核" in stranger.last.text
    await make_member(411, "李机构", Role.INSTITUTION, "如皋检测中心")
    institution = harness.person(411, "李机构")
    await institution.send("/new")
    assert "只有企业用户和镇科技助理" in institution.last.text
    await make_member(412, "Bob", Role.ENTERPRISE, "Suspended Co", language_code="en")
    await User.filter(id=412).update(status=UserStatus.SUSPENDED)
    bob = harness.person(412, "Bob", language_code="en")
    await bob.send("/new")
    assert "not approved" in bob.last.text
    await institution.send("/township")
    assert "只有镇科技助理" in institution.last.text
    assert await conversations.load("411:411") is None


async def test_relay_for_a_registered_enterprise_and_take_over(harness: Harness) -> None:
    wang = await _reviewer(harness)
    zhang = await _enterprise(harness)
    await zhang.send("/start")  # the enterprise user has started the bot
    # An enterprise of another township is not offered to this assistant.
    await make_member(420, "赵远", Role.ENTERPRISE, "九华机械厂", township="jiuhua")
    await make_assistant(501, "陈助理")
    chen = harness.person(501, "陈助理")
    await chen.send("/new")
    assert "第 1 步，共 7 步" in chen.last.text
    assert "如皋市星火科技有限公司" in _labels(chen) and "九华机械厂" not in _labels(chen)
    org = await Organization.get(name="九华机械厂")
    answer = await chen.press_data(f"dm:enterprise:v:{org.id}")
    assert answer is not None and "选择企业" in answer["text"]
    await chen.press("如皋市星火科技有限公司")
    assert "第 2 步，共 7 步" in chen.last.text
    await chen.send("红外光谱检测")
    await chen.press("检验检测")
    await chen.send(DESCRIPTION)
    await chen.press("面议")
    await chen.send(_later())
    await chen.press("跳过，不上传附件")
    assert "如皋市星火科技有限公司" in chen.last.text  # the summary names the enterprise
    await chen.press("✅ 确认提交")
    demand = await Demand.get(title="红外光谱检测")
    assert demand.reference in chen.last.text
    assert demand.submitted_by_id == 501
    assert demand.owner_id == (await User.get(id=401)).organization_id
    assert demand.township == "chengnan"
    assert any(demand.reference in m.text for m in wang.messages)
    told = zhang.last
    assert demand.reference in told.text and "陈助理" in told.text
    await zhang.press("由我接手")
    assert "已接手" in zhang.last.text
    assert (await Demand.get(id=demand.id)).submitted_by_id == 401
    # A replayed press, and a press by someone outside the enterprise, change nothing.
    answer = await zhang.press_data(f"dt:{demand.id}", message_id=told.message_id)
    assert answer is not None and "已由您负责" in answer["text"]
    answer = await chen.press_data(f"dt:{demand.id}", message_id=chen.last.message_id)
    assert answer is not None and "不是您的需求" in answer["text"]
    assert await AuditLog.filter(action="demand.taken_over").count() == 1


async def test_relay_for_a_new_enterprise(harness: Harness) -> None:
    await make_assistant(501, "陈助理")
    chen = harness.person(501, "陈助理")
    await chen.send("/new")
    assert "还没有登记的企业" in chen.last.text
    await chen.press("➕ 新增企业")
    await chen.send("如皋市东风纺织有限公司")
    await chen.send("12345")
    assert "应为 18 位，您输入了 5 位" in chen.last.text
    # A code that already belongs to an institution is refused at the end; the name stays.
    await make_member(430, "李机构", Role.INSTITUTION, "如皋检测中心")
    taken = (await Organization.get(name="如皋检测中心")).credit_code
    assert taken is not None
    await chen.send(taken)
    await chen.send("周红")
    assert "不能代为提交" in chen.messages[-2].text
    assert "信用代码" in chen.last.text
    code = credit_code("91320682MA7X0001")
    await chen.send(code)
    await chen.send("周红")
    assert "如皋市东风纺织有限公司" in chen.messages[-2].text
    assert "第 2 步，共 7 步" in chen.last.text
    org = await Organization.get(credit_code=code)
    assert org.kind is OrgKind.ENTERPRISE and org.township == "chengnan"
    audit = await AuditLog.get(action="organization.relay_created")
    assert audit.after is not None and audit.after["contact"] == "周红"
    await chen.send("纺织品阻燃性能检测")
    await chen.press("检验检测")
    await chen.send(DESCRIPTION)
    await chen.press("面议")
    await chen.send(_later())
    await chen.press("跳过，不上传附件")
    await chen.press("✅ 确认提交")
    demand = await Demand.get(title="纺织品阻燃性能检测")
    assert demand.owner_id == org.id and demand.submitted_by_id == 501
    # Next time the new enterprise is in the list.
    await chen.send("/new")
    assert "如皋市东风纺织有限公司" in _labels(chen)


async def test_rejected_demand_is_edited_and_resubmitted(harness: Harness) -> None:
    wang = await _reviewer(harness)
    zhang = await _enterprise(harness)
    await zhang.send("/start")
    reviewer = await User.get(id=301)
    demand = await submitted_demand(await User.get(id=401))
    waiting = await Review.get(subject_type="demand", subject_id=demand.id)
    events = await review.decide(
        waiting.id, reviewer.id, approve=False, reason="preset:incomplete", platform=PLATFORM
    )
    await _publish(harness, events)
    told = zhang.last
    assert demand.reference in told.text and "信息不完整" in told.text
    await zhang.press("✏️ 修改并重新提交")
    assert "请核对" in zhang.last.text
    await zhang.press("✏️ 修改")
    await zhang.press("需求描述")
    await zhang.send(DESCRIPTION + "\n补充：样品为 PP 与 PE。")
    await zhang.press("✅ 确认提交")
    assert f"{demand.reference} 已修改并重新提交" in zhang.last.text
    again = await Demand.get(id=demand.id)
    assert again.status is DemandStatus.SUBMITTED and "PP 与 PE" in again.description
    pending = await Review.filter(
        subject_type="demand", subject_id=demand.id, status=ReviewStatus.PENDING
    )
    assert len(pending) == 1 and pending[0].round == 2
    rounds = await Review.filter(subject_type="demand", subject_id=demand.id).order_by("round")
    assert [(r.round, r.status) for r in rounds] == [
        (1, ReviewStatus.REJECTED),
        (2, ReviewStatus.PENDING),
    ]
    assert any(demand.reference in m.text for m in wang.messages[-2:])
    # The old "Edit and resubmit" button no longer applies.
    answer = await zhang.press_data(f"dm:edit:{demand.id}", message_id=told.message_id)
    assert answer is not None and "未被驳回" in answer["text"]
    # Published: the owner is told.
    await approve_demand(again, reviewer)
    await _publish(harness, [DemandPublished(demand.id)])
    assert "已通过审核并发布" in zhang.last.text
    assert demand.reference in zhang.last.text


async def test_someone_else_cannot_resubmit(harness: Harness) -> None:
    zhang = await _enterprise(harness)
    await zhang.send("/start")
    demand = await submitted_demand(await User.get(id=401))
    await Demand.filter(id=demand.id).update(status=DemandStatus.REJECTED)
    await make_member(440, "孙企业", Role.ENTERPRISE, "别家公司")
    sun = harness.person(440, "孙企业")
    await sun.send("/start")
    await sun.send("/new")
    answer = await sun.press_data(f"dm:edit:{demand.id}")
    assert answer is not None and "不是您的需求" in answer["text"]


async def test_township_lists_its_demands(harness: Harness) -> None:
    owner = await make_member(401, "张伟", Role.ENTERPRISE, "星火科技")
    other = await make_member(402, "赵远", Role.ENTERPRISE, "九华机械厂", township="jiuhua")
    for n in range(7):
        await submitted_demand(owner, title=f"城南需求{n}")
    await submitted_demand(other, title="九华需求", township="jiuhua")
    await make_assistant(501, "陈助理")
    chen = harness.person(501, "陈助理")
    await chen.send("/township")
    page = chen.last.text
    assert "城南街道" in page and "1–5，共 7 条" in page
    assert "城南需求6" in page and "城南需求0" not in page and "九华需求" not in page
    assert "待审核" in page
    assert page.index("城南需求6") < page.index("城南需求5")  # newest first
    await chen.press("下一页 ➡️")
    assert "城南需求0" in chen.last.text and "6–7，共 7 条" in chen.last.text
    await chen.press("⬅️ 上一页")
    assert "城南需求6" in chen.last.text


async def test_two_confirm_presses_at_once_submit_once(harness: Harness) -> None:
    zhang = await _enterprise(harness)
    await _fill_zh(zhang)
    await zhang.press("跳过")
    await zhang.press("城南街道")
    summary = zhang.last
    await asyncio.gather(
        zhang.press("✅ 确认提交", message_id=summary.message_id),
        zhang.press("✅ 确认提交", message_id=summary.message_id),
    )
    assert await Demand.all().count() == 1
    assert sum("提交" in m.text and "D20" in m.text for m in zhang.messages) == 1
