"""getUpdates long polling, webhooks and files over real HTTP."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

from aiohttp import ClientSession, FormData, web
from aiohttp.test_utils import TestClient, TestServer

from bot.emulator import BotAPIEmulator
from bot.emulator.params import MAX_UPLOAD_BYTES
from tests.emulator.conftest import TOKEN, ApiCall

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def produce(emulator: BotAPIEmulator, user_id: int, text: str) -> None:
    """A user message queued without waiting for the bot (as the sandbox page does)."""
    from bot.emulator import user_actions

    emulator.user(user_id, first_name=f"U{user_id}")
    bot = emulator.bot()
    await user_actions.send_text(emulator, bot, emulator.users[user_id], text, wait=False)


async def test_get_updates_offset_limit_and_negative_offset(
    emulator: BotAPIEmulator, api: ApiCall
) -> None:
    for i in range(5):
        await produce(emulator, 7, f"m{i}")
    _, body = await api("getUpdates", limit=2)
    ids = [u["update_id"] for u in body["result"]]
    assert len(ids) == 2
    assert ids[1] == ids[0] + 1
    assert body["result"][0]["message"]["text"] == "m0"
    # not confirmed yet: the same updates come again
    _, again = await api("getUpdates")
    assert [u["update_id"] for u in again["result"]][:2] == ids
    _, body = await api("getUpdates", offset=ids[1] + 1)
    assert [u["message"]["text"] for u in body["result"]] == ["m2", "m3", "m4"]
    _, body = await api("getUpdates", offset=-1)
    assert [u["message"]["text"] for u in body["result"]] == ["m4"]
    # the negative offset forgot the older ones
    _, body = await api("getUpdates")
    assert [u["message"]["text"] for u in body["result"]] == ["m4"]
    last = body["result"][0]["update_id"]
    _, body = await api("getUpdates", offset=last + 1, timeout=0)
    assert body["result"] == []


async def test_long_poll_waits_and_returns_early(emulator: BotAPIEmulator, api: ApiCall) -> None:
    started = time.monotonic()
    _, body = await api("getUpdates", timeout=0.3)
    assert body["result"] == []
    assert time.monotonic() - started >= 0.28
    poll = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await produce(emulator, 7, "wake up")
    status, body = await poll
    assert status == 200
    assert body["result"][0]["message"]["text"] == "wake up"
    assert time.monotonic() - started < 1


async def test_second_poll_terminates_the_first(emulator: BotAPIEmulator, api: ApiCall) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(api("getUpdates", timeout=0.2))
    status, body = await first
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running"
    )
    assert (await second)[1]["result"] == []


async def test_shutdown_wakes_pending_poll(emulator: BotAPIEmulator) -> None:
    server = TestServer(emulator.make_app())
    await server.start_server()
    async with ClientSession() as session:
        url = server.make_url(f"/bot{TOKEN}/getUpdates")
        poll = asyncio.create_task(session.post(url, json={"timeout": 30}))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        # closing the server runs on_shutdown, which answers the poll with [] at once
        close = asyncio.create_task(server.close())
        response = await poll
        assert (await response.json())["result"] == []
        await close
    assert time.monotonic() - started < 2


async def test_webhook_delivery_with_secret_and_retry(
    emulator: BotAPIEmulator, api: ApiCall
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    fail_first = [True]

    async def hook(request: web.Request) -> web.Response:
        if fail_first[0]:
            fail_first[0] = False
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    receiver_app = web.Application()
    receiver_app.router.add_post("/hook", hook)
    receiver = TestServer(receiver_app)
    await receiver.start_server()
    try:
        url = str(receiver.make_url("/hook"))
        status, body = await api("setWebhook", url="http://example.com/hook")
        assert (status, body["description"]) == (
            400,
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        )
        status, body = await api("setWebhook", url=url, secret_token="bad secret!")
        assert body["description"] == "Bad Request: secret token contains unallowed characters"
        assert (await api("setWebhook", url=url, secret_token="s3cr-et_"))[1]["result"] is True
        status, body = await api("getUpdates")
        assert status == 409
        assert body["description"].startswith(
            "Conflict: can't use getUpdates method while webhook is active"
        )
        alice = emulator.user(11, first_name="Alice")
        await alice.send("/start")  # returns once the webhook acknowledged it
        await alice.send("second")
        assert [(secret, u["message"]["text"]) for secret, u in received] == [
            ("s3cr-et_", "/start"),
            ("s3cr-et_", "second"),
        ]
        assert received[0][1]["update_id"] < received[1][1]["update_id"]
        info = (await api("getWebhookInfo"))[1]["result"]
        assert info["url"] == url
        assert info["pending_update_count"] == 0
        assert (
            info["last_error_message"]
            == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert (await api("deleteWebhook", drop_pending_updates=True))[1]["result"] is True
        assert (await api("getWebhookInfo"))[1]["result"] == {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
    finally:
        await receiver.close()


async def test_file_round_trip(
    emulator: BotAPIEmulator, api: ApiCall, http: TestClient[Any, Any]
) -> None:
    alice = emulator.user(12, first_name="Alice")
    updates: list[dict[str, Any]] = []

    async def deliver(token: str, update: dict[str, Any]) -> None:
        updates.append(update)

    emulator.deliver = deliver
    await alice.send_document(
        "report.pdf", b"%PDF-1.4 hello", mime_type="application/pdf", caption="Q3"
    )
    document = updates[0]["message"]["document"]
    assert updates[0]["message"]["caption"] == "Q3"
    assert (document["file_name"], document["mime_type"], document["file_size"]) == (
        "report.pdf",
        "application/pdf",
        14,
    )
    _, body = await api("getFile", file_id=document["file_id"])
    file = body["result"]
    assert file["file_unique_id"] == document["file_unique_id"]
    download = await http.get(f"/file/bot{TOKEN}/{file['file_path']}")
    assert await download.read() == b"%PDF-1.4 hello"
    assert (await api("getFile", file_id="nope"))[1][
        "description"
    ] == "Bad Request: invalid file_id"

    form = FormData()
    form.add_field("chat_id", "12")
    form.add_field("caption", "<i>yours</i>")
    form.add_field("parse_mode", "HTML")
    form.add_field("document", b"a,b\n1,2\n", filename="data.csv", content_type="text/csv")
    response = await http.post(f"/bot{TOKEN}/sendDocument", data=form)
    sent = (await response.json())["result"]
    assert sent["caption"] == "yours"
    assert sent["caption_entities"] == [{"type": "italic", "offset": 0, "length": 5}]
    assert alice.download(sent["document"]["file_id"]) == b"a,b\n1,2\n"
    assert alice.last.text == "yours"
    assert alice.last.document is not None
    # resend by file_id; a photo cannot stand in for a document and vice versa
    status, body = await api("sendDocument", chat_id=12, document=sent["document"]["file_id"])
    assert status == 200
    assert body["result"]["document"]["file_id"] == sent["document"]["file_id"]
    status, body = await api("sendPhoto", chat_id=12, photo=sent["document"]["file_id"])
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't use file of type Document as Photo",
    )
    status, body = await api("sendDocument", chat_id=12, document="BQACunknown")
    assert body["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    status, body = await api("sendDocument", chat_id=12, document="https://example.com/x.pdf")
    assert body["description"] == "Bad Request: failed to get HTTP URL content"

    form = FormData()
    form.add_field("chat_id", "12")
    form.add_field("photo", PNG_1x1, filename="p.png", content_type="image/png")
    photo = (await (await http.post(f"/bot{TOKEN}/sendPhoto", data=form)).json())["result"][
        "photo"
    ]
    assert (photo[-1]["width"], photo[-1]["height"]) == (1, 1)
    assert alice.download(photo[-1]["file_id"]) == PNG_1x1


async def test_upload_over_50_mb_is_refused(
    emulator: BotAPIEmulator, http: TestClient[Any, Any]
) -> None:
    emulator.user(12, first_name="Alice")
    emulator.bot().chat(emulator.users[12]).started = True
    form = FormData()
    form.add_field("chat_id", "12")
    form.add_field("document", io.BytesIO(b"\0" * (MAX_UPLOAD_BYTES + 1)), filename="big.bin")
    response = await http.post(f"/bot{TOKEN}/sendDocument", data=form)
    assert response.status == 413
    assert (await response.json())["description"] == "Request Entity Too Large"
