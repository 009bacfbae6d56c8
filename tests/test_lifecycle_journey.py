"""The whole demand lifecycle played through the chat, as its people would (issue #3).

Once the people exist (active users of active organisations, as registration and invites
leave them), nothing goes through the domain: every step is a message or a button press,
and every check is what someone reads, then what the database kept. Both databases.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from bot.emulator import BotAPIEmulator, EmulatedUser
from models.demand_entities import Demand, DemandStatus, Engagement, Feedback
from models.entities import AuditLog, InstitutionTier, Organization, Role, User
from tests.conftest import TOKEN, Harness, make_staff
from tests.demand_support import make_assistant, make_member
from tests.factories import VALID_CODE, credit_code, register_enterprise
from tests.journey_support import (
    EN,
    PDF,
    ZH,
    Seen,
    Words,
    approve,
    current,
    file_contract,
    in_language,
    offer_help,
    rate,
    relay_demand,
    submit_demand,
    with_text,
)

S = DemandStatus


@pytest.fixture
async def emulator_server() -> AsyncIterator[tuple[BotAPIEmulator, TestServer]]:
    """Conftest's emulator with the bot-wide limit raised: a journey sends a hundred messages
    in a second or two, faster than people act (as in tests/test_engagement_flow.py)."""
    emulator = BotAPIEmulator(chat_rate=30, chat_burst=30, global_rate=300)
    emulator.add_bot(TOKEN, username="innobridge_test_bot")
    server = TestServer(emulator.make_app())
    await server.start_server()
    yield emulator, server
    await server.close()


async def _started(harness: Harness, user: User, lang: str) -> EmulatedUser:
    """The chat of a user made in the database, started (the bot may write only then)."""
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


def _about(seen: Seen, ref: str, w: Words, person: EmulatedUser) -> list[str]:
    """What `person` got since the last look: every message names the demand, in their
    language. Returns the texts."""
    news = seen.news(person)
    for message in news:
        assert ref in message.text, message.text
        assert in_language(message, w.code), message.text
    return [m.text for m in news]


async def _trail(demand: Demand) -> list[tuple[str, str | None, int | None]]:
    """The demand's status changes from the audit log: (status, replaced status, actor)."""
    rows = await AuditLog.filter(
        subject_type="demand", subject_id=str(demand.id), action__startswith="demand."
    ).order_by("id")
    return [
        (r.action.removeprefix("demand."), (r.before or {}).get("status"), r.actor_id)
        for r in rows
    ]


async def _journey(harness: Harness, w: Words, names: tuple[str, str, str, str, str]) -> None:
    """Enterprise → reviewer → institution → accept → contract → deliver → complete → rate."""
    reviewer_name, owner_name, owner_org, inst_name, inst_org = names
    reviewer = await _started(harness, await make_staff(301, Role.REVIEWER, reviewer_name), w.code)
    owner_user = await make_member(
        401, owner_name, Role.ENTERPRISE, owner_org, language_code=w.code
    )
    inst_user = await make_member(
        501,
        inst_name,
        Role.INSTITUTION,
        inst_org,
        service_fields=["testing"],
        language_code=w.code,
    )
    owner = await _started(harness, owner_user, w.code)
    inst = await _started(harness, inst_user, w.code)
    seen = Seen()
    seen.skip(reviewer, owner, inst)

    # 1. The enterprise user submits through every step of /new.
    await submit_demand(owner, w)
    demand = await Demand.get()
    ref = demand.reference
    assert re.fullmatch(rf"D{demand.created_at.year}-\d{{6}}", ref)
    summary = owner.messages[-2]
    wanted = demand.wanted_by.isoformat()
    for shown in (w.title, w.category, w.budget, wanted, w.township, "spec.pdf"):
        assert shown in summary.text, shown
    assert summary.buttons == []  # confirmed once, for good
    assert w.submitted in owner.last.text and ref in owner.last.text
    seen.skip(owner)  # the questions of /new came before there was a reference

    # 2. The reviewer gets the card, ticks the three checks, approves.
    (card_text,) = _about(seen, ref, w, reviewer)
    for shown in (w.title, w.category, owner_org):
        assert shown in card_text, shown
    card = await approve(reviewer, ref, w)
    assert w.approved_by in current(reviewer, card).text
    assert current(reviewer, card).buttons == []
    (published,) = _about(seen, ref, w, owner)

    # 3. The serving institution is recommended the demand, anonymously, and offers help.
    (recommendation,) = _about(seen, ref, w, inst)
    for secret in (owner_name, owner_org, "0401"):
        assert secret not in recommendation
    assert inst.last.button_labels() == [w.help]
    await offer_help(inst, ref, w, "30000")
    assert len(_about(seen, ref, w, inst)) == 4  # two questions, the summary, the receipt
    (offer,) = _about(seen, ref, w, owner)
    assert inst_org in offer and "30,000.00" in offer and w.proposal in offer

    # 4. The owner accepts from the offer card; contacts go both ways.
    offer_card = owner.last
    assert offer_card.button_labels()[:1] == [w.accept]
    await owner.press(w.accept, message_id=offer_card.message_id)
    assert w.accepted in current(owner, offer_card).text
    assert current(owner, offer_card).buttons == []
    (matched,) = _about(seen, ref, w, owner)
    assert inst_name in matched and "+8613800000501" in matched
    (chosen,) = _about(seen, ref, w, inst)
    assert owner_name in chosen and owner_org in chosen and "+8613800000401" in chosen
    assert owner.last.button_labels() == inst.last.button_labels() == [w.contract]

    # 5. The institution files the contract in the chat; the owner and the reviewer see it.
    await file_contract(inst, ref, w, voucher=w.no, by_button=True)
    filing = _about(seen, ref, w, inst)
    assert len(filing) == 6  # four questions, the summary, the receipt
    assert "30000.00" in filing[-2] and "contract.pdf" in filing[-2]
    (filed,) = _about(seen, ref, w, owner)
    assert inst_org in filed and "30000.00" in filed
    (contract_card,) = _about(seen, ref, w, reviewer)
    assert inst_org in contract_card and "30,000.00" in contract_card
    await reviewer.press(w.acknowledge, message_id=reviewer.last.message_id)
    assert current(reviewer, reviewer.last).buttons == []
    (acknowledged,) = _about(seen, ref, w, owner)
    assert w.acknowledged in acknowledged
    (go_ahead,) = _about(seen, ref, w, inst)
    assert w.acknowledged in go_ahead and inst.last.button_labels() == [w.delivered]

    # 6. The institution marks delivered from that button; the owner confirms completion.
    await inst.press(w.delivered)
    assert inst.messages[-2].buttons == []
    assert len(_about(seen, ref, w, inst)) == 1
    (delivered,) = _about(seen, ref, w, owner)
    assert inst_org in delivered
    assert owner.last.button_labels() == [w.complete, w.dispute]
    await owner.press(w.complete)
    (done, rate_please) = _about(seen, ref, w, owner)
    assert owner.last.button_labels() == [w.rate]
    (completed,) = _about(seen, ref, w, inst)

    # 7. The owner rates the service; the institution reads its scores.
    await rate(owner, w)
    assert len(_about(seen, ref, w, owner)) == 8  # six questions, the summary, the thanks
    (scores,) = _about(seen, ref, w, inst)
    assert w.scores_seen in scores and w.outcome in scores and w.comment in scores
    assert _about(seen, ref, w, reviewer) == []

    # Everything everyone read was in their language.
    for person in (reviewer, owner, inst):
        for message in person.messages:
            assert in_language(message, w.code), message.text

    # What the database kept.
    demand = await Demand.get(id=demand.id)
    assert demand.status is S.COMPLETED
    assert demand.matched_institution_id == inst_user.organization_id
    assert [a["name"] for a in demand.attachments] == ["spec.pdf"]
    engagement = await Engagement.get(demand_id=demand.id)
    assert engagement.contract_sha256 == hashlib.sha256(PDF + b"signed").hexdigest()
    assert str(engagement.amount) == "30000.00" and engagement.voucher is False
    rating = await Feedback.get(engagement_id=engagement.id)
    assert (rating.overall, rating.quality, rating.timeliness, rating.professionalism) == (
        5,
        4,
        5,
        4,
    )
    assert rating.outcome.value == "solved" and rating.comment == w.comment
    assert await _trail(demand) == [
        ("submitted", None, 401),
        ("published", "submitted", 301),
        ("matched", "published", 401),
        ("contracted", "matched", 501),
        ("delivered", "contracted", 501),
        ("completed", "delivered", 401),
    ]


async def test_whole_lifecycle_in_chinese(harness: Harness) -> None:
    await _journey(
        harness, ZH, ("王审核", "张伟", "如皋市星火科技有限公司", "李检测", "南通检测中心")
    )


async def test_whole_lifecycle_in_english(harness: Harness) -> None:
    await _journey(harness, EN, ("Wang", "Alice", "Acme Polymers", "Bob", "Nantong Test Lab"))


async def _relay_cast(harness: Harness) -> tuple[EmulatedUser, EmulatedUser, EmulatedUser]:
    """A reviewer, the assistant of Chengnan and a testing institution, all started."""
    reviewer = await _started(harness, await make_staff(301, Role.REVIEWER, "王审核"), "zh-CN")
    assistant = await _started(harness, await make_assistant(701, "孙助理"), "zh-CN")
    inst_user = await make_member(
        501,
        "李检测",
        Role.INSTITUTION,
        "南通检测中心",
        service_fields=["testing"],
        tier=InstitutionTier.VOUCHER,  # the contract uses an innovation voucher
    )
    return reviewer, assistant, await _started(harness, inst_user, "zh-CN")


async def test_relay_path_end_to_end(harness: Harness) -> None:
    """An assistant relays for an enterprise that will never open the bot, and follows the
    demand for it to the end: the owner side of every step is the assistant."""
    w = ZH
    reviewer, assistant, inst = await _relay_cast(harness)
    await assistant.send("/help")
    assert "/township" in assistant.last.text and "/contract" in assistant.last.text
    await assistant.send("/new")
    assert "还没有登记的企业" in assistant.last.text
    assert assistant.last.button_labels() == ["➕ 新增企业", "✖️ 取消"]
    await assistant.press("✖️ 取消")
    seen = Seen()
    seen.skip(reviewer, assistant, inst)

    code = credit_code("91320682MA7X0001")
    await relay_demand(assistant, w.title, enterprise="如皋市东风纺织有限公司", new=(code, "周红"))
    demand = await Demand.get()
    ref = demand.reference
    assert "如皋市东风纺织有限公司" in assistant.messages[-2].text  # the summary
    assert ref in assistant.last.text
    seen.skip(assistant)
    enterprise = await Organization.get(credit_code=code)
    assert (demand.owner_id, demand.submitted_by_id) == (enterprise.id, 701)
    assert demand.township == "chengnan"
    created = await AuditLog.get(action="organization.relay_created")
    assert created.after is not None and created.after["contact"] == "周红"

    (card,) = _about(seen, ref, w, reviewer)
    assert "如皋市东风纺织有限公司" in card and "代为提交（镇科技助理）：孙助理" in card
    await approve(reviewer, ref, w)
    (published,) = _about(seen, ref, w, assistant)
    (recommendation,) = _about(seen, ref, w, inst)
    assert "东风纺织" not in recommendation and "孙助理" not in recommendation

    # The offer goes to the assistant, who accepts it.
    await offer_help(inst, ref, w, "18000")
    _about(seen, ref, w, inst)
    (offer,) = _about(seen, ref, w, assistant)
    assert "南通检测中心" in offer and "18,000.00" in offer
    await assistant.press(w.accept)
    (matched,) = _about(seen, ref, w, assistant)
    assert "李检测" in matched and "+8613800000501" in matched
    (chosen,) = _about(seen, ref, w, inst)
    assert "如皋市东风纺织有限公司" in chosen and "孙助理" in chosen

    # Contract, acknowledgement, delivery, completion and feedback, the assistant for the owner.
    await file_contract(assistant, ref, w, voucher="是")
    assert "使用创新券：是" in assistant.messages[-2].text
    _about(seen, ref, w, assistant)
    (filed,) = _about(seen, ref, w, inst)
    assert "如皋市东风纺织有限公司" in filed and "30000.00" in filed
    (contract_card,) = _about(seen, ref, w, reviewer)
    assert "使用创新券：是" in contract_card
    await reviewer.press(w.acknowledge, message_id=reviewer.last.message_id)
    (acknowledged,) = _about(seen, ref, w, assistant)
    assert w.acknowledged in acknowledged and assistant.last.buttons == []
    _about(seen, ref, w, inst)
    await inst.press(w.delivered)
    (delivered,) = _about(seen, ref, w, assistant)
    assert assistant.last.button_labels() == [w.complete, w.dispute]
    await assistant.press(w.complete)
    assert assistant.last.button_labels() == [w.rate]
    await rate(assistant, w)
    assert len(_about(seen, ref, w, assistant)) == 10  # done, rate?, 6 questions, summary, thanks
    _, _, scores = _about(seen, ref, w, inst)
    assert w.scores_seen in scores and w.comment in scores

    # /township shows the demand with where it stands; /my too.
    await assistant.send("/township")
    (listing,) = _about(seen, ref, w, assistant)
    assert "城南街道" in listing and f"{ref} · {w.title} · 已完成" in listing
    await assistant.send("/my")
    (mine,) = _about(seen, ref, w, assistant)
    assert "已完成" in mine and "评价" in mine

    demand = await Demand.get(id=demand.id)
    assert demand.status is S.COMPLETED
    engagement = await Engagement.get(demand_id=demand.id)
    assert engagement.voucher is True and str(engagement.amount) == "30000.00"
    assert (await Feedback.get(engagement_id=engagement.id)).user_id == 701
    assert await _trail(demand) == [
        ("submitted", None, 701),
        ("published", "submitted", 301),
        ("matched", "published", 701),
        ("contracted", "matched", 701),
        ("delivered", "contracted", 501),
        ("completed", "delivered", 701),
    ]


async def test_relayed_demands_taken_over_by_the_enterprise(harness: Harness) -> None:
    """Someone of the enterprise registers later: they take over a demand relayed before they
    came (from /demand) and one relayed after (from the notice); the assistant steps back."""
    w = ZH
    reviewer, assistant, inst = await _relay_cast(harness)
    org_name = "如皋市星火科技有限公司"
    await relay_demand(assistant, "热处理工艺咨询", enterprise=org_name, new=(VALID_CODE, "张伟"))
    earlier = await Demand.get()

    # 张伟 registers in the chat with the same credit code and joins that enterprise.
    zhang = harness.person(401, "张伟")
    await register_enterprise(zhang, org=org_name)
    await zhang.press(w.confirm)
    await reviewer.press(w.approve, message_id=with_text(reviewer, "注册审核").message_id)
    assert "已通过审核" in zhang.last.text
    joined = await User.get(id=401)
    assert joined.organization_id == earlier.owner_id

    # The earlier demand: found in /my, taken over from /demand.
    await zhang.send("/my")
    assert earlier.reference in zhang.last.text
    await zhang.send(f"/demand {earlier.reference}")
    assert "提交人：孙助理" in zhang.last.text
    await zhang.press("由我接手")
    assert f"您已接手需求 {earlier.reference}" in zhang.last.text
    assert (await Demand.get(id=earlier.id)).submitted_by_id == 401

    # A demand relayed now: 张伟 is told at once, and takes it over from the notice.
    await relay_demand(assistant, w.title, enterprise=org_name)
    demand = await Demand.get(title=w.title)
    ref = demand.reference
    told = zhang.last
    assert ref in told.text and "孙助理" in told.text and told.button_labels() == ["由我接手"]
    await zhang.press("由我接手")
    assert f"您已接手需求 {ref}" in zhang.last.text and current(zhang, told).buttons == []
    seen = Seen()
    seen.skip(assistant, zhang, inst)

    # From now on the owner side is 张伟: the assistant hears nothing more of it.
    await approve(reviewer, ref, w)
    await offer_help(inst, ref, w, "30000")
    (published, offer) = _about(seen, ref, w, zhang)
    assert "南通检测中心" in offer
    await zhang.press(w.accept)
    (matched,) = _about(seen, ref, w, zhang)
    assert "+8613800000501" in matched
    *_, chosen = _about(seen, ref, w, inst)
    assert "张伟" in chosen and "+8613800000401" in chosen and "孙助理" not in chosen
    assert seen.news(assistant) == []
    await assistant.send("/township")
    listing = assistant.last.text
    assert f"{ref} · {w.title} · 已对接" in listing
    assert f"{earlier.reference} · 热处理工艺咨询 · 待审核" in listing
    assert await AuditLog.filter(action="demand.taken_over").count() == 2
