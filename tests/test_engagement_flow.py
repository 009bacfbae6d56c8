"""After the match, through the emulator: contract filing, delivery, completion or dispute,
feedback, complaints (issue #3 items 6, 7, 9), in zh and en, on both databases."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestServer

from bot.emulator import BotAPIEmulator, EmulatedUser
from handlers.context import NOTIFIER
from models import engagements, review
from models.demand_entities import (
    Complaint,
    ComplaintStatus,
    Demand,
    DemandStatus,
    Engagement,
    Feedback,
)
from models.entities import AuditLog, InstitutionTier, Organization, Review, Role, User
from models.events import Event
from tests.conftest import ADMIN_ID, TOKEN, Harness, make_staff, start_bot, stop_bot
from tests.demand_support import PLATFORM, make_member, matched_demand

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\n%%EOF\n" + bytes(range(256))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
async def emulator_server() -> AsyncIterator[tuple[BotAPIEmulator, TestServer]]:
    """The emulator of conftest, with the bot-wide limit raised as conftest raises the per-chat
    one: a whole engagement sends some 70 messages in about a second, faster than any person
    acts, and PTB's own limiter and the emulator's bucket drift apart by a few tokens."""
    emulator = BotAPIEmulator(chat_rate=30, chat_burst=30, global_rate=300)
    emulator.add_bot(TOKEN, username="innobridge_test_bot")
    server = TestServer(emulator.make_app())
    await server.start_server()
    yield emulator, server
    await server.close()


def shanghai_today() -> date:
    """Today where the platform is (the bot checks signing dates in its own zone)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@dataclass
class Cast:
    """The people of one engagement, each with their chat."""

    owner: EmulatedUser
    institution: EmulatedUser
    admin: EmulatedUser
    reviewer: EmulatedUser
    demand: Demand


async def cast(harness: Harness, lang: str = "zh-CN") -> Cast:
    """A matched demand; everyone has started the bot (so they can be written to)."""
    reviewer = await make_staff(800, Role.REVIEWER, "审核员")
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋新材料公司", language_code=lang)
    institution = await make_member(
        201,
        "李工",
        Role.INSTITUTION,
        "如皋检测中心",
        service_fields=["testing"],
        tier=InstitutionTier.VOUCHER,
        language_code=lang,
    )
    chats = [
        harness.person(101, "王经理", lang),
        harness.person(201, "李工", lang),
        harness.person(ADMIN_ID, "Admin", lang),
        harness.person(800, "审核员", lang),
    ]
    for chat in chats:
        await chat.send("/start")
    demand = await matched_demand(owner, reviewer, institution)
    owner_chat, institution_chat, admin_chat, reviewer_chat = chats
    return Cast(owner_chat, institution_chat, admin_chat, reviewer_chat, demand)


async def publish(harness: Harness, events: list[Event]) -> None:
    """Hand domain events to the running bot's notifier, as a handler would."""
    await harness.application.bot_data[NOTIFIER].publish(events)


async def acknowledge_contract(harness: Harness, demand: Demand) -> None:
    """The reviewer acknowledges the filing (the decision itself is the review area's)."""
    engagement = await Engagement.get(demand_id=demand.id)
    waiting = await Review.get(subject_type="contract", subject_id=engagement.id, status="pending")
    events = await review.decide(waiting.id, 800, approve=True, reason=None, platform=PLATFORM)
    await publish(harness, events)


def texts(person: EmulatedUser) -> str:
    """Everything the bot said to this person, as one string."""
    return "\n".join(m.text for m in person.messages)


async def file_contract_chat(c: Cast, *, confirm: str, no: str) -> None:
    """The owner files the contract in the chat (PDF, 30000 yuan, signed today, no voucher)."""
    await c.owner.send(f"/contract {c.demand.reference}")
    await c.owner.send_document("contract.pdf", PDF, mime_type="application/pdf")
    await c.owner.send("30000")
    await c.owner.send(shanghai_today().isoformat())
    await c.owner.press(no)
    await c.owner.press(confirm)


async def test_contract_filing_zh_checks_the_file_and_dates(harness: Harness) -> None:
    c = await cast(harness)
    await c.owner.send(f"/contract {c.demand.reference}")
    assert "第 1 步，共 4 步" in c.owner.last.text
    # A Word file, a sticker and a 30 MB PDF are refused; the question is asked again.
    await c.owner.send_document("contract.docx", b"PK\x03\x04word", mime_type=DOCX)
    assert "PDF 文件或图片" in c.owner.messages[-2].text
    await c.owner.send_sticker()
    assert "PDF 文件或图片" in c.owner.messages[-2].text
    await c.owner.send_document("big.pdf", b"0" * (30 * 2**20), mime_type="application/pdf")
    assert "20 MB" in c.owner.messages[-2].text
    assert "第 1 步" in c.owner.last.text
    await c.owner.send_document("contract.pdf", PDF, mime_type="application/pdf")
    assert "第 2 步" in c.owner.last.text
    await c.owner.send("很多钱")
    assert "合同金额" in c.owner.messages[-2].text or "元" in c.owner.messages[-2].text
    await c.owner.send("30,000")
    signed = shanghai_today() - timedelta(days=3)
    await c.owner.send((shanghai_today() + timedelta(days=2)).isoformat())
    assert "不能晚于今天" in c.owner.messages[-2].text
    await c.owner.send(signed.isoformat())
    assert "创新券" in c.owner.last.text
    await c.owner.press("否")
    summary = c.owner.last.text
    assert "30000.00 元" in summary
    assert engagements.one_month_after(signed).isoformat() in summary
    # Edit the amount from the summary, then confirm.
    await c.owner.press("✏️ 修改")
    await c.owner.press("合同金额")
    await c.owner.send("32000")
    assert "32000.00 元" in c.owner.last.text
    await c.owner.press("✅ 确认提交")
    assert "已备案" in texts(c.owner)

    engagement = await Engagement.get(demand_id=c.demand.id)
    assert engagement.contract_sha256 == hashlib.sha256(PDF).hexdigest()
    assert engagement.filing_due == engagements.one_month_after(signed)
    assert engagement.signed_on == signed
    assert str(engagement.amount) == "32000.00"
    assert engagement.voucher is False
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.CONTRACTED
    assert await Review.filter(subject_type="contract", subject_id=engagement.id).count() == 1
    # The institution is told, with the amount and the filing-report due date.
    told = texts(c.institution)
    assert c.demand.reference in told
    assert "32000.00" in told
    assert engagement.filing_due.isoformat() in told


async def test_filing_survives_a_restart_and_photo_contracts_work(
    harness: Harness, emulator_server: tuple[BotAPIEmulator, TestServer], database: str
) -> None:
    c = await cast(harness)
    # The institution files this time, with a photo of the contract.
    await c.institution.send(f"/contract {c.demand.reference}")
    photo = b"\xff\xd8\xff\xe0 a jpeg of the signed contract"
    await c.institution.send_photo(photo)
    await c.institution.send("15000")
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database)
    await c.institution.send("/start")
    assert "第 3 步" in c.institution.last.text
    await c.institution.send(shanghai_today().isoformat())
    await c.institution.press("是")
    await c.institution.press("✅ 确认提交")
    engagement = await Engagement.get(demand_id=c.demand.id)
    assert engagement.voucher is True
    assert engagement.contract_sha256 == hashlib.sha256(photo).hexdigest()
    assert "15000.00" in texts(c.owner)


async def test_refused_filing_can_be_filed_again(harness: Harness) -> None:
    c = await cast(harness)
    await file_contract_chat(c, confirm="✅ 确认提交", no="否")
    engagement = await Engagement.get(demand_id=c.demand.id)
    waiting = await Review.get(subject_type="contract", subject_id=engagement.id, status="pending")
    events = await review.decide(
        waiting.id, 800, approve=False, reason="缺少盖章页", platform=PLATFORM
    )
    await publish(harness, events)
    assert "未通过" in c.institution.last.text and "缺少盖章页" in c.institution.last.text
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.MATCHED
    await c.owner.press("📄 备案合同")
    assert "第 1 步" in c.owner.last.text
    # Cancel leaves nothing behind; a stale Confirm of the first filing does nothing.
    await c.owner.press("✖️ 取消")
    assert "已取消" in c.owner.last.text
    await c.owner.press_data("en:f:confirm:ok", message_id=c.owner.last.message_id)
    assert "过期" in c.owner.callback_answers[-1]["text"]
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.MATCHED
    # Filed again from the notice's button: acknowledged in a new review round.
    await c.owner.press("📄 备案合同")
    await c.owner.send_document(
        "contract-stamped.pdf", PDF + b"stamp", mime_type="application/pdf"
    )
    await c.owner.send("30000")
    await c.owner.send(shanghai_today().isoformat())
    await c.owner.press("否")
    await c.owner.press("✅ 确认提交")
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.CONTRACTED
    engagement = await Engagement.get(demand_id=c.demand.id)
    assert engagement.contract_sha256 == hashlib.sha256(PDF + b"stamp").hexdigest()
    rounds = await Review.filter(subject_type="contract", subject_id=engagement.id).order_by("id")
    assert [(r.round, r.status.value) for r in rounds] == [(1, "rejected"), (2, "pending")]


async def test_whole_engagement_zh_deliver_complete_rate(harness: Harness) -> None:
    c = await cast(harness)
    await file_contract_chat(c, confirm="✅ 确认提交", no="否")
    await acknowledge_contract(harness, c.demand)
    assert "已由审核员确认" in c.owner.last.text
    assert "已由审核员确认" in c.institution.last.text

    # A stranger's forged presses change nothing.
    stranger = harness.person(301, "路人", "zh-CN")
    await make_member(301, "路人", Role.ENTERPRISE, "别家公司")
    await stranger.send("/start")
    anchor = stranger.last.message_id
    await stranger.press_data(f"en:dl:{c.demand.id}", message_id=anchor)
    assert "不是您的需求" in stranger.callback_answers[-1]["text"]
    await stranger.press_data(f"en:ok:{c.demand.id}", message_id=anchor)
    assert "不是您的需求" in stranger.callback_answers[-1]["text"]
    await stranger.press_data("en:ok:abc", message_id=anchor)
    assert "无法识别" in stranger.callback_answers[-1]["text"]
    await stranger.send(f"/contract {c.demand.reference}")
    assert "不是您的需求" in stranger.last.text
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.CONTRACTED

    # The owner may not mark it delivered; the institution does, from the notice's button.
    await c.owner.send(f"/delivered {c.demand.reference}")
    assert "只有对接的服务机构" in c.owner.last.text or "机构" in c.owner.last.text
    await c.institution.press("📦 标记已交付")
    assert "标记为已交付" in c.owner.last.text
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.DELIVERED

    # Completion pressed twice completes once.
    notice = c.owner.last.message_id
    await c.owner.press("✅ 确认完成")
    await c.owner.press_data(f"en:ok:{c.demand.id}", message_id=notice)
    assert "状态不允许" in c.owner.callback_answers[-1]["text"]
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.COMPLETED
    assert (
        await AuditLog.filter(action="demand.completed", subject_id=str(c.demand.id)).count() == 1
    )
    assert "确认" in c.institution.last.text and c.demand.reference in c.institution.last.text

    # Feedback: four scores, the outcome, a comment, confirm.
    await c.owner.press("⭐ 评价服务")
    assert "第 1 步，共 6 步" in c.owner.last.text
    for score in ("5", "4", "5", "4"):
        await c.owner.press(score)
    stale = c.owner.messages[-2].message_id
    await c.owner.press("已解决")
    await c.owner.press_data("fb:v:overall:1", message_id=stale)
    assert "过期" in c.owner.callback_answers[-1]["text"]
    await c.owner.send("报告出得很快，专业。")
    assert "报告出得很快" in c.owner.last.text
    await c.owner.press("✅ 确认提交")
    assert "感谢您" in c.owner.last.text
    rating = await Feedback.get(engagement__demand_id=c.demand.id)
    assert (rating.overall, rating.quality, rating.timeliness, rating.professionalism) == (
        5,
        4,
        5,
        4,
    )
    assert rating.outcome.value == "solved"
    assert "总体 5/5" in c.institution.last.text
    assert "已解决" in c.institution.last.text

    # A second rating is refused politely.
    await c.owner.press_data(f"fb:s:{c.demand.id}", message_id=c.owner.last.message_id)
    assert "已评价过" in c.owner.callback_answers[-1]["text"]
    assert await Feedback.all().count() == 1


async def test_whole_engagement_en_dispute_goes_to_admins(harness: Harness) -> None:
    c = await cast(harness, "en")
    await file_contract_chat(c, confirm="✅ Confirm and submit", no="No")
    await acknowledge_contract(harness, c.demand)
    await c.institution.send(f"/delivered {c.demand.reference}")
    assert "marked delivered" in c.institution.last.text
    await c.owner.press("⚠️ Dispute")
    assert "what is wrong" in c.owner.last.text
    await c.owner.send("x")
    assert "Too short" in c.owner.messages[-2].text
    await c.owner.send("The report lacks the spectra of batch 3.")
    assert "dispute" in c.owner.last.text.lower()
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.DISPUTED
    assert "lacks the spectra" in c.admin.last.text
    assert "disputes the delivery" in c.institution.last.text

    # The owner cannot resolve; the admin can, once.
    await c.owner.press_data(f"en:rc:{c.demand.id}", message_id=c.owner.last.message_id)
    assert "Only admins" in c.owner.callback_answers[-1]["text"]
    card = c.admin.last.message_id
    await c.admin.press("🔁 Resolve: back to work")
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.CONTRACTED
    await c.admin.press_data(f"en:rc:{c.demand.id}", message_id=card)
    assert "not in a state" in c.admin.callback_answers[-1]["text"]
    assert "back to work" in c.owner.last.text

    # Delivered again, disputed again, and this time resolved as completed.
    await c.institution.press("📦 Mark delivered")
    await c.owner.press("⚠️ Dispute")
    await c.owner.send("Still missing batch 3, sorry.")
    await c.admin.press("✅ Resolve: completed")
    assert (await Demand.get(id=c.demand.id)).status is DemandStatus.COMPLETED
    assert "counts as completed" in c.institution.last.text
    await c.owner.press("⭐ Rate the service")
    for score in ("3", "3", "2", "4"):
        await c.owner.press(score)
    await c.owner.press("Partly solved")
    await c.owner.press("Skip")
    await c.owner.press("✅ Confirm and submit")
    assert "Thank you" in c.owner.last.text
    assert "overall 3/5" in c.institution.last.text
    assert "Partly solved" in c.institution.last.text


async def test_complaint_upheld_and_forged_complaints_refused(harness: Harness) -> None:
    c = await cast(harness)
    other = await make_member(
        202, "赵工", Role.INSTITUTION, "别的检测所", service_fields=["testing"]
    )
    await c.owner.send("/complaint")
    assert "如皋检测中心" in str(c.owner.last.buttons)
    assert "别的检测所" not in str(c.owner.last.buttons)
    # A forged press naming an institution the owner never dealt with is refused.
    await c.owner.press_data(f"cp:i:{other.organization_id}")
    assert "有过业务往来" in c.owner.callback_answers[-1]["text"]
    await c.owner.press("如皋检测中心")
    await c.owner.send("太短")
    assert "太短" in c.owner.messages[-2].text or "至少" in c.owner.messages[-2].text
    await c.owner.send("检测报告延误两周，且多次联系不上负责人。")
    assert "请核对投诉内容" in c.owner.last.text
    await c.owner.press("✅ 确认提交")
    complaint = await Complaint.get()
    assert complaint.reference in c.owner.last.text
    assert complaint.institution_id == (await Organization.get(name="如皋检测中心")).id

    # Every admin gets the complaint; the first decision wins; the complainant is told.
    assert complaint.reference in c.admin.last.text
    card = c.admin.last.message_id
    await c.admin.send("/complaints")
    assert complaint.reference in c.admin.last.text
    await c.admin.press("✅ 投诉成立", message_id=card)
    assert (await Complaint.get()).status is ComplaintStatus.UPHELD
    assert "投诉成立" in c.owner.last.text and complaint.reference in c.owner.last.text
    await c.admin.press_data(f"cp:x:{complaint.id}", message_id=c.admin.last.message_id)
    assert "已处理" in c.admin.callback_answers[-1]["text"] or complaint.reference in str(
        c.admin.callback_answers[-1]
    )
    assert (await Complaint.get()).status is ComplaintStatus.UPHELD
    # A non-admin cannot decide, nor list.
    await c.owner.press_data(f"cp:u:{complaint.id}", message_id=c.owner.last.message_id)
    assert "管理员" in c.owner.callback_answers[-1]["text"]
    await c.owner.send("/complaints")
    assert "管理员" in c.owner.last.text

    # Someone who never dealt with an institution has nothing to complain about.
    newcomer = harness.person(102, "新用户", "zh-CN")
    await make_member(102, "新用户", Role.ENTERPRISE, "新公司")
    await newcomer.send("/complaint")
    assert "没有可投诉的对象" in newcomer.last.text
    await newcomer.press_data(f"cp:i:{other.organization_id}", message_id=newcomer.last.message_id)
    assert "过期" in newcomer.callback_answers[-1]["text"]
    assert await Complaint.all().count() == 1


async def test_complaint_en_dismissed(harness: Harness) -> None:
    c = await cast(harness, "en")
    await c.owner.send("/complaint")
    await c.owner.press("如皋检测中心")
    await c.owner.send("They never answered the phone for a week.")
    await c.owner.press("✅ Confirm and submit")
    assert "filed as" in c.owner.last.text
    await c.admin.press("❌ Dismiss")
    assert "dismissed" in c.owner.last.text
    assert (await User.get(id=ADMIN_ID)).role is Role.ADMIN
