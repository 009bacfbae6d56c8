"""/broadcast through the chat (issue #5 item 7): the admin types the notice, picks the
audience with the count, previews the exact message, confirms; recipients get it in their
language and the progress message ends with the final counts. The domain is tested in
test_broadcasts.py.
"""

from __future__ import annotations

import asyncio

from bot.emulator import EmulatedUser
from handlers.context import PLATFORM
from models.broadcast_entities import Broadcast, BroadcastStatus
from models.entities import Role, User
from models.reminder_entities import ReminderDelivery
from tests.conftest import ADMIN_ID, Harness, make_staff
from tests.delivery_support import platform_with
from tests.demand_support import TODAY, make_member
from tests.reminder_support import Clock, engine, started

NOTICE = "周五 14:30 召开<服务例会> & 政策宣讲，请准时参加。"
ONLY_BROADCASTS = platform_with(annual_report={"enabled": False})


async def _admin(harness: Harness, lang: str = "zh-CN") -> EmulatedUser:
    return await started(harness, await make_staff(ADMIN_ID, Role.ADMIN, "吴管理"), lang)


async def _people(harness: Harness) -> tuple[EmulatedUser, EmulatedUser, EmulatedUser]:
    """Two enterprises (one reads English, in Jiuhua) and an institution, all started."""
    zh = await started(harness, await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密"))
    en_user = await make_member(
        102, "Chen", Role.ENTERPRISE, "Jiuhua Textiles", township="jiuhua", language_code="en"
    )
    en = await started(harness, en_user, "en")
    inst = await started(harness, await make_member(301, "张工", Role.INSTITUTION, "检测中心"))
    return zh, en, inst


async def _tick(harness: Harness) -> None:
    await engine(harness, Clock().at(TODAY, 10), ONLY_BROADCASTS).tick()


async def _only() -> Broadcast:
    return await Broadcast.get()


async def test_an_admin_broadcasts_to_enterprises_in_chinese(harness: Harness) -> None:
    admin = await _admin(harness)
    zh, en, inst = await _people(harness)
    await admin.send("/broadcast")
    assert "第 1 步，共 3 步" in admin.last.text and "4,000" in admin.last.text
    await admin.send(NOTICE)
    ref = (await _only()).reference
    assert f"群发通知 {ref} · 第 2 步" in admin.last.text
    assert "当前接收人数：4" in admin.last.text  # everyone, the admin too
    await admin.press("▫️ 企业用户")
    assert "角色：企业用户" in admin.last.text and "当前接收人数：2" in admin.last.text
    await admin.press("▫️ 九华镇")
    assert "镇/街道：九华镇" in admin.last.text and "当前接收人数：1" in admin.last.text
    await admin.press("✅ 九华镇")
    assert "镇/街道：全部" in admin.last.text and "当前接收人数：2" in admin.last.text
    await admin.press("👀 预览")
    exact, summary = admin.messages[-2], admin.messages[-1]
    # The admin's text exactly as typed: its "<" and "&" are text, not markup.
    assert exact.text == f"📢 平台通知（{ref}）\n\n{NOTICE}"
    assert "第 3 步，共 3 步" in summary.text and "接收人数：2" in summary.text
    assert "免打扰时段（21:00–08:00）" in summary.text
    await admin.press("✅ 确认发送")
    progress = admin.last
    assert progress.message_id == summary.message_id
    assert progress.text == f"📤 群发通知 {ref} 发送中：已发送 0 / 2，失败 0"
    assert progress.button_labels() == []

    await _tick(harness)
    assert zh.last.text == f"📢 平台通知（{ref}）\n\n{NOTICE}"
    assert en.last.text == f"📢 Platform notice ({ref})\n\n{NOTICE}"
    assert not any(NOTICE in m.text for m in inst.messages)
    assert not any(NOTICE in m.text for m in admin.messages[:-2])  # only its preview
    final = next(m for m in admin.messages if m.message_id == progress.message_id)
    assert final.text == f"✅ 群发通知 {ref} 已完成：已发送 2 / 2，失败 0"
    assert (await _only()).status is BroadcastStatus.DONE
    await _tick(harness)  # nothing sent twice
    assert sum(NOTICE in m.text for m in zh.messages) == 1


async def test_an_admin_broadcasts_to_a_tier_in_english(harness: Harness) -> None:
    admin = await _admin(harness, "en")
    zh, en, inst = await _people(harness)
    await admin.send("/broadcast")
    assert "step 1 of 3" in admin.last.text
    await admin.send("Annual report forms are now open.")
    await admin.press("▫️ Tier: service institution")
    assert "Institution tiers: service institution" in admin.last.text
    assert "Recipients now: 1" in admin.last.text
    await admin.press("👀 Preview")
    ref = (await _only()).reference
    assert admin.messages[-2].text == (
        f"📢 Platform notice ({ref})\n\nAnnual report forms are now open."
    )
    assert "Recipients: 1" in admin.last.text
    await admin.press("✅ Confirm and send")
    assert admin.last.text == f"📤 Broadcast {ref} sending: sent 0 / 1, 0 failed"
    await _tick(harness)
    assert inst.last.text == f"📢 平台通知（{ref}）\n\nAnnual report forms are now open."
    assert not any("Annual report forms" in m.text for m in [*zh.messages, *en.messages])
    assert admin.last.text == f"✅ Broadcast {ref} done: sent 1 / 1, 0 failed"


async def test_empty_long_or_non_text_messages_are_refused_and_the_step_kept(
    harness: Harness,
) -> None:
    admin = await _admin(harness)
    await admin.send("/broadcast")
    await admin.send("字" * 4001)
    assert "共 4001 字，超过上限 4000 字" in admin.last.text
    await admin.send("😀" * 2001)  # Telegram counts each of these twice
    assert "共 4002 字" in admin.last.text
    await admin.send_sticker()
    assert "群发只能发送文字" in admin.last.text
    assert not await Broadcast.exists()
    await admin.send("字" * 4000)
    assert "第 2 步" in admin.last.text
    # The draft survives a restart of the conversation: /start picks the step up again.
    await admin.send("/start")
    assert "第 2 步" in admin.last.text
    await admin.press("✏️ 修改正文")
    await admin.send("   ")  # Telegram would not even deliver it; nothing changes
    assert "不能为空" in admin.last.text
    await admin.send("改过的通知")
    assert "第 2 步" in admin.last.text
    assert (await _only()).text == "改过的通知"


async def test_non_admins_and_forged_or_stale_buttons_change_nothing(harness: Harness) -> None:
    admin = await _admin(harness)
    zh, _, _ = await _people(harness)
    await zh.send("/broadcast")
    assert zh.last.text == "只有管理员可以发送群发通知。"
    await admin.send("/broadcast")
    await admin.send(NOTICE)
    item = await _only()
    picker = admin.last
    answer = await zh.press_data(f"bc:t:{item.id}:r:enterprise", message_id=zh.last.message_id)
    assert answer is not None and "只有管理员" in answer["text"]
    for forged in (f"bc:t:{item.id}:r:emperor", f"bc:t:{item.id}:q:x", "bc:zz:1", "bc:p:x1"):
        answer = await admin.press_data(forged, message_id=picker.message_id)
        assert answer is not None and answer.get("show_alert"), forged
    assert (await _only()).audience == {"roles": [], "townships": [], "tiers": []}
    await admin.press("👀 预览")
    # The picker's buttons are gone; a toggle replayed from it is outdated.
    answer = await admin.press_data(f"bc:t:{item.id}:r:admin", message_id=picker.message_id)
    assert answer is not None and "已过期" in answer["text"]
    answer = await admin.press_data(f"bc:c:{item.id}:00000000", message_id=admin.last.message_id)
    assert answer is not None and "预览后已被修改" in answer["text"]
    assert not await ReminderDelivery.exists()
    await admin.press("✖️ 取消")
    assert admin.last.text == f"✖️ 群发通知 {item.reference} 已取消，未发送给任何人。"
    assert (await _only()).status is BroadcastStatus.CANCELLED
    await _tick(harness)
    assert not any(NOTICE in m.text for m in zh.messages)


async def test_a_double_confirm_sends_once_and_tells_who_confirmed(harness: Harness) -> None:
    admin = await _admin(harness)
    zh, _, _ = await _people(harness)
    await admin.send("/broadcast")
    await admin.send(NOTICE)
    await admin.press("▫️ 企业用户")
    await admin.press("👀 预览")
    answers = await asyncio.gather(admin.press("✅ 确认发送"), admin.press("✅ 确认发送"))
    refused = [a for a in answers if a and a.get("text")]
    assert len(refused) == 1 and "已由 吴管理 确认发送" in refused[0]["text"]
    assert await ReminderDelivery.filter(rule="broadcast").count() == 2
    await _tick(harness)
    assert sum(NOTICE in m.text for m in zh.messages) == 1
    assert (await User.get(id=ADMIN_ID)).reachable


async def test_without_quiet_hours_the_preview_does_not_name_any(harness: Harness) -> None:
    # quiet_start == quiet_end means none (the sandbox's platform): not "21:00–21:00"
    config = harness.application.bot_data[PLATFORM]
    always = config.reminders.model_copy(
        update={
            "quiet_start": config.reminders.quiet_start,
            "quiet_end": config.reminders.quiet_start,
        }
    )
    harness.application.bot_data[PLATFORM] = config.model_copy(update={"reminders": always})
    admin = await _admin(harness)
    await _people(harness)
    await admin.send("/broadcast")
    await admin.send(NOTICE)
    await admin.press("👀 预览")
    assert "接收人数：4" in admin.last.text
    assert "未设免打扰时段" in admin.last.text and "21:00" not in admin.last.text
    await admin.press("✅ 确认发送")
    assert "发送中：已发送 0 / 4" in admin.last.text
