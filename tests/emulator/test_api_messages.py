"""Bot API message methods over real HTTP: encodings, validation, edits, callbacks, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from bot.emulator import BotAPIEmulator
from bot.emulator.errors import ApiError
from bot.emulator.limits import RateLimiter
from tests.emulator.conftest import BOT_ID, TOKEN, ApiCall

ALICE = 501


async def started_user(emulator: BotAPIEmulator, user_id: int = ALICE) -> None:
    """Create a user who has written to the bot (queued update, nobody waits)."""
    emulator.user(user_id, first_name="Alice", username="alice")
    bot = emulator.bot()
    bot.chat(emulator.users[user_id]).started = True


async def test_auth_unknown_method_and_get_me(api: ApiCall) -> None:
    status, body = await api("getMe", token="999:nope")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await api("fooBar")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await api("GETME")
    assert status == 200
    assert body["result"] == {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "innobridge",
        "username": "innobridge_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
    assert (await api("logOut"))[1]["result"] is True


async def test_all_parameter_encodings(
    emulator: BotAPIEmulator, http: TestClient[Any, Any]
) -> None:
    await started_user(emulator)
    url = f"/bot{TOKEN}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    responses = [
        await http.get(url, params={"chat_id": ALICE, "text": "query"}),
        await http.post(
            url, data={"chat_id": str(ALICE), "text": "form", "reply_markup": json.dumps(markup)}
        ),
        await http.post(url, json={"chat_id": ALICE, "text": "json", "reply_markup": markup}),
        await http.post(
            url, json={"chat_id": ALICE, "text": "json-str", "reply_markup": json.dumps(markup)}
        ),
    ]
    form = FormData()
    form.add_field("chat_id", str(ALICE))
    form.add_field("text", "multipart")
    responses.append(await http.post(url, data=form))
    bodies = [await r.json() for r in responses]
    assert [r.status for r in responses] == [200] * 5
    assert [b["result"]["text"] for b in bodies] == [
        "query",
        "form",
        "json",
        "json-str",
        "multipart",
    ]
    assert bodies[1]["result"]["reply_markup"] == markup
    assert [m.text for m in emulator.messages(ALICE)] == [
        "query",
        "form",
        "json",
        "json-str",
        "multipart",
    ]
    logged = [params for _, method, params in emulator.requests() if method == "sendMessage"]
    assert logged[1]["chat_id"] == ALICE
    assert logged[1]["reply_markup"] == markup


async def test_send_message_returns_telegram_message(
    emulator: BotAPIEmulator, api: ApiCall
) -> None:
    await started_user(emulator)
    status, body = await api(
        "sendMessage",
        chat_id=ALICE,
        text="  <b>Hi</b> <a href='https://e.org'>x</a>\n",
        parse_mode="HTML",
    )
    assert status == 200
    msg = body["result"]
    assert msg["message_id"] == 1
    assert msg["chat"] == {
        "id": ALICE,
        "type": "private",
        "first_name": "Alice",
        "username": "alice",
    }
    assert msg["from"]["id"] == BOT_ID
    assert isinstance(msg["date"], int)
    assert msg["text"] == "Hi x"
    assert msg["entities"] == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 3, "length": 1, "url": "https://e.org"},
    ]
    assert "reply_markup" not in msg
    view = emulator.messages(ALICE)[0]
    assert view.html == "  <b>Hi</b> <a href='https://e.org'>x</a>\n"
    assert view.from_bot


async def test_send_message_refusals(emulator: BotAPIEmulator, api: ApiCall) -> None:
    emulator.user(ALICE, first_name="Alice")
    assert (await api("sendMessage", chat_id=777, text="x"))[1][
        "description"
    ] == "Bad Request: chat not found"
    assert (await api("sendMessage", chat_id="@alice", text="x"))[0] == 400
    status, body = await api("sendMessage", chat_id=ALICE, text="x")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    emulator.bot().chat(emulator.users[ALICE]).started = True
    cases = {
        "Bad Request: message text is empty": {"text": ""},
        "Bad Request: message is too long": {"text": "x" * 4097},
        "Bad Request: BUTTON_DATA_INVALID": {
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "d" * 65}]]},
        },
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard": {
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "b"}]]},
        },
        "Bad Request: inline keyboard button URL 'not a url' is invalid: Wrong HTTP URL": {
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "b", "url": "not a url"}]]},
        },
        'Bad Request: can\'t parse entities: Unsupported start tag "div" at byte offset 0': {
            "text": "<div>x</div>",
            "parse_mode": "HTML",
        },
        "Bad Request: message to be replied not found": {
            "text": "x",
            "reply_parameters": {"message_id": 99},
        },
    }
    for description, params in cases.items():
        status, body = await api("sendMessage", chat_id=ALICE, **params)
        assert (status, body["description"]) == (400, description), params
    assert (await api("sendMessage", chat_id=ALICE, text="x" * 4096))[0] == 200
    # 64 bytes of UTF-8 is the limit, not 64 characters
    ok_data = {"inline_keyboard": [[{"text": "b", "callback_data": "é" * 32}]]}
    assert (await api("sendMessage", chat_id=ALICE, text="x", reply_markup=ok_data))[0] == 200
    emulator.block(ALICE)
    status, body = await api("sendMessage", chat_id=ALICE, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    assert len(emulator.errors()) == len(cases) + 4
    assert emulator.errors()[-1] == (
        TOKEN,
        "sendMessage",
        "Forbidden: bot was blocked by the user",
    )


async def test_reply_keyboards(emulator: BotAPIEmulator, api: ApiCall) -> None:
    await started_user(emulator)
    alice = emulator.user(ALICE, first_name="Alice")
    keyboard = {
        "keyboard": [[{"text": "Share phone", "request_contact": True}], ["Cancel"]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }
    status, body = await api("sendMessage", chat_id=ALICE, text="phone?", reply_markup=keyboard)
    assert status == 200
    assert "reply_markup" not in body["result"]
    assert alice.reply_keyboard == ["Share phone", "Cancel"]
    assert alice.last.reply_keyboard == [
        [{"text": "Share phone", "request_contact": True}],
        [{"text": "Cancel"}],
    ]
    await api("sendMessage", chat_id=ALICE, text="bye", reply_markup={"remove_keyboard": True})
    assert alice.reply_keyboard is None
    await api("sendMessage", chat_id=ALICE, text="again", reply_markup=keyboard)
    emulator.deliver = _swallow
    await alice.share_contact("+15550100")
    # one-time keyboard hides after its request_contact button was used
    assert alice.reply_keyboard is None
    contact = alice.transcript[-1].contact
    assert contact == {"phone_number": "+15550100", "first_name": "Alice", "user_id": ALICE}


async def _swallow(token: str, update: dict[str, Any]) -> None:
    return None


async def test_edits_and_deletes(emulator: BotAPIEmulator, api: ApiCall) -> None:
    await started_user(emulator)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    _, sent = await api(
        "sendMessage", chat_id=ALICE, text="<b>v1</b>", parse_mode="HTML", reply_markup=markup
    )
    mid = sent["result"]["message_id"]
    status, body = await api(
        "editMessageText",
        chat_id=ALICE,
        message_id=mid,
        text="<b>v1</b>",
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert status == 400
    assert body["description"].startswith(
        "Bad Request: message is not modified: specified new message content"
    )
    # same text but no markup: it is a change (the keyboard goes away)
    status, body = await api(
        "editMessageText",
        chat_id=ALICE,
        message_id=mid,
        text="v1",
        entities=[{"type": "bold", "offset": 0, "length": 2}],
    )
    assert status == 200
    assert "reply_markup" not in body["result"]
    assert isinstance(body["result"]["edit_date"], int)
    status, body = await api(
        "editMessageReplyMarkup", chat_id=ALICE, message_id=mid, reply_markup=markup
    )
    assert body["result"]["reply_markup"] == markup
    status, body = await api(
        "editMessageReplyMarkup", chat_id=ALICE, message_id=mid, reply_markup=markup
    )
    assert status == 400
    status, body = await api(
        "editMessageText",
        chat_id=ALICE,
        message_id=mid,
        text="v2",
        reply_markup={"keyboard": [["x"]]},
    )
    assert (status, body["description"]) == (400, "Bad Request: inline keyboard expected")
    view = emulator.messages(ALICE)[0]
    assert (view.text, view.button_labels(), view.edit_date is not None) == ("v1", ["A"], True)
    assert (await api("editMessageText", chat_id=ALICE, message_id=99, text="x"))[1][
        "description"
    ] == ("Bad Request: message to edit not found")
    status, body = await api("deleteMessage", chat_id=ALICE, message_id=mid)
    assert (status, body["result"]) == (200, True)
    status, body = await api("deleteMessage", chat_id=ALICE, message_id=mid)
    assert (status, body["description"]) == (400, "Bad Request: message to delete not found")
    assert (await api("editMessageText", chat_id=ALICE, message_id=mid, text="x"))[0] == 400
    assert emulator.messages(ALICE) == []


async def test_answer_callback_query_once(emulator: BotAPIEmulator, api: ApiCall) -> None:
    await started_user(emulator)
    alice = emulator.user(ALICE, first_name="Alice")
    markup = {"inline_keyboard": [[{"text": "Go on", "callback_data": "go"}]]}
    await api("sendMessage", chat_id=ALICE, text="menu", reply_markup=markup)
    updates: list[dict[str, Any]] = []

    async def deliver(token: str, update: dict[str, Any]) -> None:
        updates.append(update)
        query = update["callback_query"]
        assert query["message"]["message_id"] == 1
        assert query["chat_instance"]
        status, body = await api(
            "answerCallbackQuery", callback_query_id=query["id"], text="ok", show_alert=True
        )
        assert status == 200
        status, body = await api("answerCallbackQuery", callback_query_id=query["id"])
        assert (status, body["description"]) == (
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )

    emulator.deliver = deliver
    answer = await alice.press("Go")
    assert answer == {"text": "ok", "show_alert": True}
    assert alice.callback_answers == [answer]
    assert updates[0]["callback_query"]["data"] == "go"
    assert (await api("answerCallbackQuery", callback_query_id="123"))[0] == 400
    # queries older than 15 minutes can no longer be answered
    emulator.deliver = _swallow
    assert await alice.press_data("late") is None
    record = list(emulator.bot().callbacks.values())[-1]
    record.created -= 15 * 60 + 1
    assert (await api("answerCallbackQuery", callback_query_id=record.query_id))[0] == 400
    status, body = await api("sendChatAction", chat_id=ALICE, action="dancing")
    assert (status, body["description"]) == (400, "Bad Request: wrong parameter action in request")
    assert (await api("sendChatAction", chat_id=ALICE, action="typing"))[1]["result"] is True


async def test_rate_limit_per_chat(emulator: BotAPIEmulator, api: ApiCall) -> None:
    await started_user(emulator)
    statuses = [(await api("sendMessage", chat_id=ALICE, text=str(i)))[0] for i in range(5)]
    assert statuses == [200] * 5
    status, body = await api("sendMessage", chat_id=ALICE, text="too fast")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert len(emulator.messages(ALICE)) == 5


def test_a_chat_allowed_one_message_at_a_time_gets_its_first() -> None:
    # A new chat's bucket starts full even with a burst of one (it used to refill by a
    # negative time and refuse the first message).
    limiter = RateLimiter(enabled=True, global_rate=30, chat_rate=1, chat_burst=1)
    for chat in range(1, 21):
        limiter.check(chat)
    with pytest.raises(ApiError):
        limiter.check(1)


async def test_commands(emulator: BotAPIEmulator, api: ApiCall) -> None:
    await started_user(emulator)
    default = [{"command": "start", "description": "Start"}]
    private_ru = [{"command": "help", "description": "Помощь"}]
    mine = [{"command": "admin", "description": "Admin"}]
    assert (await api("setMyCommands", commands=default))[0] == 200
    assert (
        await api(
            "setMyCommands",
            commands=private_ru,
            scope={"type": "all_private_chats"},
            language_code="ru",
        )
    )[0] == 200
    assert (await api("setMyCommands", commands=mine, scope={"type": "chat", "chat_id": ALICE}))[
        0
    ] == 200
    bad = {
        "Bad Request: BOT_COMMAND_INVALID": {
            "commands": [{"command": "Start", "description": "x"}]
        },
        "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID": {
            "commands": [{"command": "s", "description": ""}]
        },
        "Bad Request: LANG_CODE_INVALID": {"commands": default, "language_code": "eng"},
        "Bad Request: chat not found": {
            "commands": default,
            "scope": {"type": "chat", "chat_id": 9},
        },
    }
    for description, params in bad.items():
        status, body = await api("setMyCommands", **params)
        assert (status, body["description"]) == (400, description)
    assert (await api("setMyCommands", commands=[{"command": "a" * 33, "description": "x"}]))[
        0
    ] == 400
    assert (await api("getMyCommands"))[1]["result"] == default
    assert (await api("getMyCommands", language_code="ru"))[1]["result"] == []
    assert emulator.commands_for(ALICE, "en") == mine
    assert emulator.commands_for(42, "ru") == private_ru
    assert emulator.commands_for(42, "de") == default
    await api("deleteMyCommands", scope={"type": "all_private_chats"}, language_code="ru")
    assert emulator.commands_for(42, "ru") == default
    await api("setMyDescription", description="Science services")
    assert (await api("getMyDescription", language_code="de"))[1]["result"] == {
        "description": "Science services"
    }
    await api("setChatMenuButton", menu_button={"type": "commands"})
    assert (await api("getChatMenuButton"))[1]["result"] == {"type": "commands"}
