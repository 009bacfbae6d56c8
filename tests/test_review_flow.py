"""Reviewers decide from their phones: first decision wins, every copy says who decided."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestServer

from bot.config import load_platform
from bot.emulator import BotAPIEmulator
from models.entities import AuditLog, Registration, Review, Role, User, UserStatus
from tests.conftest import ADMIN_ID, Harness, make_staff, start_bot, stop_bot
from tests.factories import VALID_CODE, register_enterprise


async def _submitted(harness: Harness, user_id: int = 201) -> tuple[object, Registration]:
    applicant = harness.person(user_id, "张伟")
    await register_enterprise(applicant)
    await applicant.press("✅ 确认提交")
    return applicant, await Registration.get(user_id=user_id)


async def test_reviewer_approves_and_applicant_is_told(harness: Harness) -> None:
    await make_staff(301, Role.REVIEWER, "王审核")
    wang = harness.person(301, "王审核")
    await wang.send("/start")  # a reviewer who has started the bot gets cards at once
    applicant, registration = await _submitted(harness)
    card = wang.last
    assert registration.reference in card.text
    assert "138****0201" in card.text
    assert "+8613800000201" not in card.text  # phone masked on the card
    await wang.press("✅ 批准")
    assert "已由 王审核" in wang.messages[-1].text or "已由 王审核" in card.text
    edited = next(m for m in wang.messages if m.message_id == card.message_id)
    assert "已由 王审核" in edited.text
    assert edited.buttons == []
    assert "已通过审核" in applicant.last.text
    assert registration.reference in applicant.last.text
    user = await User.get(id=201)
    assert user.status is UserStatus.ACTIVE
    assert user.role is Role.ENTERPRISE
    assert await AuditLog.filter(
        action="registration.approved", subject_id=str(registration.id)
    ).exists()


async def test_reject_with_preset_and_typed_reason(harness: Harness) -> None:
    await make_staff(301, Role.REVIEWER, "王审核")
    wang = harness.person(301, "王审核")
    await wang.send("/start")
    applicant, registration = await _submitted(harness)
    await wang.press("❌ 驳回")
    assert "驳回" in wang.last.text
    assert registration.reference in wang.last.text
    await wang.send("营业执照照片模糊")
    assert "营业执照照片模糊" in applicant.last.text
    assert "未通过" in applicant.last.text
    assert (await User.get(id=201)).status is UserStatus.REJECTED
    # The applicant corrects and submits again; the English reviewer gets a preset reason.
    await make_staff(302, Role.REVIEWER, "Alice")
    alice = harness.person(302, "Alice", language_code="en")
    await alice.send("/start")
    await applicant.send("/start")
    await applicant.press("企业用户")
    for answer in ("张伟", "13800000201", "星火科技"):
        await applicant.send(answer)
    from tests.factories import VALID_CODE

    await applicant.send(VALID_CODE)
    await applicant.press("城南街道")
    await applicant.press("✅ 确认提交")
    await alice.press("❌ Reject")
    await alice.press("Information incomplete")
    assert "信息不完整" in applicant.last.text  # shown in the applicant's language
    assert await Registration.filter(user_id=201).count() == 2


async def test_two_reviewers_press_at_once_one_wins(harness: Harness) -> None:
    await make_staff(301, Role.REVIEWER, "王审核")
    await make_staff(302, Role.REVIEWER, "赵审核")
    wang, zhao = harness.person(301, "王审核"), harness.person(302, "赵审核")
    await wang.send("/start")
    await zhao.send("/start")
    applicant, registration = await _submitted(harness)
    answers = await asyncio.gather(wang.press("✅ 批准"), zhao.press("✅ 批准"))
    texts = [a["text"] if a else "" for a in answers]
    assert sum("已先一步批准" in text for text in texts) == 1
    review = await Review.get(subject_id=registration.id)
    winner = "王审核" if review.decided_by_id == 301 else "赵审核"
    for person in (wang, zhao):
        card = next(
            m for m in person.messages if registration.reference in m.text and "注册审核" in m.text
        )
        assert f"已由 {winner}" in card.text
        assert card.buttons == []
    assert [m.text for m in applicant.messages].count(applicant.last.text) == 1
    assert await AuditLog.filter(action="review.approved").count() == 1


async def test_forged_and_unauthorised_presses_have_no_effect(harness: Harness) -> None:
    await make_staff(301, Role.REVIEWER, "王审核")
    wang = harness.person(301, "王审核")
    await wang.send("/start")
    applicant, registration = await _submitted(harness)
    review = await Review.get(subject_id=registration.id)
    # The applicant forges the reviewer's callback data on their own message.
    answer = await applicant.press_data(f"rv:a:{review.id}")
    assert answer is not None
    assert "没有审核" in answer["text"]
    card = wang.last.message_id
    expected = {
        "rv:a:999999": "找不到",
        "rv:a:abc": "无法识别",
        "rv:zz:1": "无法识别",
        f"rv:zz:{review.id}": "无法识别",
        f"rv:why:{review.id}:made_up": "无法识别",
        "pq:o:x": "无法识别",
        "rv": "已过期",
    }
    for forged, refusal in expected.items():
        answer = await wang.press_data(forged, message_id=card)
        assert answer is not None and refusal in answer["text"], forged
    assert (await Review.get(id=review.id)).status.value == "pending"
    assert (await User.get(id=201)).status is UserStatus.PENDING
    # A replayed Approve after the decision changes nothing and says who decided.
    await wang.press("✅ 批准")
    replay = await wang.press_data(f"rv:r:{review.id}", message_id=card)
    assert replay is not None
    assert "王审核 已先一步批准" in replay["text"]
    assert (await Registration.get(id=registration.id)).status.value == "approved"


async def test_late_reviewer_gets_cards_on_start_and_pending_pages(harness: Harness) -> None:
    for uid in (201, 202, 203):
        await _submitted(harness, uid)
    await make_staff(303, Role.REVIEWER, "孙审核")
    sun = harness.person(303, "孙审核")
    await sun.send("/start")
    cards = [m for m in sun.messages if "注册审核" in m.text]
    assert len(cards) == 3
    await sun.send("/pending")
    assert "共 3 条" in sun.last.text
    assert len(sun.last.buttons) == 3


async def test_pending_pages_and_non_reviewer_refused(harness: Harness) -> None:
    for uid in range(210, 217):
        await _submitted(harness, uid)
    admin = harness.person(ADMIN_ID, "刘管理")
    await admin.send("/pending")
    assert "1–5，共 7 条" in admin.last.text
    await admin.press("下一页 ➡️")
    assert "6–7，共 7 条" in admin.last.text
    outsider = harness.person(220, "路人")
    await outsider.send("/pending")
    assert "没有审核" in outsider.last.text


async def test_invite_makes_a_reviewer_once(harness: Harness) -> None:
    admin = harness.person(ADMIN_ID, "刘管理")
    await admin.send("/invite reviewer")
    link = admin.last.text.split("\n")[-1]
    token = link.split("start=")[1]
    newcomer = harness.person(310, "新审核")
    await newcomer.send(f"/start {token}")
    assert "审核员" in newcomer.last.text
    assert (await User.get(id=310)).role is Role.REVIEWER
    thief = harness.person(311, "冒用者")
    await thief.send(f"/start {token}")
    assert "已被使用" in thief.last.text
    assert (await User.get(id=311)).role is None
    await thief.send("/invite admin")
    assert "只有管理员" in thief.last.text


async def test_restart_mid_flow_loses_nothing(
    harness: Harness,
    database: str,
    emulator_server: tuple[BotAPIEmulator, TestServer],
) -> None:
    zhang = harness.person(230, "张伟")
    await zhang.send("/start")
    await zhang.press("企业用户")
    await zhang.send("张伟")
    # The process dies; a new one starts on the same database and the same Bot API.
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database)
    await zhang.share_contact()
    assert "单位全称" in zhang.last.text
    await zhang.send("星火科技")
    await zhang.send(VALID_CODE)
    await zhang.press("城南街道")
    assert "张伟" in zhang.last.text
    assert "138****0230" in zhang.last.text


async def test_publisher_stage_releases_after_the_reviewer(
    harness: Harness,
    database: str,
    emulator_server: tuple[BotAPIEmulator, TestServer],
) -> None:
    # Rugao art. 16: the platform may add a publisher's release after the review.
    two_stages = load_platform(None)
    two_stages.review.registration_stages = ["reviewer", "publisher"]
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database, two_stages)
    await make_staff(301, Role.REVIEWER, "王审核")
    await make_staff(305, Role.PUBLISHER, "周发布")
    wang = harness.person(301, "王审核")
    zhou = harness.person(305, "周发布")
    await wang.send("/start")
    await zhou.send("/start")
    applicant, registration = await _submitted(harness)
    assert zhou.messages[-1].buttons == []  # nothing for the publisher before the review
    await wang.press("✅ 批准")
    # Approved by the reviewer, but not yet released: the applicant still waits.
    assert (await User.get(id=201)).status is UserStatus.PENDING
    assert "已通过审核" not in applicant.last.text
    card = zhou.last
    assert registration.reference in card.text
    # A reviewer cannot take the publisher's decision, even with forged callback data.
    publisher_review = await Review.get(subject_id=registration.id, stage="publisher")
    await wang.press_data(f"rv:a:{publisher_review.id}", message_id=wang.messages[-1].message_id)
    assert (await Review.get(id=publisher_review.id)).decided_by_id is None
    await zhou.press("✅ 批准")
    assert "已通过审核" in applicant.last.text
    assert (await User.get(id=201)).status is UserStatus.ACTIVE
