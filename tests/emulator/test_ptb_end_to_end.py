"""A real python-telegram-bot Application against the emulator, over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.emulator import BotAPIEmulator
from tests.emulator.conftest import TOKEN, base_url, build_app

App = Any


async def test_queue_mode_start_and_button(emulator: BotAPIEmulator, server: TestServer) -> None:
    app = build_app(server)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        await _converse(emulator)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    # stopping PTB's updater cuts its pending poll and confirms offsets: no error is seen
    assert emulator.errors() == []
    assert emulator.requests()[-1][1:] == ("getUpdates", {"offset": 4, "timeout": 0})


async def test_polling_fixture_echoes(emulator: BotAPIEmulator, polling_bot: App) -> None:
    zoe = emulator.user(1009, first_name="Zoe")
    await zoe.send("ping")
    assert zoe.last.text == "ping"


async def _converse(emulator: BotAPIEmulator) -> None:
    alice = emulator.user(1001, first_name="Alice")
    await alice.send("/start")
    assert alice.last.text == "Hi Alice!"
    assert alice.last.html == "Hi <b>Alice</b>!"
    assert alice.last.entities == [{"type": "bold", "offset": 3, "length": 5}]
    assert alice.last.button_labels() == ["Yes ✅"]
    answer = await alice.press("Yes")
    assert answer == {"text": "got yes", "show_alert": False}
    assert alice.last.text == "You chose yes"
    assert alice.last.buttons == []
    assert alice.last.edit_date is not None
    await alice.send("hello there")
    assert [m.text for m in alice.transcript] == [
        "/start",
        "You chose yes",
        "hello there",
        "hello there",
    ]
    assert [m.from_bot for m in alice.transcript] == [False, True, False, True]
    assert emulator.errors() == []
    methods = [method for _, method, _ in emulator.requests() if method != "getUpdates"]
    assert methods == [
        "getMe",
        "deleteWebhook",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
        "sendMessage",
    ]


async def test_deliver_mode_runs_handlers_in_process(
    emulator: BotAPIEmulator, server: TestServer
) -> None:
    app = build_app(server)
    await app.initialize()
    seen: list[int] = []

    async def deliver(token: str, update: dict[str, Any]) -> None:
        assert token == TOKEN
        seen.append(update["update_id"])
        await app.process_update(Update.de_json(update, app.bot))

    emulator.deliver = deliver
    try:
        bob = emulator.user(1002, first_name="Bob", language_code="de")
        await bob.send("/start@innobridge_bot")
        assert bob.last.text == "Hi Bob!"
        answer = await bob.press("Yes ✅")
        assert answer == {"text": "got yes", "show_alert": False}
        assert bob.callback_answers == [answer]
        assert bob.last.text == "You chose yes"
        with pytest.raises(AssertionError, match="no inline button 'Nope'"):
            await bob.press("Nope")
    finally:
        await app.shutdown()
    assert seen == [1, 2]
    assert emulator.errors() == []


async def test_ptb_maps_errors(
    emulator: BotAPIEmulator, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without the opt-in, PTB 22 emits a deprecation warning while building RetryAfter,
    # which filterwarnings=error turns into a failure instead of the RetryAfter
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    url = base_url(server)
    emulator.user(1003, first_name="Carol")
    async with Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as bot:
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await bot.send_message(1003, "hi")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(424242, "hi")
        emulator.bot().chat(emulator.users[1003]).started = True
        with pytest.raises(BadRequest, match='Can\'t parse entities: unsupported start tag "p"'):
            await bot.send_message(1003, "<p>hi</p>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(1003, "x" * 4097)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(1003, "hi", reply_markup=markup)
        sent = await bot.send_message(1003, "hi")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("hi", chat_id=1003, message_id=sent.message_id)
        for _ in range(4):
            await bot.send_message(1003, "burst")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1003, "one too many")
        assert caught.value.retry_after == dt.timedelta(seconds=1)
        emulator.block(1003)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_chat_action(1003, "typing")
    assert [m.text for m in emulator.messages(1003)] == ["hi", "burst", "burst", "burst", "burst"]


async def test_ptb_file_round_trip(emulator: BotAPIEmulator, server: TestServer) -> None:
    url = base_url(server)
    dave = emulator.user(1004, first_name="Dave")
    updates: list[Update] = []
    async with Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as bot:

        async def deliver(token: str, update: dict[str, Any]) -> None:
            updates.append(Update.de_json(update, bot))

        emulator.deliver = deliver
        await dave.send_document("plan.txt", b"step 1\nstep 2\n", mime_type="text/plain")
        message = updates[0].message
        assert message is not None
        assert message.document is not None
        assert message.document.file_name == "plan.txt"
        file = await message.document.get_file()
        assert file.file_size == 14
        assert bytes(await file.download_as_bytearray()) == b"step 1\nstep 2\n"

        sent = await bot.send_document(
            1004,
            b"%PDF-1.4 report",
            filename="report.pdf",
            caption="*Q3*",
            parse_mode="MarkdownV2",
        )
        assert sent.document is not None
        assert sent.caption == "Q3"
        assert dave.download(sent.document.file_id) == b"%PDF-1.4 report"
        assert dave.last.document is not None
        assert dave.last.document["file_name"] == "report.pdf"
        again = await bot.send_document(1004, sent.document.file_id)
        assert again.document is not None
        assert again.document.file_unique_id == sent.document.file_unique_id
        with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
            await bot.send_document(1004, "not-a-file-id")
        await dave.send_photo(
            b"\x89PNG\r\n\x1a\n" + b"\0" * 8 + b"\0\0\0\x02\0\0\0\x03", caption="pic"
        )
        photo_message = updates[-1].message
        assert photo_message is not None
        assert photo_message.caption == "pic"
        assert (photo_message.photo[-1].width, photo_message.photo[-1].height) == (2, 3)
        await dave.send_sticker()
        await dave.send_location(55.75, 37.61)
        sticker_message, location_message = updates[-2].message, updates[-1].message
        assert sticker_message is not None
        assert sticker_message.sticker is not None
        assert location_message is not None
        assert location_message.location is not None
        assert location_message.location.latitude == pytest.approx(55.75)


async def test_ptb_commands(emulator: BotAPIEmulator, server: TestServer) -> None:
    from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    url = base_url(server)
    emulator.user(1005, first_name="Eve", language_code="ru")
    async with Bot(TOKEN, base_url=f"{url}/bot") as bot:
        assert await bot.set_my_commands([BotCommand("start", "Start")])
        assert await bot.set_my_commands(
            [BotCommand("start", "Старт")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="ru",
        )
        assert await bot.set_my_commands(
            [BotCommand("vip", "VIP")], scope=BotCommandScopeChat(1005)
        )
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert emulator.commands_for(1005) == [{"command": "vip", "description": "VIP"}]
    assert emulator.commands_for(1006, "ru") == [{"command": "start", "description": "Старт"}]
    assert emulator.commands_for(1006, "en") == [{"command": "start", "description": "Start"}]
