"""Registration by chat, as a user lives it (through the emulator, on both databases)."""

from __future__ import annotations

from models.entities import Registration, RegistrationStatus, User, UserStatus
from tests.conftest import ADMIN_ID, Harness
from tests.factories import VALID_CODE, WRONG_CHECK, register_enterprise


async def test_enterprise_registers_in_chinese(harness: Harness) -> None:
    zhang = harness.person(101, "张伟")
    await zhang.send("/start")
    assert "第 1 步，共 6 步" in zhang.last.text
    await zhang.press("企业用户")
    assert "第 2 步，共 6 步" in zhang.last.text
    assert "真实姓名" in zhang.last.text
    await zhang.send("张伟")
    assert zhang.reply_keyboard is not None
    assert "📱 分享我的手机号" in zhang.reply_keyboard
    await zhang.share_contact()
    assert zhang.reply_keyboard is None  # the contact keyboard is taken away
    await zhang.send("如皋市星火科技有限公司")
    assert "统一社会信用代码" in zhang.last.text
    await zhang.send(VALID_CODE.lower())
    await zhang.press("城南街道")
    summary = zhang.last.text
    assert "请核对" in summary
    assert "138****0101" in summary
    assert VALID_CODE in summary
    await zhang.press("✅ 确认提交")
    assert "注册申请已提交" in zhang.last.text
    registration = await Registration.get(user_id=101)
    assert registration.reference in zhang.last.text
    assert registration.status is RegistrationStatus.SUBMITTED
    assert registration.credit_code == VALID_CODE
    assert registration.phone == "+8613800000101"
    await zhang.send("/status")
    assert registration.reference in zhang.last.text
    assert "审核中" in zhang.last.text


async def test_institution_registers_in_english_with_service_fields(harness: Harness) -> None:
    emma = harness.person(102, "Emma", language_code="en-GB")
    await emma.send("/start")
    await emma.press("Service institution")
    await emma.send("Emma Clark")
    await emma.send("13900139000")
    await emma.send("Nantong Testing Centre")
    await emma.send(VALID_CODE)
    assert "Step 6 of 6" in emma.last.text
    await emma.press("Done")  # nothing picked yet
    assert emma.callback_answers[-1]["text"] == "Please choose at least one service field."
    await emma.press("Testing and inspection")
    await emma.press("Shared instruments")
    await emma.press("✅ Shared instruments")  # pressed twice: unpicked again
    await emma.press("Done")
    assert "Testing and inspection" in emma.last.text
    assert "Shared instruments" not in emma.last.text
    await emma.press("✅ Confirm and submit")
    registration = await Registration.get(user_id=102)
    assert registration.service_fields == ["testing"]
    assert registration.reference in emma.last.text


async def test_research_team_has_four_steps(harness: Harness) -> None:
    li = harness.person(103, "李", language_code="zh-hans")
    await li.send("/start")
    await li.press("高校科研团队")
    assert "共 4 步" in li.last.text
    await li.send("李明")
    await li.share_contact()
    await li.send("南通大学材料学院")
    assert "请核对" in li.last.text
    assert "统一社会信用代码" not in li.last.text


async def test_bad_input_is_explained_and_the_step_kept(harness: Harness) -> None:
    zhang = harness.person(104, "张伟")
    await zhang.send("/start")
    await zhang.send("随便打字")
    assert "请点击上方消息中的按钮" in zhang.transcript[-2].text
    await zhang.press("企业用户")
    await zhang.send("张" * 41)
    assert "2 至 40 个字符" in zhang.transcript[-2].text
    await zhang.send_sticker()
    assert "需要输入文字" in zhang.transcript[-2].text
    await zhang.send("张伟")
    await zhang.share_contact(user_id=555, phone_number="+8613700000000")  # someone else's card
    assert "本人的手机号" in zhang.transcript[-1].text or "本人的手机号" in zhang.last.text
    await zhang.send("12345")
    assert "不是有效的手机号" in zhang.transcript[-2].text
    await zhang.send("13800138000")
    await zhang.send("星火科技")
    await zhang.send(WRONG_CHECK)
    assert "校验位不正确" in zhang.transcript[-2].text
    await zhang.send("91320682MA1N0000I")
    assert "18 位" in zhang.transcript[-2].text
    await zhang.send(VALID_CODE)
    assert "镇（街道）" in zhang.last.text  # only now does the flow move on
    user = await User.get(id=104)
    assert user.status is UserStatus.PENDING


async def test_back_cancel_and_edit(harness: Harness) -> None:
    zhang = harness.person(105, "张伟")
    await zhang.send("/start")
    await zhang.press("企业用户")
    await zhang.send("张伟")
    await zhang.send("⬅️ 返回")  # typed Back on the phone step's keyboard
    assert "真实姓名" in zhang.last.text
    await zhang.send("张卫")
    await zhang.share_contact()
    await zhang.press("⬅️ 返回")
    assert "手机号" in zhang.last.text
    await zhang.share_contact()
    await zhang.send("星火科技")
    await zhang.send(VALID_CODE)
    await zhang.press("东陈镇")
    await zhang.press("✏️ 修改")
    await zhang.press("真实姓名")
    await zhang.send("张伟")
    assert "请核对" in zhang.last.text
    assert "张伟" in zhang.last.text
    await zhang.press("✖️ 取消")
    assert "已取消注册" in zhang.last.text
    await zhang.press_data("rg:confirm:ok", message_id=zhang.messages[-2].message_id)
    assert not await Registration.exists(user_id=105)


async def test_old_and_forged_buttons_do_nothing(harness: Harness) -> None:
    zhang = harness.person(106, "张伟")
    await zhang.send("/start")
    first_question = zhang.last.message_id
    await zhang.press("企业用户")
    answer = await zhang.press_data("rg:role:v:institution", message_id=first_question)
    assert answer is not None
    assert "已过期" in answer["text"]
    answer = await zhang.press_data("rg:real_name:v:admin")
    assert answer is not None
    assert "已过期" in answer["text"]
    answer = await zhang.press_data("nonsense")
    assert answer is not None
    assert "已过期" in answer["text"]
    assert "真实姓名" in zhang.last.text


async def test_unknown_command_and_chat_outside_a_flow(harness: Harness) -> None:
    zhang = harness.person(107, "张伟")
    await zhang.send("/frobnicate")
    assert "没有这个命令" in zhang.last.text
    await zhang.send("你好")
    assert "/help" in zhang.last.text


async def test_language_command_switches_and_asks_again(harness: Harness) -> None:
    zhang = harness.person(108, "张伟")
    await zhang.send("/start")
    await zhang.press("企业用户")
    await zhang.send("/language")
    await zhang.press("English")
    assert "Real name" in zhang.last.text or "real name" in zhang.last.text
    assert "Step 2 of 6" in zhang.last.text
    menu = harness.emulator.commands_for(108)
    assert any(c["command"] == "status" and c["description"] == "Account status" for c in menu)


async def test_start_sets_the_menu_of_the_role(harness: Harness) -> None:
    """An admin from INNOBRIDGE_ADMIN_IDS had no per-chat menu (their chat was not started):
    /start gives them the admin's commands."""
    admin = harness.person(ADMIN_ID, "周管理")
    assert "invite" not in [c["command"] for c in harness.emulator.commands_for(ADMIN_ID)]
    await admin.send("/start")
    assert "欢迎回来" in admin.last.text
    menu = [c["command"] for c in harness.emulator.commands_for(ADMIN_ID)]
    assert {"pending", "invite", "complaints"} <= set(menu)


async def test_full_walk_helper(harness: Harness) -> None:
    zhang = harness.person(109, "张伟")
    await register_enterprise(zhang)
    assert "请核对" in zhang.last.text
