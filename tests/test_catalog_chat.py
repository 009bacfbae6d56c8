"""The resource catalogue through the chat (issue 9): an institution publishes an instrument,
a reviewer approves it, an enterprise finds it by Chinese and English keywords and books it,
the manager accepts, counters or declines; enquiries; bad input; stale and forged buttons."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.emulator import EmulatedUser
from models.demand_entities import Demand, DemandStatus, Engagement
from models.entities import Role, User
from models.evaluation_entities import Evaluation, Grade
from models.listing_entities import Booking, Listing, ListingStatus, RequestStatus
from tests.conftest import Harness, make_staff
from tests.demand_support import TODAY, make_member
from tests.evaluation_support import published_run

CHECKS = ("☐ 不涉及保密内容", "☐ 信息真实、有效", "☐ 符合法律法规和政策")


async def _person(harness: Harness, user: User, lang: str = "zh-CN") -> EmulatedUser:
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


def _weekday_ahead(days: int) -> date:
    """The first Monday-to-Friday day at least `days` ahead of today."""
    day = TODAY + timedelta(days=days)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


async def _approve(reviewer: EmulatedUser) -> None:
    card = reviewer.last.message_id
    for label in CHECKS:
        await reviewer.press(label, message_id=card)
    await reviewer.press("✅ 批准", message_id=card)


async def _publish_instrument(lab: EmulatedUser, *, files: bool = False) -> None:
    await lab.send("/publish")
    await lab.press("仪器")
    await lab.send("傅里叶红外光谱仪")
    await lab.press("仪器共享")
    await lab.send("Nicolet iS50")
    await lab.send("Thermo Fisher")
    await lab.send("检测楼 302 室")
    await lab.send("每天都开")
    assert "开放时间格式" in lab.last.text  # bad input: asked again, nothing lost
    await lab.send("1-5 09:00-17:00")
    await lab.press("☐ 自测")
    await lab.press("☐ 送样")
    await lab.press("完成选择")
    await lab.press("不需要")
    await lab.press("市场调节价")
    await lab.send("每机时 200 元")
    await lab.send("样品 5 克")
    await lab.send("请提前一天预约，FTIR spectrometer 操作须按规程。")
    if files:  # a photo and a spec sheet, shown on the catalogue card
        await lab.send_photo(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
        await lab.send_document("spec.pdf", b"%PDF-1.4 spec", mime_type="application/pdf")
    await lab.press(f"完成（已附 {2 if files else 0} 个文件）")
    assert "请核对仪器信息" in lab.last.text and "Nicolet iS50" in lab.last.text
    await lab.press("✅ 确认提交")
    assert "已提交审核" in lab.last.text


async def _setup(harness: Harness) -> tuple[EmulatedUser, EmulatedUser, EmulatedUser]:
    await make_staff(401, Role.REVIEWER, "王审核")
    reviewer = await _person(harness, await User.get(id=401))
    lab = await _person(harness, await make_member(301, "张工", Role.INSTITUTION, "南通检测中心"))
    owner = await _person(
        harness, await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    )
    return reviewer, lab, owner


async def test_instrument_published_found_booked_accepted_becomes_engagement(
    harness: Harness,
) -> None:
    reviewer, lab, owner = await _setup(harness)
    await _publish_instrument(lab, files=True)
    assert "待审核仪器" in reviewer.last.text and "傅里叶红外光谱仪" in reviewer.last.text
    await owner.send("/search 光谱")
    assert "没有找到" in owner.last.text  # not shown before review
    await _approve(reviewer)
    assert "已通过审核" in lab.last.text
    # Chinese without spaces: 光谱 is found inside 红外光谱仪; English is case-folded.
    await owner.send("/search 光谱")
    assert "傅里叶红外光谱仪" in owner.last.text and "南通检测中心 · 服务机构" in owner.last.text
    assert "暂无评分" in owner.last.text
    # Once last year's evaluation is published, its stars (Rugao art. 20) show beside it.
    lab_user = await User.get(id=301)
    run = await published_run(TODAY.year - 1, {lab_user: Grade.GOOD})
    await Evaluation.filter(run=run).update(stars=4)
    await owner.send("/search 光谱")
    assert f"南通检测中心 · 服务机构 · {TODAY.year - 1} 年度评价 ★★★★☆" in owner.last.text
    await owner.send("/search SPECTROMETER 检测楼")
    assert "共 1 条" in owner.last.text
    await owner.press("1. 傅里叶红外光谱仪")
    assert "Nicolet iS50" in owner.last.text
    card = owner.last.message_id
    await owner.press("📎 照片与资料（2）", message_id=card)
    photo, sheet = owner.messages[-2:]
    assert photo.photo and sheet.document and sheet.document["file_name"] == "spec.pdf"
    await owner.press("📅 预约", message_id=card)
    await owner.press("送样（由管理员测试）")
    await owner.send(f"{(TODAY - timedelta(days=1)).isoformat()} 09:00-11:00")
    assert "须至少提前预约" in owner.last.text
    day = _weekday_ahead(2)
    await owner.send(f"{day.isoformat()} 07:00-09:00")
    assert "不在开放时间内" in owner.last.text
    await owner.send(f"{day.isoformat()} 09:00-11:00")
    await owner.send("三批高分子样品做红外光谱")
    assert "已提交" in owner.last.text
    card = lab.last
    assert "新预约" in card.text and "如皋精密机械有限公司" in card.text
    assert "预估费用：每机时 200 元" in card.text  # estimated at booking (DESIGN §2)
    # Two managers' presses at once (a double press): one engagement.
    await asyncio.gather(
        lab.press("✅ 接受", message_id=card.message_id),
        lab.press("✅ 接受", message_id=card.message_id),
    )
    booking = await Booking.get()
    assert booking.status is RequestStatus.ACCEPTED and booking.demand_id is not None
    demand = await Demand.get(id=booking.demand_id)
    assert demand.status is DemandStatus.MATCHED and await Engagement.filter().count() == 1
    assert demand.reference in owner.last.text and "张工" in owner.last.text
    assert demand.reference in lab.last.text and "王经理" in lab.last.text
    # It continues as an engagement of issue 3: the contract button is there.
    assert owner.last.button_labels() == ["📄 备案合同"]
    await owner.press("📄 备案合同")
    assert "合同" in owner.last.text and "没有" not in owner.last.text


async def test_counter_proposal_and_decline_with_reason(harness: Harness) -> None:
    reviewer, lab, owner = await _setup(harness)
    await _publish_instrument(lab)
    await _approve(reviewer)
    day = _weekday_ahead(3)
    for purpose in ("第一次预约测试样品", "第二次预约测试样品"):
        await owner.send("/search 红外")
        await owner.press("1. 傅里叶红外光谱仪")
        await owner.press("📅 预约")
        await owner.press("自测（到现场使用）")
        await owner.send(f"{day.isoformat()} 10:00-12:00")
        await owner.send(purpose)
    first, second = [m for m in lab.messages if "新预约" in m.text]
    await lab.press("🕑 建议其他时段", message_id=first.message_id)
    await lab.send(f"{day.isoformat()} 14:00-16:00")
    assert "已向预约人建议新时段" in lab.last.text
    assert "建议改为" in owner.last.text
    await owner.press("✅ 接受新时段")
    taken = await Booking.get(purpose="第一次预约测试样品")
    assert taken.status is RequestStatus.ACCEPTED and taken.demand_id is not None
    # The instrument serves one booking at a time: an overlapping ask is refused and asked again.
    await owner.send("/search 红外")
    await owner.press("1. 傅里叶红外光谱仪")
    await owner.press("📅 预约")
    await owner.press("自测（到现场使用）")
    await owner.send(f"{day.isoformat()} 15:00-17:00")
    assert "与本仪器已接受的预约重叠" in owner.last.text
    await owner.send(f"{day.isoformat()} 16:00-17:00")
    assert "用途" in owner.last.text
    await owner.send("/cancel")
    # Declining needs a reason (Shenyang art. 10); the requester reads it.
    await lab.press("❌ 拒绝（须说明原因）", message_id=second.message_id)
    await lab.send("设备当天检修")
    assert "被拒绝" in owner.last.text and "设备当天检修" in owner.last.text
    declined = await Booking.get(purpose="第二次预约测试样品")
    assert declined.status is RequestStatus.DECLINED and declined.reason == "设备当天检修"
    # The old card's Accept changes nothing now.
    answer = await lab.press("✅ 接受", message_id=second.message_id)
    assert answer is not None and "已经答复过" in str(answer)
    assert await Engagement.filter().count() == 1


async def test_service_enquiry_in_english_and_bad_input(harness: Harness) -> None:
    await make_staff(401, Role.REVIEWER, "王审核")
    reviewer = await _person(harness, await User.get(id=401))
    lab_user = await make_member(
        301, "Zhang", Role.INSTITUTION, "Nantong Testing Centre", language_code="en"
    )
    lab = await _person(harness, lab_user, "en")
    owner = await _person(
        harness,
        await make_member(101, "Wang", Role.ENTERPRISE, "Rugao Machinery", language_code="en"),
        "en",
    )
    await owner.send("/publish")  # the wrong role
    assert "Only approved service institutions and research teams" in owner.last.text
    await lab.send("/publish")
    await lab.press("Service")
    await lab.send("Salt spray corrosion test")
    await lab.press("Testing and inspection")
    await lab.send("Neutral salt spray test of coatings to GB/T 10125.")
    await lab.press("Market price")
    await lab.send("800 yuan per batch")
    await lab.send("7 working days")
    await lab.press("Done (0 files attached)")
    summary = lab.last.message_id
    await lab.press("✅ Confirm and submit")
    # The summary's Confirm pressed again: nothing submitted twice.
    again = await lab.press_data("ls:confirm:ok", message_id=summary)
    assert again is not None and "outdated" in str(again)
    assert await Listing.filter().count() == 1
    await _approve(reviewer)
    await owner.send("/search s")
    assert "at least 2 characters" in owner.last.text
    await owner.send("x" * 500)
    assert "at most 50 characters" in owner.last.text
    await owner.send("corrosion")
    assert "Salt spray corrosion test" in owner.last.text
    await owner.press("1. Salt spray corrosion test")
    await owner.press("💬 Enquire")
    await owner.send("short")
    assert "at least 10" in owner.last.text
    await owner.send("We need 3 batches of coated parts tested next month.")
    assert "sent" in owner.last.text
    await lab.press("✅ Accept")
    demand = await Demand.get()
    assert demand.status is DemandStatus.MATCHED and demand.title == "Salt spray corrosion test"


async def test_owner_cannot_book_own_and_retired_listing_button_is_stale(
    harness: Harness,
) -> None:
    reviewer, lab, owner = await _setup(harness)
    await _publish_instrument(lab)
    await _approve(reviewer)
    listing = await Listing.get()
    await owner.send("/search 光谱仪")
    await owner.press("1. 傅里叶红外光谱仪")
    book_card = owner.last.message_id
    # The owner's own card has no Book button; a forged press is refused.
    await lab.send("/search 光谱仪")
    await lab.press("1. 傅里叶红外光谱仪")
    assert lab.last.button_labels() == []
    answer = await lab.press_data(f"cb:{listing.id}")
    assert answer is not None and ("只有" in str(answer) or "本单位" in str(answer))
    # Retired: gone from search, and the enterprise's old Book button says so.
    await lab.send("/listings")
    await lab.press("🗑 下架")
    assert (await Listing.get()).status is ListingStatus.RETIRED
    answer = await owner.press("📅 预约", message_id=book_card)
    assert answer is not None and "没有找到" in str(answer)
    await owner.send("/search 光谱仪")
    assert "没有找到" in owner.last.text


async def test_catalog_browse_and_manager_records_outcome_and_training(
    harness: Harness,
) -> None:
    reviewer, lab, owner = await _setup(harness)
    await _publish_instrument(lab)
    await _approve(reviewer)
    await owner.send("/catalog")
    await owner.press("仪器")
    await owner.press("仪器共享")
    await owner.press("城南街道")
    assert "共 1 条" in owner.last.text and "傅里叶红外光谱仪" in owner.last.text
    await owner.send("/catalog")
    await owner.press("成果")
    await owner.press("全部类别")
    await owner.press("全部镇/街道")
    assert "没有找到" in owner.last.text
    # A booking whose slot is over waits for the manager's record in /bookings.
    listing = await Listing.get()
    user = await User.get(id=101)
    ended = datetime.now(UTC) - timedelta(hours=2)
    booking = await Booking.create(
        listing_id=listing.id,
        user_id=user.id,
        organization_id=user.organization_id,
        mode="onsite",
        starts_at=ended - timedelta(hours=1),
        ends_at=ended,
        purpose="测试样品",
        status=RequestStatus.ACCEPTED,
    )
    await owner.send("/bookings")  # the wrong role
    assert "只有已通过审核的服务机构和科研团队" in owner.last.text
    await lab.send("/bookings")
    assert booking.reference in lab.last.text
    card = lab.last.message_id
    answer = await lab.press("🎓 已完成培训", message_id=card)
    assert answer is not None and "已完成培训" in str(answer)
    await lab.press("🚫 爽约", message_id=card)
    assert "已登记：🚫 爽约" in lab.last.text and lab.last.button_labels() == []
    again = await lab.press_data(f"bo:u:{booking.id}", message_id=card)
    assert again is not None and "已经答复过" in str(again)
    assert (await Booking.get(id=booking.id)).outcome == "no_show"
    await lab.send("/bookings")
    assert "没有待登记" in lab.last.text


async def test_research_team_publishes_an_achievement_found_in_english_and_enquired(
    harness: Harness,
) -> None:
    reviewer, _, owner = await _setup(harness)
    team = await _person(
        harness, await make_member(302, "李教授", Role.RESEARCH, "南通大学材料团队")
    )
    await team.send("/publish")  # research teams publish achievements only: no kind asked
    await team.send("石墨烯导热膜低成本制备技术")
    await team.press("成果转化")
    await team.send("卷对卷制备石墨烯导热膜，导热系数 1500 W/mK 以上。Graphene thermal film.")
    await team.press("中试阶段")
    await team.send("ZL201910123456.1")  # a wrong check digit: asked again, nothing lost
    assert "校验位不符" in team.last.text
    await team.send("ZL201910123456.X")
    await team.press("☐ 许可")
    await team.press("☐ 合作开发")
    await team.press("完成选择")
    await team.press("完成（已附 0 个文件）")
    assert "ZL201910123456.X" in team.last.text and "中试阶段" in team.last.text
    await team.press("✅ 确认提交")
    assert "待审核成果" in reviewer.last.text
    await _approve(reviewer)
    # English keywords, case-folded, find the Chinese listing by its description.
    await owner.send("/search GRAPHENE")
    assert (
        "石墨烯导热膜低成本制备技术" in owner.last.text and "南通大学材料团队" in owner.last.text
    )
    await owner.press("1. 石墨烯导热膜低成本制备技术")
    assert "许可、合作开发" in owner.last.text
    await owner.press("💬 咨询")
    await owner.send("想了解中试线的投资规模和许可费用。")
    assert "新咨询" in team.last.text and "中试线" in team.last.text
    await team.press("✅ 接受")
    demand = await Demand.get()
    assert (
        demand.status is DemandStatus.MATCHED
        and demand.matched_institution_id == (await User.get(id=302)).organization_id
    )
    engagement = await Engagement.get(demand_id=demand.id)
    assert engagement.institution_id == demand.matched_institution_id
    assert demand.reference in owner.last.text and "李教授" in owner.last.text
