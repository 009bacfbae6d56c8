"""Institution tiers and sanctions through the chat: what admins, representatives and
objectors see (Shenyang art. 7, Rugao art. 21). The state machines are in test_institutions.py.
"""

from __future__ import annotations

from datetime import timedelta

from bot.emulator import EmulatedUser
from handlers.context import NOTIFIER
from models import tiers
from models.demand_entities import Demand
from models.entities import InstitutionTier, Organization, OrgStatus, Role, User
from models.events import DemandPublished, Event
from models.institution_entities import TierPromotion
from tests.conftest import ADMIN_ID, Harness, make_staff
from tests.demand_support import make_member, matched_demand, published_demand

NOTE = "多次被投诉，经核查属实。"


async def _publish(harness: Harness, events: list[Event]) -> None:
    await harness.application.bot_data[NOTIFIER].publish(events)


async def _person(harness: Harness, user: User, lang: str = "zh-CN") -> EmulatedUser:
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


def _by_id(person: EmulatedUser, message_id: int) -> str:
    return next(m.text for m in person.messages if m.message_id == message_id)


def _with(person: EmulatedUser, text: str) -> list[str]:
    return [m.text for m in person.messages if text in m.text]


async def test_admin_promotes_objection_upheld_then_notice_without_objection(
    harness: Harness,
) -> None:
    await make_staff(ADMIN_ID, Role.ADMIN, "周管理")
    admin = await _person(harness, await User.get(id=ADMIN_ID))
    rep_user = await make_member(
        301, "张工", Role.INSTITUTION, "南通检测中心", tier=InstitutionTier.CULTIVATING
    )
    await make_member(302, "赵工", Role.INSTITUTION, "苏州技术转移中心")
    rep = await _person(harness, rep_user)
    owner = await _person(
        harness, await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    )
    await admin.send("/tier")
    assert "共 2 家服务机构" in admin.last.text
    await admin.press("南通检测中心 · 培育库 · 正常")
    assert "南通检测中心" in admin.last.text and "级别：培育库" in admin.last.text
    card_id = admin.last.message_id
    await admin.press("⬆️ 晋升为服务机构")
    assert "✅ 南通检测中心 现为：服务机构。" in admin.last.text
    assert "已晋升为：服务机构" in rep.last.text
    # The voucher tier opens a public notice (公示); nothing changes yet.
    await admin.press("⬆️ 晋升为创新券服务机构", message_id=card_id)
    assert "已发起公示" in _by_id(admin, card_id)
    assert "公示至" in admin.last.text  # every admin hears of the notice
    assert "公示期" in rep.last.text
    org = await Organization.get(id=rep_user.organization_id)
    assert org.tier is InstitutionTier.SERVICE
    # Any active user objects; the admin upholds; the promotion is cancelled.
    await owner.send("/object")
    assert "南通检测中心" in owner.last.text
    await owner.press("🙅 提出异议")
    await owner.send("短")
    assert "至少 5 个字符" in owner.last.text
    await owner.send("该机构检测报告造假。")
    assert "已提交异议" in owner.last.text
    card = admin.last
    assert "该机构检测报告造假。" in card.text and "王经理" in card.text
    await admin.press("✅ 异议成立", message_id=card.message_id)
    decided = next(m for m in admin.messages if m.message_id == card.message_id)
    assert "处理人：周管理" in decided.text and decided.button_labels() == []
    assert "异议" in owner.last.text and "晋级已取消" in owner.last.text
    assert "已取消" in rep.last.text and "保持原级别" in rep.last.text
    await owner.send("/object")
    assert "目前没有公示中的机构" in owner.last.text
    # A second notice, no objection: the daily job promotes it when it ends.
    await admin.send("/tier 南通")
    await admin.press("⬆️ 晋升为创新券服务机构")
    promotion = await TierPromotion.get(organization_id=org.id, status="notice")
    early = promotion.notice_ends_on - timedelta(days=1)
    assert await tiers.close_notices(early) == []
    await _publish(harness, await tiers.close_notices(promotion.notice_ends_on))
    assert "期满无异议" in rep.last.text and "创新券服务机构" in rep.last.text
    assert (await Organization.get(id=org.id)).tier is InstitutionTier.VOUCHER


async def test_suspend_reinstate_revoke_and_the_revoked_may_not_help(harness: Harness) -> None:
    admin_user = await make_staff(ADMIN_ID, Role.ADMIN, "周管理")
    admin = await _person(harness, admin_user)
    reviewer = await make_staff(201, Role.REVIEWER, "李审核")
    rep_user = await make_member(
        301, "Zhang", Role.INSTITUTION, "Nantong Testing", service_fields=["testing"],
        language_code="en",
    )  # fmt: skip
    rep = await _person(harness, rep_user, "en")
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    await _person(harness, owner)
    engaged = await matched_demand(owner, reviewer, rep_user)
    demand = await published_demand(owner, reviewer, category="testing")
    await _publish(harness, [DemandPublished(demand.id)])
    recommendation = rep.last
    assert demand.reference in recommendation.text
    # Suspend, citing Rugao art. 21 (4), with a note.
    await admin.send("/tier Nantong")
    await admin.press("⏸ 暂停服务")
    assert "如皋实施细则第二十一条" in admin.last.text
    assert len(admin.last.button_labels()) == 9  # seven grounds, other, back
    await admin.press("（四）虚假注册信息或虚假服务内容")
    await admin.send(NOTE)
    assert _with(admin, "状态：已暂停") and _with(admin, "已暂停 Nantong Testing 的服务")
    told = rep.last.text
    assert "suspended" in told and "(4) False registration" in told and NOTE in told
    [flagged] = _with(admin, "engagement(s)") or _with(admin, "进行中的合作")
    assert engaged.reference in flagged and demand.reference not in flagged
    # Reinstate, then revoke for another reason, typed.
    card = next(m for m in reversed(admin.messages) if "状态：已暂停" in m.text)
    await admin.press("▶️ 恢复服务", message_id=card.message_id)
    assert "状态：正常" in _by_id(admin, card.message_id) and "reinstated" in rep.last.text
    await admin.press("⛔ 取消资格", message_id=card.message_id)
    await admin.press("其他理由（请输入）")
    await admin.send("拒不整改问题")
    await admin.send(NOTE)
    revoked = next(m for m in reversed(admin.messages) if "状态：已取消资格" in m.text)
    assert revoked.button_labels() == []
    assert "revoked" in rep.last.text and "拒不整改问题" in rep.last.text
    org = await Organization.get(id=rep_user.organization_id)
    assert org.status is OrgStatus.REVOKED
    # The old recommendation's "I can help" is refused politely.
    answer = await rep.press("🙋 I can help", message_id=recommendation.message_id)
    assert answer is not None and "cannot take on demands" in answer["text"]
    assert (await Demand.get(id=demand.id)).status.value == "published"


async def test_only_admins_manage_institutions_and_forged_buttons_change_nothing(
    harness: Harness,
) -> None:
    rep_user = await make_member(301, "张工", Role.INSTITUTION, "南通检测中心")
    rep = await _person(harness, rep_user)
    await rep.send("/tier")
    assert "只有管理员" in rep.last.text
    await rep.send("/object")
    assert "目前没有公示中的机构" in rep.last.text
    answer = await rep.press_data(
        f"in:t:{rep_user.organization_id}:voucher", message_id=rep.last.message_id
    )
    assert answer is not None and "只有管理员" in answer["text"]
    assert (await Organization.get(id=rep_user.organization_id)).tier is InstitutionTier.SERVICE
