"""The market through the chat: recommendation, browsing, offers, acceptance, withdrawal, /my.

Privacy (PIPL, DESIGN §2) is asserted on what an institution sees: never the owner's name,
organisation or phone before the owner accepts its offer.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from aiohttp.test_utils import TestServer

from bot.config import load_platform
from bot.emulator import BotAPIEmulator, EmulatedUser
from handlers.context import NOTIFIER
from models import market, review
from models.demand_entities import Demand, DemandStatus, Engagement, Intent, IntentStatus
from models.entities import (
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Review,
    ReviewCard,
    Role,
    User,
)
from models.events import DemandPublished, Event
from tests.conftest import ADMIN_ID, Harness, make_staff, start_bot, stop_bot
from tests.demand_support import (
    PLATFORM,
    TODAY,
    make_assistant,
    make_member,
    submitted_demand,
)

OWNER_ORG = "如皋市星火科技有限公司"
PROPOSAL = "我们有傅里叶红外光谱仪，三天出报告。"


async def _publish(harness: Harness, events: list[Event]) -> None:
    await harness.application.bot_data[NOTIFIER].publish(events)


async def _person(harness: Harness, user: User, lang: str = "zh-CN") -> EmulatedUser:
    """The chat side of a user made in the database; /start so the bot may write to them."""
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


async def _published(harness: Harness, owner: User, **changes: object) -> Demand:
    """Submit and approve a demand, then announce it as the review card would (recommendations
    included). Only DemandPublished is published: the test reviewer holds no real card."""
    demand = await submitted_demand(owner, **changes)
    reviewer = await User.get_or_none(id=301) or await make_staff(301, Role.REVIEWER, "王审核")
    waiting = await Review.get(subject_type="demand", subject_id=demand.id, status="pending")
    await ReviewCard.update_or_create(
        review_id=waiting.id,
        reviewer_id=reviewer.id,
        defaults={"message_id": 1, "checklist": list(review.CHECKLIST)},
    )
    events = await review.decide(
        waiting.id, reviewer.id, approve=True, reason=None, platform=PLATFORM
    )
    await _publish(harness, [e for e in events if isinstance(e, DemandPublished)])
    return await Demand.get(id=demand.id)


async def _owner(harness: Harness, lang: str = "zh-CN") -> tuple[User, EmulatedUser]:
    user = await make_member(401, "张伟", Role.ENTERPRISE, OWNER_ORG, language_code=lang)
    return user, await _person(harness, user, lang)


async def _institution(
    harness: Harness,
    user_id: int,
    name: str,
    org: str,
    *,
    fields: tuple[str, ...] = ("testing",),
    township: str = "chengnan",
    tier: InstitutionTier = InstitutionTier.SERVICE,
    lang: str = "zh-CN",
) -> tuple[User, EmulatedUser]:
    user = await make_member(
        user_id,
        name,
        Role.INSTITUTION,
        org,
        service_fields=list(fields),
        township=township,
        tier=tier,
        language_code=lang,
    )
    return user, await _person(harness, user, lang)


def _with(person: EmulatedUser, text: str) -> list[str]:
    return [m.text for m in person.messages if text in m.text]


async def _offer_through_chat(
    person: EmulatedUser, reference: str, quote: str | None, lang: str = "zh"
) -> None:
    help_label, skip, confirm = (
        ("我能承接", "跳过", "确认提交") if lang == "zh" else ("I can help", "Skip", "Confirm")
    )
    recommendation = next(m for m in reversed(person.messages) if reference in m.text)
    await person.press(help_label, message_id=recommendation.message_id)
    await person.send(PROPOSAL)
    if quote is None:
        await person.press(skip)
    else:
        await person.send(quote)
    await person.press(confirm)


async def test_publishing_recommends_to_serving_institutions_only(harness: Harness) -> None:
    owner, zhang = await _owner(harness)
    _, li = await _institution(harness, 501, "李检测", "南通检测中心")
    _, cultivating = await _institution(
        harness, 502, "周培育", "培育检测所", tier=InstitutionTier.CULTIVATING
    )
    _, other = await _institution(harness, 503, "吴专利", "专利代理所", fields=("ip",))
    _, bob = await _institution(harness, 504, "Bob", "Testing Lab", township="jiuhua", lang="en")
    demand = await _published(harness, owner)
    text = li.last.text
    assert demand.reference in text and "红外光谱检测" in text and "检验检测" in text
    assert "5 万元以下" in text and "城南街道" in text and "高分子材料" in text
    for secret in ("张伟", "星火科技", "13800000401", "138****0401"):
        assert secret not in text
    assert li.last.buttons[0][0]["text"] == "🙋 我能承接"
    assert li.last.buttons[0][0]["callback_data"] == f"mk:h:{demand.id}"
    assert "I can help" in bob.last.buttons[0][0]["text"] and "Testing and inspection" in (
        bob.last.text
    )
    assert _with(cultivating, demand.reference) == []
    assert _with(other, demand.reference) == []
    # A cultivating institution that finds the demand anyway is refused (Shenyang art. 7).
    answer = await cultivating.press_data(
        f"mk:h:{demand.id}", message_id=cultivating.last.message_id
    )
    assert answer is not None and "培育库" in answer["text"]
    assert zhang.messages  # the owner's own news is the submission area's


async def test_ranking_prefers_the_same_township(
    harness: Harness, database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    only_one = load_platform(None)
    only_one.demands.recommend_max = 1
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database, only_one)
    owner, _ = await _owner(harness)
    # The elder institution (lower id) would win every tie; the township must come first.
    _, far = await _institution(harness, 501, "陈远", "九华检测站", township="jiuhua")
    _, near = await _institution(harness, 502, "李检测", "城南检测中心", township="chengnan")
    demand = await _published(harness, owner)
    assert _with(near, demand.reference)
    assert _with(far, demand.reference) == []


async def test_offers_with_and_without_quote_then_accept_exchanges_contacts(
    harness: Harness,
) -> None:
    owner, zhang = await _owner(harness)
    _, li = await _institution(harness, 501, "李检测", "南通检测中心")
    _, wu = await _institution(harness, 502, "吴工", "苏中分析测试所")
    demand = await _published(harness, owner)
    ref = demand.reference
    recommendation = li.last
    await li.press("我能承接", message_id=recommendation.message_id)
    assert "第 1 步，共 2 步" in li.last.text and ref in li.last.text
    await li.send("太短")
    assert "至少 5" in li.messages[-2].text
    await li.send(PROPOSAL)
    assert "第 2 步，共 2 步" in li.last.text
    await li.send("五万")
    assert "正数金额" in li.messages[-2].text
    await li.send("50000")
    assert "50,000.00 元" in li.last.text and PROPOSAL in li.last.text
    await li.press("确认提交")
    assert "已提交" in li.last.text
    card = zhang.last
    for shown in (
        "南通检测中心",
        "服务机构",
        "暂无评价",
        "已完成服务：0 项",
        PROPOSAL,
        "50,000.00",
    ):
        assert shown in card.text, shown
    await _offer_through_chat(wu, ref, None)
    assert "未报价" in zhang.last.text and "苏中分析测试所" in zhang.last.text
    assert await Intent.filter(demand_id=demand.id).count() == 2
    assert (await Intent.get(institution__name="南通检测中心")).quote == Decimal("50000")
    # Before acceptance nobody on the institution side saw the owner.
    assert not any("张伟" in m.text or "13800000401" in m.text for m in li.messages)
    await zhang.press("✅ 接受", message_id=card.message_id)
    assert (await Demand.get(id=demand.id)).status is DemandStatus.MATCHED
    edited = next(m for m in zhang.messages if m.message_id == card.message_id)
    assert "已接受" in edited.text and edited.buttons == []
    matched = zhang.last.text
    assert "李检测" in matched and "+8613800000501" in matched and "南通检测中心" in matched
    told = li.last.text
    assert "张伟" in told and "+8613800000401" in told and OWNER_ORG in told and ref in told
    assert "已选择其他机构" in wu.last.text and "张伟" not in wu.last.text
    await wu.send("/my")
    assert "我方意向：已关闭" in wu.last.text and "联系需求方" not in wu.last.text
    # The other offer's Accept now does nothing but say so.
    other_card = next(m for m in zhang.messages if "苏中分析测试所" in m.text)
    answer = await zhang.press("✅ 接受", message_id=other_card.message_id)
    assert answer is not None and "已处理过" in answer["text"]
    assert await Engagement.filter(demand_id=demand.id).count() == 1


async def test_help_twice_and_confirm_twice_make_one_intent(harness: Harness) -> None:
    owner, zhang = await _owner(harness)
    _, li = await _institution(harness, 501, "李检测", "南通检测中心")
    demand = await _published(harness, owner)
    recommendation = li.last.message_id
    await li.press("我能承接", message_id=recommendation)
    await li.send(PROPOSAL)
    await li.press("我能承接", message_id=recommendation)  # carries on at the quote step
    assert "第 2 步" in li.last.text
    await li.press("跳过")
    answers = await asyncio.gather(li.press("确认提交"), li.press("确认提交"))
    assert await Intent.filter(demand_id=demand.id).count() == 1
    refused = [a for a in answers if a and a.get("text")]
    assert len(refused) == 1
    assert "表达过承接意向" in refused[0]["text"] or "已过期" in refused[0]["text"]
    assert len(_with(zhang, "收到接单意向")) == 1
    again = await li.press("我能承接", message_id=recommendation)
    assert again is not None and "表达过承接意向" in again["text"]
    assert await Intent.filter(demand_id=demand.id).count() == 1


async def test_two_accepts_at_once_match_once(harness: Harness) -> None:
    owner, zhang = await _owner(harness)
    li_user, _ = await _institution(harness, 501, "李检测", "南通检测中心")
    wu_user, _ = await _institution(harness, 502, "吴工", "苏中分析测试所")
    demand = await _published(harness, owner)
    for who in (li_user, wu_user):
        await _publish(harness, await market.offer(demand.id, who, PROPOSAL, None))
    cards = [m.message_id for m in zhang.messages if "收到接单意向" in m.text]
    answers = await asyncio.gather(*(zhang.press("✅ 接受", message_id=card) for card in cards))
    assert sum(bool(a and "已处理过" in a.get("text", "")) for a in answers) == 1
    assert await Engagement.filter(demand_id=demand.id).count() == 1
    statuses = sorted(i.status.value for i in await Intent.filter(demand_id=demand.id))
    assert statuses == ["accepted", "closed"]
    assert len(_with(zhang, "对接成功")) == 1


async def test_forged_accept_by_a_stranger_changes_nothing(harness: Harness) -> None:
    owner, _ = await _owner(harness)
    li_user, li = await _institution(harness, 501, "李检测", "南通检测中心")
    demand = await _published(harness, owner)
    await market.offer(demand.id, li_user, PROPOSAL, None)
    intent = await Intent.get(demand_id=demand.id)
    stranger_user = await make_member(402, "赵六", Role.ENTERPRISE, "别家公司")
    stranger = await _person(harness, stranger_user)
    for person in (stranger, li):
        answer = await person.press_data(f"mk:a:{intent.id}", message_id=person.last.message_id)
        assert answer is not None and "不是您的需求" in answer["text"]
    forged = await stranger.press_data("mk:a:abc", message_id=stranger.last.message_id)
    assert forged is not None and "无法识别" in forged["text"]
    missing = await stranger.press_data("mk:d:999999", message_id=stranger.last.message_id)
    assert missing is not None and "找不到" in missing["text"]
    assert (await Intent.get(id=intent.id)).status is IntentStatus.PENDING
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED


async def test_decline_tells_the_institution_politely_in_english(harness: Harness) -> None:
    owner, alice = await _owner(harness, lang="en")
    _, bob = await _institution(harness, 501, "Bob", "Testing Lab", lang="en")
    demand = await _published(harness, owner)
    assert "I can help" in bob.last.buttons[0][0]["text"]
    await _offer_through_chat(bob, demand.reference, "12,000.5", lang="en")
    assert "Your offer was sent" in bob.last.text
    card = alice.last
    assert "12,000.50 yuan" in card.text and "service institution" in card.text
    await alice.press("❌ Decline")
    assert "declined" in next(m for m in alice.messages if m.message_id == card.message_id).text
    assert "did not choose your proposal" in bob.last.text and demand.reference in bob.last.text
    assert (await Intent.get(demand_id=demand.id)).status is IntentStatus.DECLINED
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED


async def test_withdraw_with_offers_tells_the_institutions(harness: Harness) -> None:
    owner, zhang = await _owner(harness)
    li_user, li = await _institution(harness, 501, "李检测", "南通检测中心")
    demand = await _published(harness, owner)
    await market.offer(demand.id, li_user, PROPOSAL, None)
    await zhang.send(f"/demand {demand.reference}")
    assert "已发布" in zhang.last.text and "待处理的接单意向：1 条" in zhang.last.text
    await zhang.press("查看接单意向")
    assert "南通检测中心" in zhang.last.text
    await zhang.send(f"/demand {demand.reference.lower()}")
    await zhang.press("🗑 撤回需求")
    assert "确定撤回" in zhang.last.text
    await zhang.press("不撤回")
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED
    await zhang.send(f"/demand {demand.reference}")
    await zhang.press("🗑 撤回需求")
    await zhang.press("确定撤回")
    assert "已撤回" in zhang.last.text
    assert (await Demand.get(id=demand.id)).status is DemandStatus.WITHDRAWN
    assert "已被需求方撤回" in li.last.text and demand.reference in li.last.text
    # The institution's old "I can help" now says the demand takes no more offers.
    later = await li.press_data(f"mk:h:{demand.id}", message_id=li.last.message_id)
    assert later is not None and "不再接受" in later["text"]


async def test_expiry_tells_the_owner_and_the_institutions(harness: Harness) -> None:
    owner, zhang = await _owner(harness)
    li_user, li = await _institution(harness, 501, "李检测", "南通检测中心")
    demand = await _published(harness, owner, wanted_by=(TODAY + timedelta(days=2)).isoformat())
    await market.offer(demand.id, li_user, PROPOSAL, None)
    await _publish(harness, await market.expire_due(TODAY + timedelta(days=3)))
    assert (await Demand.get(id=demand.id)).status is DemandStatus.EXPIRED
    assert "已过期望完成日期" in zhang.last.text and demand.reference in zhang.last.text
    assert "已过期限" in li.last.text


async def test_my_and_demand_show_only_what_each_may_see(harness: Harness) -> None:
    owner, zhang = await _owner(harness)
    li_user, li = await _institution(harness, 501, "李检测", "南通检测中心")
    _, other = await _institution(harness, 503, "吴专利", "专利代理所", fields=("ip",))
    demand = await _published(harness, owner)
    ref = demand.reference
    await _publish(harness, await market.offer(demand.id, li_user, PROPOSAL, None))
    await zhang.send("/my")
    assert ref in zhang.last.text and "已发布" in zhang.last.text
    assert "有 1 条接单意向待您决定" in zhang.last.text
    await li.send("/my")
    assert ref in li.last.text and "等待需求方决定" in li.last.text
    await li.press(f"🔎 {ref}")
    assert ref in li.last.text and "张伟" not in li.last.text and OWNER_ORG not in li.last.text
    # Any serving institution sees a published demand, anonymously.
    await other.send(f"/demand {ref}")
    assert "红外光谱检测" in other.last.text and "张伟" not in other.last.text
    stranger = await _person(harness, await make_member(402, "赵六", Role.ENTERPRISE, "别家公司"))
    await stranger.send(f"/demand {ref}")
    assert "找不到这条需求" in stranger.last.text
    await stranger.send("/demand D2026-999999")
    assert "找不到这条需求" in stranger.last.text
    await stranger.send("/my")
    assert "还没有需求" in stranger.last.text
    admin = harness.person(ADMIN_ID, "刘管理")
    await admin.send(f"/demand {ref}")
    assert OWNER_ORG in admin.last.text and "138****0401" in admin.last.text
    assert "13800000401" not in admin.last.text
    # After the match: the matched institution sees the owner, the other one sees nothing.
    await zhang.press("✅ 接受")
    await li.send(f"/demand {ref}")
    assert "已对接" in li.last.text and "张伟" in li.last.text and OWNER_ORG in li.last.text
    await other.send(f"/demand {ref}")
    assert "找不到这条需求" in other.last.text
    await zhang.send(f"/demand {ref}")
    assert "撤回需求" in str(zhang.last.buttons)  # matched, no contract yet: still open


async def test_browse_pages_and_filters(harness: Harness) -> None:
    owner, _ = await _owner(harness)
    _, li = await _institution(harness, 501, "李检测", "南通检测中心", fields=("rnd_design",))
    for n in range(6):
        await _published(harness, owner, title=f"检测需求第{n}号")
    await _published(harness, owner, title="专利布局咨询", category="ip", township="jiuhua")
    await li.send("/demands")
    assert "第 1–5 条，共 7 条" in li.last.text and "张伟" not in li.last.text
    assert "专利布局咨询" in li.last.text  # newest first
    await li.press("下一页")
    assert "第 6–7 条，共 7 条" in li.last.text
    await li.press("📂 类别")
    await li.press("知识产权")
    assert "第 1–1 条，共 1 条" in li.last.text and "专利布局咨询" in li.last.text
    await li.press("📍 地区")
    await li.press("城南街道")
    assert "暂时没有符合条件的需求" in li.last.text
    forged = await li.press_data("mk:b:nonsense:-:0")
    assert forged is not None and "无法识别" in forged["text"]
    await li.press("📂 类别")
    await li.press("全部")
    await li.press("我能承接第 1 条")
    assert "第 1 步" in li.last.text
    zhang_user = await User.get(id=401)
    enterprise = harness.person(zhang_user.id, "张伟")
    await enterprise.send("/demands")
    assert "只有已通过审核的服务机构" in enterprise.last.text


async def test_research_teams_offer_help_and_are_matched(harness: Harness) -> None:
    """DESIGN §1: university research teams browse the demands and express intent too."""
    owner, zhang = await _owner(harness)
    demand = await _published(harness, owner)
    team = await _person(
        harness, await make_member(601, "钱教授", Role.RESEARCH, "南通大学课题组")
    )
    await team.send("/demands")
    assert demand.reference in team.last.text and "张伟" not in team.last.text
    await team.press("我能承接第 1 条")
    await team.send(PROPOSAL)
    await team.press("跳过")
    await team.press("确认提交")
    assert "已提交" in team.last.text
    card = zhang.last
    assert "南通大学课题组" in card.text and "高校科研团队" in card.text
    await zhang.press("✅ 接受", message_id=card.message_id)
    matched = await Demand.get(id=demand.id)
    assert matched.status is DemandStatus.MATCHED
    assert matched.matched_institution_id == (await User.get(id=601)).organization_id
    assert "张伟" in team.last.text and "+8613800000401" in team.last.text
    assert "钱教授" in zhang.last.text
    await team.send("/my")
    assert demand.reference in team.last.text and "我方意向：已被接受" in team.last.text


async def test_intent_flow_survives_a_restart(
    harness: Harness, database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    owner, zhang = await _owner(harness)
    _, li = await _institution(harness, 501, "李检测", "南通检测中心")
    demand = await _published(harness, owner)
    await li.press("我能承接")
    await li.send(PROPOSAL)
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database)
    await li.send("/start")
    assert "第 2 步" in li.last.text
    await li.send("8000")
    await li.press("⬅️ 返回")  # back to the quote, the proposal kept
    await li.send("9000")
    assert "9,000.00 元" in li.last.text and PROPOSAL in li.last.text
    await li.press("确认提交")
    assert (await Intent.get(demand_id=demand.id)).quote == Decimal("9000")
    assert "9,000.00 元" in zhang.last.text


async def test_relayed_demand_offers_go_to_the_assistant_and_withdrawal_after_match(
    harness: Harness,
) -> None:
    assistant_user = await make_assistant(701, "孙助理")
    sun = await _person(harness, assistant_user)
    enterprise = await Organization.create(
        name="白蒲小微企业", kind=OrgKind.ENTERPRISE, township="chengnan", status=OrgStatus.ACTIVE
    )
    li_user, li = await _institution(harness, 501, "李检测", "南通检测中心")
    demand = await _published(harness, assistant_user, enterprise=enterprise.id)
    await _publish(harness, await market.offer(demand.id, li_user, PROPOSAL, None))
    assert "南通检测中心" in sun.last.text
    await sun.press("✅ 接受")
    assert "+8613800000501" in sun.last.text
    assert "白蒲小微企业" in li.last.text and "孙助理" in li.last.text
    await sun.send(f"/demand {demand.reference}")
    await sun.press("🗑 撤回需求")
    await sun.press("确定撤回")
    assert "已被需求方撤回" in li.last.text
    assert (await Demand.get(id=demand.id)).status is DemandStatus.WITHDRAWN
