"""The control routes the sandbox page uses, plus queue-mode timeouts and allowed_updates."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from bot.emulator import BotAPIEmulator
from tests.emulator.conftest import TOKEN, ApiCall

Http = TestClient[Any, Any]


async def control(http: Http, verb: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    response = await http.request(verb, f"/_control{path}", **kwargs)
    body = await response.json()
    return response.status, body.get("result", body)


async def test_sandbox_conversation(emulator: BotAPIEmulator, http: Http, api: ApiCall) -> None:
    status, user = await control(
        http, "POST", "/users", json={"id": 77, "first_name": "Ann", "phone_number": "+15550177"}
    )
    assert status == 200
    assert user == {
        "id": 77,
        "is_bot": False,
        "first_name": "Ann",
        "language_code": "en",
        "phone_number": "+15550177",
    }
    assert (await control(http, "GET", "/bots"))[1][0]["token"] == TOKEN

    started = time.monotonic()
    status, sent = await control(http, "POST", "/chats/77/text", json={"text": "/start"})
    assert status == 200
    assert time.monotonic() - started < 1  # nobody polls, yet it returns at once
    assert sent["text"] == "/start"
    _, updates = await api("getUpdates")
    assert updates["result"][0]["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 6}
    ]

    markup = {
        "inline_keyboard": [
            [{"text": "Pick", "callback_data": "pick:1"}, {"text": "Site", "url": "https://e.org"}]
        ]
    }
    await api(
        "sendMessage",
        chat_id=77,
        text='<b>Hi</b> <a href="https://e.org">site</a> &lt;script&gt;',
        parse_mode="HTML",
        reply_markup=markup,
    )
    await api(
        "sendMessage",
        chat_id=77,
        text="Phone?",
        reply_markup={"keyboard": [[{"text": "Share", "request_contact": True}]]},
    )
    _, page = await control(http, "GET", "/chats/77/messages?after=0")
    assert [m["text"] for m in page["messages"]] == ["/start", "Hi site <script>", "Phone?"]
    greeting = page["messages"][1]
    assert greeting["html"] == (
        '<b>Hi</b> <a href="https://e.org" rel="noopener noreferrer" target="_blank">site</a> '
        "&lt;script&gt;"
    )
    assert greeting["buttons"] == [
        [{"text": "Pick", "callback_data": "pick:1"}, {"text": "Site", "url": "https://e.org"}]
    ]
    assert page["reply_keyboard"] == [[{"text": "Share", "request_contact": True}]]
    cursor = page["cursor"]
    assert (await control(http, "GET", f"/chats/77/messages?after={cursor}"))[1]["messages"] == []

    await api("editMessageText", chat_id=77, message_id=greeting["message_id"], text="Edited")
    await api("deleteMessage", chat_id=77, message_id=3)
    _, changes = await control(http, "GET", f"/chats/77/messages?after={cursor}")
    assert [m["text"] for m in changes["messages"]] == ["Edited"]
    assert changes["messages"][0]["version"] > greeting["version"]
    assert changes["messages"][0]["edit_date"] is not None
    assert changes["deleted"] == [3]
    assert changes["cursor"] > cursor

    await api("editMessageReplyMarkup", chat_id=77, message_id=2, reply_markup=markup)
    status, error = await control(
        http, "POST", "/chats/77/press", json={"message_id": 2, "callback_data": "forged"}
    )
    assert status == 400
    assert "no button" in error["description"]
    status, pressed = await control(
        http, "POST", "/chats/77/press", json={"message_id": 2, "callback_data": "pick:1"}
    )
    assert status == 200
    offset = updates["result"][-1]["update_id"] + 1
    _, updates = await api("getUpdates", offset=offset)
    query = updates["result"][0]["callback_query"]
    assert (query["id"], query["data"]) == (pressed["callback_query_id"], "pick:1")
    await api("answerCallbackQuery", callback_query_id=query["id"], text="Picked")
    _, page = await control(http, "GET", "/chats/77/messages?after=0")
    assert page["callback_answers"] == [{"text": "Picked", "show_alert": False}]

    status, contact = await control(http, "POST", "/chats/77/contact")
    assert contact["contact"] == {"phone_number": "+15550177", "first_name": "Ann", "user_id": 77}

    form = FormData()
    form.add_field("file", b"hello file", filename="notes.txt", content_type="text/plain")
    form.add_field("caption", "my notes")
    status, doc = await control(http, "POST", "/chats/77/document", data=form)
    assert status == 200
    assert (doc["text"], doc["document"]["file_name"], doc["document"]["mime_type"]) == (
        "my notes",
        "notes.txt",
        "text/plain",
    )
    download = await http.get(f"/_control/files/{doc['document']['file_id']}")
    assert await download.read() == b"hello file"
    form = FormData()
    form.add_field("file", b"\x89PNG fake", filename="p.png", content_type="image/png")
    status, photo = await control(http, "POST", "/chats/77/photo", data=form)
    assert photo["photo"]["file_size"] == 9

    assert (await control(http, "POST", "/chats/5/text", json={"text": "x"}))[0] == 404
    assert (await control(http, "POST", "/chats/77/text", json={"text": ""}))[0] == 400
    assert (await control(http, "POST", "/users", json={"first_name": "No id"}))[0] == 400
    assert (await control(http, "GET", "/files/nope"))[0] == 404


async def test_control_send_in_deliver_mode_does_not_wait(
    emulator: BotAPIEmulator, http: Http
) -> None:
    import asyncio

    release = asyncio.Event()
    handled: list[str] = []

    async def slow_bot(token: str, update: dict[str, Any]) -> None:
        await release.wait()
        handled.append(update["message"]["text"])

    emulator.deliver = slow_bot
    await control(http, "POST", "/users", json={"id": 78, "first_name": "Ben"})
    status, _ = await control(http, "POST", "/chats/78/text", json={"text": "hi"})
    assert status == 200
    assert handled == []
    release.set()
    for _ in range(50):
        if handled:
            break
        await asyncio.sleep(0.01)
    assert handled == ["hi"]


async def test_queue_mode_times_out_without_a_bot(emulator: BotAPIEmulator) -> None:
    emulator.timeout = 0.2
    alice = emulator.user(79, first_name="Alice")
    with pytest.raises(TimeoutError, match="was not fetched within"):
        await alice.send("anyone?")


async def test_allowed_updates_filter(emulator: BotAPIEmulator, api: ApiCall) -> None:
    from bot.emulator import user_actions

    alice = emulator.user(80, first_name="Alice")
    _, body = await api("getUpdates", allowed_updates=["callback_query"])
    assert body["result"] == []
    await user_actions.send_text(emulator, alice.bot, alice.info, "dropped", wait=False)
    assert (await api("getUpdates"))[1]["result"] == []
    # an empty list restores the default set, in which messages are included
    await api("getUpdates", allowed_updates=[])
    await user_actions.send_text(emulator, alice.bot, alice.info, "kept", wait=False)
    assert [u["message"]["text"] for u in (await api("getUpdates"))[1]["result"]] == ["kept"]
