"""Innovation vouchers through the chat, in Chinese and English: the enterprise applies, a
reviewer grants a typed amount or refuses, the institution redeems; bad input, stale and
forged buttons, the wrong role, double and simultaneous presses. Domain: test_vouchers.py.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from aiohttp.test_utils import TestServer

from bot.config import load_platform
from bot.emulator import BotAPIEmulator, EmulatedUser
from models.entities import Organization, OrgStatus, Review, User
from models.voucher_entities import Voucher, VoucherStatus
from tests.conftest import Harness, start_bot, stop_bot
from tests.lifecycle_support import Cast, cast
from tests.test_vouchers import PURPOSE, rated

V = VoucherStatus


async def _person(harness: Harness, user: User, lang: str = "zh-CN") -> EmulatedUser:
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


def _with(person: EmulatedUser, text: str) -> list[str]:
    return [m.text for m in person.messages if text in m.text]


async def _apply(owner: EmulatedUser, demand_label: str, amount: str = "12000") -> None:
    await owner.send("/voucher")
    await owner.press(demand_label, message_id=None)
    await owner.send(amount)
    await owner.send(PURPOSE)


async def _people(harness: Harness, c: Cast, lang: str = "zh-CN") -> list[EmulatedUser]:
    return [await _person(harness, user, lang) for user in (c.owner, c.reviewer, c.inst, c.admin)]


async def test_apply_grant_redeem_in_chinese(harness: Harness) -> None:
    c = await cast()
    demand = await rated(c)
    owner, reviewer, inst, admin = await _people(harness, c)
    await owner.send("/voucher")
    assert _with(owner, "可以申请创新券的服务")
    await owner.press(f"{demand.reference} · {demand.title}")
    assert "第 1 步，共 3 步" in owner.last.text and "最多 15,000.00 元" in owner.last.text
    await owner.send("20000")  # over the contract amount x the subsidy ratio
    assert "金额超出上限" in owner.last.text and "15,000.00" in owner.last.text
    await owner.send("零")
    assert "请输入大于 0 的金额" in owner.last.text
    await owner.send("12000")
    assert "第 2 步" in owner.last.text
    await owner.send("短")
    assert "太短了" in owner.last.text
    await owner.send(PURPOSE)
    assert "12,000.00 元" in owner.last.text and PURPOSE in owner.last.text
    await owner.press("确认提交")
    voucher = await Voucher.get()
    assert f"创新券申请 {voucher.reference} 已提交" in owner.last.text
    assert f"申请了创新券 {voucher.reference}" in inst.last.text
    assert f"创新券申请 {voucher.reference}" in reviewer.last.text
    admin_card = admin.last.message_id
    await reviewer.press("发放")
    assert "请输入发放金额" in reviewer.last.text
    await reviewer.send("13000")
    assert "不能超过申请金额 12,000.00" in reviewer.last.text
    await reviewer.send("10000")
    assert f"创新券 {voucher.reference} 已发放 10,000.00 元" in reviewer.last.text
    assert "已发放 10,000.00 元" in owner.last.text and "已发放" in inst.last.text
    edited = next(m for m in admin.messages if m.message_id == admin_card)
    assert "已由 李审核" in edited.text and not edited.buttons
    # The admin's copy was edited; an old Grant button says who decided first.
    review = await Review.get(subject_type="voucher", subject_id=voucher.id)
    answer = await admin.press_data(f"vc:g:{review.id}", message_id=admin_card)
    assert answer is not None and "李审核 已先一步批准" in answer["text"]
    await inst.send("/voucher")
    await inst.press(f"申请兑付 {voucher.reference}")
    assert _with(inst, f"创新券 {voucher.reference} 已申请兑付")
    assert f"为创新券 {voucher.reference} 申请兑付" in owner.last.text
    assert f"创新券兑付 {voucher.reference}" in reviewer.last.text
    await reviewer.press("同意兑付")
    assert "已兑付 10,000.00 元" in owner.last.text and "已兑付" in inst.last.text
    await owner.send("/voucher")
    assert "已兑付：1 张" in owner.last.text and "剩余 190,000.00 元" in owner.last.text
    assert (await Voucher.get(id=voucher.id)).status is V.REDEEMED
    await inst.send("/voucher")  # its ledger: the reward ceiling of Jiangsu art. 30
    assert "创新券实际服务总额（已兑付）：30,000.00 元" in inst.last.text
    assert "可获奖励最高 1,500.00 元" in inst.last.text


async def test_apply_and_refuse_in_english(harness: Harness) -> None:
    c = await cast()
    demand = await rated(c)
    owner, reviewer, inst, _ = await _people(harness, c, "en")
    await _apply(owner, f"{demand.reference} · {demand.title}")
    assert "Please check the application" in owner.last.text
    await owner.press("Back")
    assert "Step 2 of 3" in owner.last.text
    await owner.send(PURPOSE)
    await owner.press("Confirm")
    voucher = await Voucher.get()
    assert f"Voucher application {voucher.reference} sent" in owner.last.text
    assert f"Voucher application {voucher.reference}" in reviewer.last.text
    await reviewer.press("Refuse")
    await reviewer.send("The purpose is not an R&D service.")
    assert "was refused. Reason: The purpose is not an R&D service." in owner.last.text
    assert "was refused" in inst.last.text
    assert (await Voucher.get(id=voucher.id)).status is V.REFUSED
    await owner.send("/voucher")  # refused: the engagement is open for a new application
    assert any("Engagements you may apply" in text for text in _with(owner, "Engagements"))


async def test_bad_presses_change_nothing(harness: Harness) -> None:
    c = await cast()
    demand = await rated(c)
    owner, reviewer, inst, _ = await _people(harness, c)
    stranger = await _person(harness, c.stranger)
    await _apply(owner, f"{demand.reference} · {demand.title}")
    summary_id = owner.last.message_id
    await owner.press("确认提交")
    # A double press of Confirm: the buttons are gone; the old data is refused, one voucher.
    answer = await owner.press_data("vc:c", message_id=summary_id)
    assert answer is not None and "按钮已过期" in answer["text"]
    assert await Voucher.all().count() == 1
    voucher = await Voucher.get()
    review = await Review.get(subject_type="voucher", subject_id=voucher.id)
    await stranger.send("/voucher")
    forged = {
        (stranger, f"vc:n:{demand.id}"): "只有该需求所属企业的用户",
        (stranger, f"vc:w:{voucher.id}"): "不属于您的企业",
        (inst, f"vc:g:{review.id}"): "没有审核这条记录的权限",
        (owner, f"vc:gr:{review.id}"): "没有审核这条记录的权限",
        (owner, "vc:zz:1"): "无法识别这个操作",
        (owner, "vc:w:99999999999"): "无法识别这个操作",
        (owner, "vc:w:999999"): "找不到该创新券",
        (inst, f"vc:r:{voucher.id}"): "当前状态为 applied",
    }
    for (person, data), expected in forged.items():
        answer = await person.press_data(data, message_id=person.last.message_id)
        assert answer is not None and expected in answer["text"], (data, answer)
    assert (await Voucher.get(id=voucher.id)).status is V.APPLIED
    await reviewer.press("发放")
    await reviewer.press("取消")
    assert "已取消" in reviewer.last.text
    assert (await Voucher.get(id=voucher.id)).status is V.APPLIED


async def test_redemption_before_feedback_and_by_a_revoked_institution(
    harness: Harness,
) -> None:
    c = await cast()
    demand = await rated(c)
    owner, reviewer, inst, _ = await _people(harness, c)
    await _apply(owner, f"{demand.reference} · {demand.title}")
    await owner.press("确认提交")
    await reviewer.press("发放")
    await reviewer.press("按申请金额发放 12,000.00 元")
    voucher = await Voucher.get()
    assert voucher.status is V.GRANTED
    await Organization.filter(id=c.inst.organization_id).update(status=OrgStatus.REVOKED)
    await inst.send("/voucher")
    answer = await inst.press_data(f"vc:r:{voucher.id}", message_id=inst.last.message_id)
    assert answer is not None and "不是正常状态" in answer["text"]
    assert (await Voucher.get(id=voucher.id)).status is V.GRANTED


async def test_redemption_waits_for_feedback_in_the_chat(harness: Harness) -> None:
    from models.demand_entities import DemandStatus
    from tests.lifecycle_support import in_status

    c = await cast()
    demand = await in_status(c, DemandStatus.COMPLETED)  # completed, not rated
    owner, reviewer, inst, _ = await _people(harness, c)
    await _apply(owner, f"{demand.reference} · {demand.title}")
    await owner.press("确认提交")
    await reviewer.press("发放")
    await reviewer.send("8000")
    voucher = await Voucher.get()
    await inst.send("/voucher")
    assert _with(inst, "目前没有可以兑付的创新券")
    answer = await inst.press_data(f"vc:r:{voucher.id}", message_id=inst.last.message_id)
    assert answer is not None and "企业尚未评价" in answer["text"]
    assert (await Voucher.get(id=voucher.id)).status is V.GRANTED


async def test_two_reviewers_press_grant_at_once(harness: Harness) -> None:
    c = await cast()
    demand = await rated(c)
    owner, reviewer, _, admin = await _people(harness, c)
    await _apply(owner, f"{demand.reference} · {demand.title}")
    await owner.press("确认提交")
    await reviewer.press("发放")
    await admin.press("发放")
    label = "按申请金额发放 12,000.00 元"
    answers = await asyncio.gather(reviewer.press(label), admin.press(label))
    late = [a for a in answers if a and "已先一步批准" in str(a.get("text"))]
    assert len(late) == 1, answers
    assert await Voucher.filter(status=V.GRANTED).count() == 1
    assert len(_with(owner, "已发放 12,000.00 元")) == 1


async def test_over_the_cap_in_the_chat_quotes_the_room_and_survives_a_restart(
    harness: Harness, database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    # Jiangsu art. 30: a yearly cap per legal entity; here a small one for the enterprise.
    small = load_platform(None)
    small.vouchers.enterprise_cap_per_year = Decimal(5000)
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database, small)
    c = await cast()
    demand = await rated(c)
    owner, reviewer, _, _ = await _people(harness, c)
    await owner.send("/voucher")
    await owner.press(f"{demand.reference} · {demand.title}")
    await owner.send("12000")
    # The bot restarts between two steps: the amount typed is kept.
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database, small)
    await owner.send("/start")
    assert "第 2 步" in owner.last.text
    await owner.send(PURPOSE)
    assert "12,000.00 元" in owner.last.text
    await owner.press("确认提交")
    await reviewer.press("发放")
    await reviewer.press("按申请金额发放 12,000.00 元")
    answer = reviewer.callback_answers[-1]
    assert "超出企业年度上限" in answer["text"] and "剩余额度 5,000.00 元" in answer["text"]
    await reviewer.send("6000")
    assert "剩余额度 5,000.00 元" in reviewer.last.text
    assert (await Voucher.get()).status is V.APPLIED
    await reviewer.send("5000")
    assert "已发放 5,000.00 元" in owner.last.text
    await owner.send("/voucher")
    assert "剩余 0.00 元" in owner.last.text
