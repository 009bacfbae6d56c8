"""Reviewers check demands (Rugao art. 15 checklist) and acknowledge contract filings."""

from __future__ import annotations

import asyncio
import struct
import zlib
from typing import Any

from aiohttp.test_utils import TestServer

from bot.config import load_platform
from bot.emulator import BotAPIEmulator, EmulatedUser
from bot.emulator.messages import ChatMessage
from handlers.context import NOTIFIER
from models import demands, market
from models.demand_entities import Demand, DemandStatus, Engagement
from models.entities import AuditLog, Organization, Review, Role, User
from models.events import Event
from models.platform import PlatformConfig
from tests.conftest import Harness, make_staff, start_bot, stop_bot
from tests.demand_support import (
    PLATFORM,
    TODAY,
    contracted_demand,
    draft,
    make_assistant,
    make_member,
)
from tests.factories import register_enterprise

CHECKS_ZH = ("不涉及保密内容", "信息真实、有效", "符合法律法规和政策")
CHECKS_EN = ("No classified content", "True and current", "Complies with law and policy")


def _png() -> bytes:
    """A valid 1×1 PNG, so the emulator takes it as a photo."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


async def _publish(harness: Harness, events: list[Event]) -> None:
    await harness.application.bot_data[NOTIFIER].publish(events)


async def _person(harness: Harness, user_id: int, name: str, lang: str = "zh-CN") -> EmulatedUser:
    """Someone who has started the bot (the bot may only write to such people)."""
    person = harness.person(user_id, name, language_code=lang)
    await person.send("/start")
    return person


async def _reviewer(
    harness: Harness, user_id: int, name: str, lang: str = "zh-CN", role: Role = Role.REVIEWER
) -> EmulatedUser:
    staff = await make_staff(user_id, role, name)
    if lang == "en":
        await User.filter(id=staff.id).update(language_code="en")
    return await _person(harness, user_id, name, lang)


async def _owner(harness: Harness, lang: str = "zh-CN") -> tuple[User, EmulatedUser]:
    code = "zh-CN" if lang == "zh-CN" else "en"
    owner = await make_member(401, "张企业", Role.ENTERPRISE, "星火科技", language_code=code)
    return owner, await _person(harness, 401, "张企业", lang)


async def _submit(
    harness: Harness,
    owner: User,
    platform: PlatformConfig = PLATFORM,
    **changes: Any,
) -> Demand:
    outcome = await demands.submit(owner, draft(**changes), platform, TODAY)
    await _publish(harness, outcome.events)
    return outcome.demand


def _copy(person: EmulatedUser, card: ChatMessage) -> ChatMessage:
    """The current state of a message (after edits)."""
    return next(m for m in person.messages if m.message_id == card.message_id)


async def _tick_all(person: EmulatedUser, card: ChatMessage, labels: tuple[str, ...]) -> None:
    for label in labels:
        await person.press(label, message_id=card.message_id)


async def _review_of(demand: Demand, stage: str = "reviewer") -> Review:
    return await Review.get(subject_type="demand", subject_id=demand.id, stage=stage)


async def test_checklist_gates_approve_and_every_copy_says_who(harness: Harness) -> None:
    wang = await _reviewer(harness, 301, "王审核")
    zhao = await _reviewer(harness, 302, "赵审核")
    owner, _ = await _owner(harness)
    demand = await _submit(harness, owner)
    card = wang.last
    for expected in (
        demand.reference,
        "需求审核",
        "红外光谱检测",
        "检验检测",
        "5 万元以下",
        demand.wanted_by.isoformat(),
        "城南街道",
        "星火科技",
        "高分子材料样品",
        "附件数：0",
        "如皋办法第十五条",
    ):
        assert expected in card.text, expected
    assert "代为提交" not in card.text
    assert [f"☐ {label}" for label in CHECKS_ZH] == card.button_labels()[:3]
    # Approve before the checklist: refused, nothing changes.
    answer = await wang.press("✅ 批准", message_id=card.message_id)
    assert answer is not None and answer["show_alert"]
    assert "请先勾选全部三项" in answer["text"]
    assert (await Demand.get(id=demand.id)).status is DemandStatus.SUBMITTED
    await _tick_all(wang, card, CHECKS_ZH[:2])
    assert _copy(wang, card).button_labels()[:3] == [
        f"☑ {CHECKS_ZH[0]}",
        f"☑ {CHECKS_ZH[1]}",
        f"☐ {CHECKS_ZH[2]}",
    ]
    answer = await wang.press("✅ 批准", message_id=card.message_id)
    assert answer is not None and "请先勾选全部三项" in answer["text"]
    # A tick can be taken back and given again.
    await wang.press(CHECKS_ZH[0], message_id=card.message_id)
    assert _copy(wang, card).button_labels()[0] == f"☐ {CHECKS_ZH[0]}"
    await _tick_all(wang, card, (CHECKS_ZH[0], CHECKS_ZH[2]))
    await wang.press("✅ 批准", message_id=card.message_id)
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED
    for person in (wang, zhao):
        decided = next(m for m in person.messages if demand.reference in m.text)
        assert "已由 王审核" in decided.text
        assert decided.buttons == []
    decision = await _review_of(demand)
    assert decision.checklist == ["no_secret", "true_current", "compliant"]
    assert await AuditLog.filter(action="review.approved").count() == 1


async def test_english_card_of_a_relayed_demand(harness: Harness) -> None:
    alice = await _reviewer(harness, 302, "Alice", "en")
    await _owner(harness, "en")
    assistant = await make_assistant(450, "李助理")
    await _person(harness, 450, "李助理")
    enterprise = await Organization.get(name="星火科技")
    demand = await _submit(harness, assistant, enterprise=enterprise.id, title="Infrared test")
    card = alice.last
    for expected in (
        "Demand review",
        demand.reference,
        "Infrared test",
        "Testing and inspection",
        "Under 50,000 yuan",
        "Chengnan Subdistrict",
        "Enterprise: 星火科技",
        "Relayed by (township assistant): 李助理",
        "Rugao art. 15",
    ):
        assert expected in card.text, expected
    answer = await alice.press("✅ Approve", message_id=card.message_id)
    assert answer is not None and "Tick all three" in answer["text"]
    await _tick_all(alice, card, CHECKS_EN)
    assert _copy(alice, card).button_labels()[:3] == [f"☑ {label}" for label in CHECKS_EN]
    await alice.press("✅ Approve", message_id=card.message_id)
    assert "Approved by Alice" in _copy(alice, card).text
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED


async def test_ticks_belong_to_each_reviewer(harness: Harness) -> None:
    wang = await _reviewer(harness, 301, "王审核")
    zhao = await _reviewer(harness, 302, "赵审核")
    owner, _ = await _owner(harness)
    demand = await _submit(harness, owner)
    wang_card, zhao_card = wang.last, zhao.last
    await _tick_all(wang, wang_card, CHECKS_ZH)
    # Wang's attestation is his own: Zhao's copy is unticked and Zhao cannot approve on it.
    assert all(label.startswith("☐") for label in _copy(zhao, zhao_card).button_labels()[:3])
    answer = await zhao.press("✅ 批准", message_id=zhao_card.message_id)
    assert answer is not None and "请先勾选全部三项" in answer["text"]
    assert (await Demand.get(id=demand.id)).status is DemandStatus.SUBMITTED
    await wang.press("✅ 批准", message_id=wang_card.message_id)
    assert (await _review_of(demand)).decided_by_id == 301


async def test_two_reviewers_approve_at_once_one_wins(harness: Harness) -> None:
    wang = await _reviewer(harness, 301, "王审核")
    zhao = await _reviewer(harness, 302, "赵审核")
    owner, _ = await _owner(harness)
    demand = await _submit(harness, owner)
    wang_card, zhao_card = wang.last, zhao.last
    await _tick_all(wang, wang_card, CHECKS_ZH)
    await _tick_all(zhao, zhao_card, CHECKS_ZH)
    answers = await asyncio.gather(
        wang.press("✅ 批准", message_id=wang_card.message_id),
        zhao.press("✅ 批准", message_id=zhao_card.message_id),
    )
    texts = [a["text"] if a else "" for a in answers]
    assert sum("已先一步批准" in text for text in texts) == 1
    winner = "王审核" if (await _review_of(demand)).decided_by_id == 301 else "赵审核"
    assert any(f"{winner} 已先一步批准" in text for text in texts)
    for person, card in ((wang, wang_card), (zhao, zhao_card)):
        assert f"已由 {winner}" in _copy(person, card).text
        assert _copy(person, card).buttons == []
    assert await AuditLog.filter(action="review.approved").count() == 1
    assert await AuditLog.filter(action="demand.published").count() == 1


async def test_reject_with_preset_and_typed_reason(harness: Harness) -> None:
    wang = await _reviewer(harness, 301, "王审核")
    owner, _ = await _owner(harness)
    demand = await _submit(harness, owner)
    card = wang.last
    # No checklist is needed to reject; the prompt names the demand.
    await wang.press("❌ 驳回", message_id=card.message_id)
    assert demand.reference in wang.last.text
    assert "驳回" in wang.last.text
    await wang.send("描述过于笼统，请补充样品数量")
    stored = await Demand.get(id=demand.id)
    assert stored.status is DemandStatus.REJECTED
    assert "描述过于笼统" in _copy(wang, card).text
    assert "已由 王审核" in _copy(wang, card).text
    # Another demand, rejected with a preset reason by an English reviewer.
    alice = await _reviewer(harness, 302, "Alice", "en")
    other = await _submit(harness, owner, title="热处理工艺咨询")
    second = alice.last
    assert other.reference in second.text
    await alice.press("❌ Reject", message_id=second.message_id)
    assert other.reference in alice.last.text
    await alice.press("Information incomplete")
    assert (await Demand.get(id=other.id)).status is DemandStatus.REJECTED
    assert "Rejected by Alice" in _copy(alice, second).text
    assert "Information incomplete" in _copy(alice, second).text


async def test_forged_and_unauthorised_presses_have_no_effect(harness: Harness) -> None:
    wang = await _reviewer(harness, 301, "王审核")
    owner, owner_chat = await _owner(harness)
    demand = await _submit(harness, owner)
    review = await _review_of(demand)
    card = wang.last.message_id
    expected = {
        "rv:t:999:no_secret": "找不到",
        f"rv:t:{review.id}:made_up": "找不到",
        f"rv:t:{review.id}": "无法识别",
        "rv:f:999": "找不到",
        f"rv:f:{review.id}": "没有可查看的文件",
    }
    for forged, refusal in expected.items():
        answer = await wang.press_data(forged, message_id=card)
        assert answer is not None and refusal in answer["text"], forged
    # The owner forges the reviewer's buttons on their own chat.
    home = owner_chat.last.message_id
    for forged in (f"rv:a:{review.id}", f"rv:t:{review.id}:no_secret", f"rv:f:{review.id}"):
        answer = await owner_chat.press_data(forged, message_id=home)
        assert answer is not None and "没有审核" in answer["text"], forged
    stored = await Review.get(id=review.id)
    assert stored.status.value == "pending"
    assert (await Demand.get(id=demand.id)).status is DemandStatus.SUBMITTED
    assert all(label.startswith("☐") for label in wang.last.button_labels()[:3])


async def test_withdrawn_demand_card_says_so(harness: Harness) -> None:
    wang = await _reviewer(harness, 301, "王审核")
    owner, _ = await _owner(harness)
    demand = await _submit(harness, owner)
    card = wang.last
    await wang.press(CHECKS_ZH[0], message_id=card.message_id)
    await _publish(harness, await market.withdraw(demand.id, owner))
    withdrawn = _copy(wang, card)
    assert "提交方已撤回" in withdrawn.text
    assert withdrawn.buttons == []
    review = await _review_of(demand)
    for late in (f"rv:a:{review.id}", f"rv:r:{review.id}", f"rv:t:{review.id}:true_current"):
        answer = await wang.press_data(late, message_id=card.message_id)
        assert answer is not None and "已撤回" in answer["text"], late
    assert (await Review.get(id=review.id)).status.value == "cancelled"


async def test_attachments_button_sends_the_files(harness: Harness) -> None:
    wang = await _reviewer(harness, 301, "王审核")
    owner, _ = await _owner(harness)
    files = harness.emulator.files
    pdf = files.add(
        b"%PDF-1.4 spec", "document", file_name="spec.pdf", mime_type="application/pdf"
    )
    photo = files.add(_png(), "photo")
    attachments = [
        {"kind": "document", "file_id": pdf.file_id, "name": "spec.pdf", "size": 13},
        {"kind": "photo", "file_id": photo.file_id, "size": len(photo.data)},
    ]
    demand = await _submit(harness, owner, attachments=attachments)
    card = wang.last
    assert "附件数：2" in card.text
    answer = await wang.press("📎 附件（2）", message_id=card.message_id)
    assert answer is not None and not answer.get("show_alert")
    sent = wang.messages[-2:]
    assert sent[0].document is not None
    assert wang.download(sent[0].document["file_id"]) == b"%PDF-1.4 spec"
    assert sent[1].photo is not None
    assert all(demand.reference in (m.text or "") for m in sent)
    # Someone who is not a reviewer gets nothing.
    outsider = await _person(harness, 499, "路人")
    before = len(outsider.messages)
    review = await _review_of(demand)
    answer = await outsider.press_data(f"rv:f:{review.id}", message_id=outsider.last.message_id)
    assert answer is not None and "没有审核" in answer["text"]
    assert len(outsider.messages) == before


async def test_publisher_releases_after_the_reviewer(
    harness: Harness,
    database: str,
    emulator_server: tuple[BotAPIEmulator, TestServer],
) -> None:
    # Rugao art. 16: the platform may add a publisher's release after the review.
    two_stages = load_platform(None)
    two_stages.review.demand_stages = ["reviewer", "publisher"]
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database, two_stages)
    wang = await _reviewer(harness, 301, "王审核")
    zhou = await _reviewer(harness, 305, "周发布", role=Role.PUBLISHER)
    owner, _ = await _owner(harness)
    before = len(zhou.messages)
    demand = await _submit(harness, owner, platform=two_stages)
    assert len(zhou.messages) == before  # nothing for the publisher before the review
    card = wang.last
    await _tick_all(wang, card, CHECKS_ZH)
    await wang.press("✅ 批准", message_id=card.message_id)
    # Reviewed but not released: still waiting, now at the publisher.
    assert (await Demand.get(id=demand.id)).status is DemandStatus.SUBMITTED
    release = zhou.last
    assert demand.reference in release.text
    assert "发布审核" in release.text
    publisher_review = await _review_of(demand, "publisher")
    answer = await wang.press_data(f"rv:a:{publisher_review.id}", message_id=card.message_id)
    assert answer is not None and "没有审核" in answer["text"]
    # The publisher attests the checklist for themself too.
    answer = await zhou.press("✅ 批准", message_id=release.message_id)
    assert answer is not None and "请先勾选全部三项" in answer["text"]
    await _tick_all(zhou, release, CHECKS_ZH)
    await zhou.press("✅ 批准", message_id=release.message_id)
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED
    assert "已由 周发布" in _copy(zhou, release).text


async def _contract_setup(
    harness: Harness, lang: str = "zh-CN", *, photo: bool = False
) -> tuple[EmulatedUser, Demand]:
    """A filed contract with a real file, and a reviewer who gets its card on /start."""
    reviewer = await make_staff(301, Role.REVIEWER, "王审核")
    owner, _ = await _owner(harness, lang)
    institution = await make_member(501, "钱机构", Role.INSTITUTION, "如皋检测中心")
    await _person(harness, 501, "钱机构")
    demand = await contracted_demand(owner, reviewer, institution)
    contract = (
        harness.emulator.files.add(_png(), "photo")
        if photo
        else harness.emulator.files.add(
            b"%PDF-1.4 contract", "document", file_name="contract.pdf", mime_type="application/pdf"
        )
    )
    await Engagement.filter(demand_id=demand.id).update(
        contract_file_id=contract.file_id, contract_kind="photo" if photo else "document"
    )
    if lang == "en":
        await User.filter(id=301).update(language_code="en")
    wang = await _person(harness, 301, "王审核", lang)
    return wang, demand


async def test_contract_filing_acknowledged(harness: Harness) -> None:
    wang, demand = await _contract_setup(harness)
    card = wang.last
    for expected in (
        "合同备案",
        demand.reference,
        "如皋检测中心",
        "30,000.00 元",
        TODAY.isoformat(),
        "使用创新券：否",
        "0" * 16 + "…",
        "备案报告截止",
    ):
        assert expected in card.text, expected
    assert "0" * 17 not in card.text
    await wang.press("📄 查看合同", message_id=card.message_id)
    assert wang.last.document is not None
    assert wang.download(wang.last.document["file_id"]) == b"%PDF-1.4 contract"
    await wang.press("✅ 确认备案", message_id=card.message_id)
    decided = _copy(wang, card)
    assert "已由 王审核" in decided.text and "确认备案" in decided.text
    assert decided.buttons == []
    assert (await Demand.get(id=demand.id)).status is DemandStatus.CONTRACTED
    assert await AuditLog.filter(action="contract.acknowledged").exists()


async def test_contract_photographed_is_sent_as_a_photo(harness: Harness) -> None:
    # A contract filed as a photo: Telegram refuses a photo's file_id in sendDocument.
    wang, demand = await _contract_setup(harness, photo=True)
    await wang.press("📄 查看合同", message_id=wang.last.message_id)
    assert wang.last.photo is not None
    assert demand.reference in wang.last.text


async def test_contract_filing_refused_in_english(harness: Harness) -> None:
    wang, demand = await _contract_setup(harness, "en")
    card = wang.last
    assert "Contract filing" in card.text
    assert "30,000.00 yuan" in card.text
    assert "Innovation voucher: no" in card.text
    await wang.press("❌ Refuse", message_id=card.message_id)
    assert demand.reference in wang.last.text
    await wang.send("The contract is not signed by the institution")
    assert (await Demand.get(id=demand.id)).status is DemandStatus.MATCHED
    engagement = await Engagement.get(demand_id=demand.id)
    assert engagement.contract_file_id is None
    decided = _copy(wang, card)
    assert "refused by 王审核" in decided.text
    assert "not signed by the institution" in decided.text


async def test_pending_lists_every_kind(harness: Harness) -> None:
    wang, contracted = await _contract_setup(harness)
    owner = await User.get(id=401)
    submitted = await _submit(harness, owner, title="热处理工艺咨询")
    applicant = harness.person(201, "张伟")
    await register_enterprise(applicant)
    await applicant.press("✅ 确认提交")
    await wang.send("/pending")
    listing = wang.last
    assert "共 3 条" in listing.text
    labels = listing.button_labels()
    assert any(label.startswith(f"合同备案 {contracted.reference}") for label in labels)
    assert any(label.startswith(f"需求 {submitted.reference}") for label in labels)
    assert any(label.startswith("注册 R") for label in labels)
    await wang.press(f"需求 {submitted.reference}")
    assert "热处理工艺咨询" in wang.last.text
    assert "☐" in wang.last.button_labels()[0]
