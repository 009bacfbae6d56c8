"""/apitoken through the chat: an admin issues, lists and revokes the JSON API's tokens."""

from __future__ import annotations

import asyncio
import re

from bot.emulator import EmulatedUser
from models import api_tokens
from models.api_entities import ApiScope, ApiToken
from models.entities import AuditLog, Role, User
from tests.conftest import ADMIN_ID, Harness, make_staff

SECRET = re.compile(r"ibk_[A-Za-z0-9_-]{43}")


async def _admin(harness: Harness, user_id: int = ADMIN_ID, lang: str = "zh-CN") -> EmulatedUser:
    user = await make_staff(user_id, Role.ADMIN, "周管理" if user_id == ADMIN_ID else "吴管理")
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


async def test_admin_issues_lists_and_revokes_in_chinese(harness: Harness) -> None:
    admin = await _admin(harness)
    await admin.send("/apitoken")
    assert "还没有签发任何 API 令牌" in admin.last.text and "/apitoken new read" in admin.last.text
    await admin.send("/apitoken new read 省科技资源平台")
    issued = admin.last.text
    assert (
        "已签发 API 令牌 K" in issued
        and "省科技资源平台" in issued
        and "只读（个人信息脱敏）" in issued
    )
    secret = SECRET.search(issued)
    assert secret is not None
    token = await ApiToken.get(name="省科技资源平台")
    assert token.scope is ApiScope.READ and token.token_hash == api_tokens.digest(secret[0])
    assert token.reference in issued
    # The list never shows the secret again, only its first characters.
    await admin.send("/apitoken")
    listing = admin.last.text
    assert "API 令牌，共 1 个" in listing and token.reference in listing and "有效" in listing
    assert secret[0] not in listing and token.hint in listing
    await admin.press(f"🚫 吊销 {token.reference}（省科技资源平台）")
    assert "已于" in admin.last.text and "由 周管理 吊销" in admin.last.text
    assert admin.last.button_labels() == []
    assert (await ApiToken.get(id=token.id)).revoked_at is not None
    assert await api_tokens.authenticate(secret[0]) is not None  # known, but revoked
    assert await AuditLog.filter(action="apitoken.revoked", subject_id=str(token.id)).count() == 1


async def test_admin_issues_a_personal_token_in_english(harness: Harness) -> None:
    admin = await _admin(harness, lang="en")
    await admin.send("/apitoken new read_personal city portal")
    assert "API token K" in admin.last.text and "read, personal data on request" in admin.last.text
    assert "only time it is shown" in admin.last.text
    token = await ApiToken.get(name="city portal")
    assert token.scope is ApiScope.READ_PERSONAL
    await admin.send("/apitoken")
    assert "API tokens, 1 in all" in admin.last.text and "never" in admin.last.text
    await admin.press(f"🚫 Revoke {token.reference} (city portal)")
    assert "revoked" in admin.last.text and "by 周管理" in admin.last.text


async def test_bad_commands_get_a_clear_answer_and_issue_nothing(harness: Harness) -> None:
    admin = await _admin(harness)
    await admin.send("/apitoken new write 省平台")
    assert "权限只能是 read 或 read_personal" in admin.last.text
    await admin.send("/apitoken new read " + "长" * 65)
    assert "1 至 64 个字符" in admin.last.text
    await admin.send("/apitoken delete everything")
    assert "用法" in admin.last.text
    await admin.send("/apitoken new read")
    assert "用法" in admin.last.text
    assert await ApiToken.all().count() == 0


async def test_non_admins_are_refused(harness: Harness) -> None:
    await make_staff(301, Role.REVIEWER, "王审核")
    reviewer = harness.person(301, "王审核")
    await reviewer.send("/apitoken new read 省平台")
    assert "只有管理员可以管理 API 令牌" in reviewer.last.text
    await reviewer.send("/apitoken")
    assert "只有管理员可以管理 API 令牌" in reviewer.last.text
    stranger = harness.person(555, "Eve", language_code="en")
    await stranger.send("/apitoken new read_personal mine")
    assert "Only admins manage API tokens" in stranger.last.text
    assert await ApiToken.all().count() == 0


async def test_a_non_admin_pressing_a_revoke_button_changes_nothing(harness: Harness) -> None:
    admin = await _admin(harness)
    issued = await api_tokens.issue(await User.get(id=ADMIN_ID), "省平台", ApiScope.READ)
    await admin.send("/apitoken")
    # Someone else presses the same button (as a forwarded or forged press would).
    await make_staff(301, Role.REVIEWER, "王审核")
    reviewer = harness.person(301, "王审核")
    await reviewer.send("/start")
    answer = await reviewer.press_data(
        f"ak:r:{issued.token.id}", message_id=reviewer.last.message_id
    )
    assert answer is not None and "只有管理员可以管理 API 令牌" in answer["text"]
    assert (await ApiToken.get(id=issued.token.id)).revoked_at is None


async def test_forged_and_stale_buttons_are_refused_politely(harness: Harness) -> None:
    admin = await _admin(harness)
    await admin.send("/apitoken new read 省平台")
    await admin.send("/apitoken")
    message_id = admin.last.message_id
    for data in ("ak:r:999999", "ak:r:abc", "ak:x:1", "ak:r:1:2"):
        answer = await admin.press_data(data, message_id=message_id)
        assert answer is not None and answer.get("show_alert"), data
        expected = "找不到该 API 令牌" if data == "ak:r:999999" else "无法识别这个操作"
        assert expected in answer["text"], answer
    assert (await ApiToken.get(name="省平台")).revoked_at is None


async def test_two_admins_revoking_at_once_revoke_once(harness: Harness) -> None:
    zhou = await _admin(harness)
    wu = await _admin(harness, user_id=902)
    issued = await api_tokens.issue(await User.get(id=ADMIN_ID), "省平台", ApiScope.READ)
    await zhou.send("/apitoken")
    await wu.send("/apitoken")
    label = f"🚫 吊销 {issued.token.reference}（省平台）"
    await asyncio.gather(zhou.press(label), wu.press(label))
    assert await AuditLog.filter(action="apitoken.revoked").count() == 1
    token = await ApiToken.get(id=issued.token.id)
    loser = wu if token.revoked_by_id == ADMIN_ID else zhou
    winner_name = "周管理" if token.revoked_by_id == ADMIN_ID else "吴管理"
    texts = [a.get("text", "") for a in loser.callback_answers]
    assert any(f"已由 {winner_name} 吊销" in text for text in texts), texts


async def test_a_double_press_revokes_once_and_says_so(harness: Harness) -> None:
    admin = await _admin(harness)
    issued = await api_tokens.issue(await User.get(id=ADMIN_ID), "省平台", ApiScope.READ)
    await admin.send("/apitoken")
    message_id = admin.last.message_id
    data = f"ak:r:{issued.token.id}"
    await admin.press_data(data, message_id=message_id)
    again = await admin.press_data(data, message_id=message_id)
    assert again is not None and "已由 周管理 吊销" in again["text"]
    assert await AuditLog.filter(action="apitoken.revoked").count() == 1
