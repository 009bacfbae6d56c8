"""What the fuzzer sends: Hypothesis strategies for user input, and the update shapes the
emulated user cannot produce, handed to the Application as Telegram would deliver them.

An action is a tuple: ("send", text), ("press", data), ("tap", n) (the n-th real button of the
newest keyboard), ("doc", name, mime, size), ("photo", caption), ("sticker",), ("location",),
("contact", whose), or ("raw", shape, text, data) for the shapes in RAW.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from bot.emulator import EmulatedUser
from tests.fuzz_support import PDF, PEOPLE, SCENES, deliver, inaccessible_press, register_press

if TYPE_CHECKING:
    from tests.fuzz_support import World

# Every callback prefix the bot makes, and what follows them in its real buttons.
PREFIXES = ("rg:", "rv:", "pq:", "lang:", "dm:", "dt:", "mk:", "en:", "fb:", "cp:", "rm:")
REAL_DATA = sorted(
    {step[1] for _, steps in SCENES.values() for step in steps if step[0] == "press"}
    | {"mk:b:all:all:0", "mk:fc:all:all", "rm:r:20260315:1", "rm:rep:a", "en:r:cancel"}
    | {"dm:wanted_by:m:2099-01", "dm:attachments:clear", "mk:i:quote:skip", "fb:n:comment:skip"}
)
# Digits Python calls digits but int() may refuse ("²"), other scripts' digits, and numbers
# far beyond any column.
IDS = st.one_of(
    st.integers(0, 12).map(str),
    st.sampled_from(["-1", "²", "١٢", "0x1", "1e3", " 1", "", "2147483648", "9" * 12, "9" * 30]),
)
COMMANDS = (
    "start", "help", "status", "language", "cancel", "pending", "invite", "new", "township",
    "demands", "demand", "my", "contract", "delivered", "complaint", "complaints", "report",
    "reminders", "nosuch",
)  # fmt: skip
ANSWERS = (
    "取消", "返回", "Cancel", "Back", "张伟", "13800001234", "+8613800001234", "30000",
    "3万", "0", "-5", "1e9", "2099-12-31", "2020-01-01", "明天", "D2026-000001", "/demand D2026-²",
    "/contract D2026-99999999999", "/report D2026-2147483648", "空\x00字符",
    "91320682MA1N00000X", "  ", "<b>粗体</b>", "&amp;", "a" * 61, "第一行\n第二行",
)  # fmt: skip
ODD = "\u200b\u200d\u202e\ufeff\u0000\u0007\ud7ff\U0001f600\U0001f468\u200d\U0001f4bb\u0301"


def _fit(data: str) -> str:
    """Telegram carries at most 64 bytes of callback data."""
    return data.encode()[:64].decode("utf-8", "ignore")


def texts() -> st.SearchStrategy[str]:
    """Random, odd, huge, well-formed and command texts."""
    return st.one_of(
        st.text(min_size=1, max_size=80),
        st.text(alphabet=st.sampled_from(ODD + "中文 a1"), min_size=1, max_size=40),
        st.builds(
            lambda piece, n: (piece * n)[:n],
            st.text(min_size=1, max_size=4),
            st.integers(4000, 6000),
        ),
        st.sampled_from(ANSWERS),
        st.builds(
            lambda name, arg: f"/{name} {arg}".rstrip(),
            st.sampled_from(COMMANDS),
            st.one_of(
                st.sampled_from(["", "D2026-000001", "D2026-000003", "reviewer"]),
                st.text(max_size=20),
            ),
        ),
    )


def callback_data() -> st.SearchStrategy[str]:
    """Forged data: real prefixes with random tails, real shapes with other ids, garbage."""
    shaped = st.builds(
        lambda data, ident: data.rsplit(":", 1)[0] + ":" + ident if ":" in data else data,
        st.sampled_from(REAL_DATA),
        IDS,
    )
    return st.one_of(
        st.builds(lambda p, tail: _fit(p + tail), st.sampled_from(PREFIXES), st.text(max_size=60)),
        st.builds(
            lambda p, parts: _fit(p + ":".join(parts)),
            st.sampled_from(PREFIXES),
            st.lists(IDS, max_size=5),
        ),
        shaped.map(_fit),
        st.sampled_from(REAL_DATA),
        st.text(max_size=64).map(_fit),
    )


# Shapes that do not come from the private chat with the bot.
ELSEWHERE = ("channel_post", "edited_channel_post", "group_message", "other_kind")
RAW = (
    "edited_message", "channel_post", "edited_channel_post", "group_message", "no_text",
    "unknown_fields", "huge_text", "from_bot", "bad_entity", "media", "service",
    "inaccessible_press", "missing_press", "inline_press", "game_press", "other_kind",
)  # fmt: skip


def actions() -> st.SearchStrategy[tuple[Any, ...]]:
    """One thing someone does."""
    return st.one_of(
        st.tuples(st.just("send"), texts()),
        st.tuples(st.just("press"), callback_data()),
        st.tuples(st.just("tap"), st.integers(0, 40)),
        st.tuples(
            st.just("doc"),
            st.text(max_size=30),
            st.sampled_from(
                ["application/pdf", "image/jpeg", "application/x-msdownload", "", "文本/奇怪"]
            ),
            st.sampled_from(["real", "huge", "none"]),
        ),
        st.tuples(st.just("photo"), st.one_of(st.none(), texts())),
        st.tuples(st.just("sticker")),
        st.tuples(st.just("location")),
        st.tuples(st.just("contact"), st.sampled_from(["own", "other", "no_user"])),
        st.tuples(st.just("raw"), st.sampled_from(RAW), texts(), callback_data()),
    )


def turns() -> st.SearchStrategy[list[tuple[str | None, tuple[Any, ...]]]]:
    """A few actions, mostly by the scene's actor (None), sometimes by someone else."""
    who = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(PEOPLE))
    return st.lists(st.tuples(who, actions()), min_size=1, max_size=5)


async def perform(world: World, person: EmulatedUser, action: tuple[Any, ...]) -> None:
    """Do the action as `person`, through the emulator where it can, else as a raw update."""
    kind, *args = action
    if kind != "raw" or args[0] not in ELSEWHERE:
        # What a person sends in the private chat starts it, as in user_actions.
        person.chat.started, person.chat.blocked = True, False
    if kind == "send":
        await person.send(args[0])
    elif kind == "press":
        await world.press(person, args[0])
    elif kind == "tap":
        buttons = [
            b["callback_data"]
            for m in reversed(person.chat.live())
            if m.from_bot and m.inline
            for row in m.inline
            for b in row
            if "callback_data" in b
        ][:20]
        if buttons:
            await world.press(person, buttons[args[0] % len(buttons)])
    elif kind == "doc":
        await _document(world, person, *args)
    elif kind == "photo":
        await person.send_photo(PDF, caption=args[0])
    elif kind == "sticker":
        await person.send_sticker()
    elif kind == "location":
        await person.send_location(31.23, 121.47)
    elif kind == "contact":
        owner = {"own": ..., "other": person.user_id + 1, "no_user": None}[args[0]]
        await person.share_contact("+8613900001111" if args[0] != "own" else None, user_id=owner)
    else:
        await raw(world, person, *args)


async def _document(world: World, person: EmulatedUser, name: str, mime: str, size: str) -> None:
    if size == "real":
        await person.send_document(name or "file", PDF, mime_type=mime or "application/pdf")
        return
    stored = world.harness.emulator.files.add(PDF, "document", file_name=name, mime_type=mime)
    document = stored.api_document()
    if size == "huge":
        document["file_size"] = 25 * 2**20
    else:
        document.pop("file_size")
    await _message(world, person, {"document": document})


async def _message(world: World, person: EmulatedUser, fields: dict[str, Any]) -> None:
    """A private message of `person` with these fields, stored in the chat like any other."""
    bot = person.bot
    stored = bot.add_message(person.chat, from_bot=False)
    await deliver(world, {"message": {**bot.api_message(stored), **fields}})


OTHER_KINDS = (
    {"my_chat_member": {"chat": "chat", "from": None, "date": 0,
                        "old_chat_member": {"status": "member", "user": None},
                        "new_chat_member": {"status": "kicked", "user": None, "until_date": 0}}},
    {"inline_query": {"id": "1", "from": None, "query": "检测", "offset": ""}},
    {"chosen_inline_result": {"result_id": "1", "from": None, "query": "x"}},
    {"poll_answer": {"poll_id": "1", "user": None, "option_ids": [0], "option_persistent_ids": ["0"]}},
    {"shipping_query": {"id": "1", "from": None, "invoice_payload": "x", "shipping_address": {
        "country_code": "CN", "state": "", "city": "如皋", "street_line1": "1", "street_line2": "",
        "post_code": "226500"}}},
    {"pre_checkout_query": {"id": "1", "from": None, "currency": "CNY", "total_amount": 100,
                            "invoice_payload": "x"}},
    {"message_reaction": {"chat": "chat", "message_id": 1, "user": None, "date": 0,
                          "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}},
)  # fmt: skip


async def raw(world: World, person: EmulatedUser, shape: str, text: str, data: str) -> None:
    """One of the update shapes in RAW."""
    bot, info, now = person.bot, person.info, int(time.time())
    channel = {"id": -1001234567890, "type": "channel", "title": "如皋科技局"}
    if shape == "edited_message":
        mine = [m for m in person.chat.live() if not m.from_bot]
        target = mine[-1] if mine else bot.add_message(person.chat, from_bot=False, text="旧")
        edited = {**bot.api_message(target), "text": text, "edit_date": now}
        await deliver(world, {"edited_message": edited})
    elif shape in ("channel_post", "edited_channel_post"):
        post = {
            "message_id": 7,
            "date": now,
            "chat": channel,
            "sender_chat": channel,
            "text": text,
        }
        await deliver(world, {shape: post})
    elif shape == "group_message":
        group = {"id": -4242, "type": "group", "title": "对接群"}
        entities = (
            [{"type": "bot_command", "offset": 0, "length": 6}] if text.startswith("/") else []
        )
        message = {"message_id": 9, "date": now, "chat": group, "from": info.api(), "text": text}
        await deliver(world, {"message": {**message, "entities": entities}})
    elif shape == "no_text":
        await _message(world, person, {})
    elif shape == "unknown_fields":
        await _message(
            world, person, {"text": text, "future_field": {"x": [1, 2]}, "is_paid_post": True}
        )
    elif shape == "huge_text":
        await _message(world, person, {"text": ((text or "长") * 5000)[: 4097 + len(text)]})
    elif shape == "from_bot":
        await _message(world, person, {"text": text, "from": {**info.api(), "is_bot": True}})
    elif shape == "bad_entity":
        entity = {"type": "bot_command", "offset": 0, "length": len(text) + 40}
        await _message(world, person, {"text": "/" + text, "entities": [entity]})
    elif shape == "media":
        voice = {"file_id": "AwACAgI", "file_unique_id": "AgAD", "duration": 3}
        dice = {"emoji": "🎲", "value": 6}
        await _message(world, person, {"voice": voice, "caption": text, "dice": dice})
    elif shape == "service":
        await _message(world, person, {"write_access_allowed": {"from_request": True}})
    elif shape == "inaccessible_press":
        bot_messages = [m.message_id for m in person.chat.live() if m.from_bot]
        await inaccessible_press(world, person, data, message_id=(bot_messages or [1])[-1])
    elif shape == "missing_press":
        await inaccessible_press(world, person, data, message_id=10**6)
    elif shape in ("inline_press", "game_press"):
        query: dict[str, Any] = {
            "id": register_press(world, person, 0),
            "from": info.api(),
            "chat_instance": person.chat.chat_instance,
        }
        query.update(
            {"inline_message_id": "AgAAAAg", "data": data}
            if shape == "inline_press"
            else {"game_short_name": "x"}
        )
        if shape == "game_press":
            bot_messages = [m for m in person.chat.live() if m.from_bot]
            if bot_messages:
                query["message"] = bot.api_message(bot_messages[-1])
        await deliver(world, {"callback_query": query})
    else:
        body = OTHER_KINDS[len(text) % len(OTHER_KINDS)]
        await deliver(world, _fill_people(body, info.api(), info.chat()))


def _fill_people(value: Any, user: dict[str, Any], chat: dict[str, Any]) -> Any:
    """OTHER_KINDS with the sender (None) and their chat ("chat") filled in."""
    if value is None:
        return user
    if value == "chat":
        return chat
    if isinstance(value, dict):
        return {k: _fill_people(v, user, chat) for k, v in value.items()}
    return value
