"""Updates of different chats run at once, those of one chat strictly in order (bot/per_chat.py).

What a person would notice otherwise: their second answer overtaking the first (a flow out of
step), or everyone waiting while one person's slow step runs.
"""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.per_chat import PerChatProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    sender = User(chat_id, "p", is_bot=False)
    return Update(update_id, message=Message(update_id, None, chat, from_user=sender))


async def test_one_chat_in_order_other_chats_overtake() -> None:
    processor = PerChatProcessor(8)
    await processor.initialize()
    log: list[str] = []
    running: dict[int, int] = {}
    gates = {n: asyncio.Event() for n in range(1, 5)}

    async def step(update_id: int, chat_id: int) -> None:
        running[chat_id] = running.get(chat_id, 0) + 1
        assert running[chat_id] == 1, "two updates of one chat ran at once"
        log.append(f"start {update_id}")
        await gates[update_id].wait()
        log.append(f"end {update_id}")
        running[chat_id] -= 1

    # Chat 7 sends three updates; chat 9 one. Update 1 of chat 7 is slow.
    updates = [(1, 7), (2, 7), (3, 9), (4, 7)]
    tasks = [
        asyncio.create_task(processor.process_update(_update(u, c), step(u, c)))
        for u, c in updates
    ]
    await asyncio.sleep(0.05)
    # Chat 9 did not wait for chat 7; chat 7's later updates did.
    assert log == ["start 1", "start 3"]
    gates[3].set()
    gates[1].set()
    await asyncio.sleep(0.05)
    assert log[-1] == "start 2"
    gates[2].set()
    await asyncio.sleep(0.05)
    # A third update of the chat, queued while the lock changed hands, still waited its turn.
    assert log[-1] == "start 4"
    gates[4].set()
    await asyncio.gather(*tasks)
    assert [e for e in log if e.startswith("start")] == [
        "start 1",
        "start 3",
        "start 2",
        "start 4",
    ]
    assert processor._chats == {}  # no lock is kept for a chat with nothing running


async def test_a_failing_update_does_not_block_its_chat() -> None:
    processor = PerChatProcessor(4)
    done: list[int] = []

    async def boom() -> None:
        raise RuntimeError("handler failed")

    async def fine() -> None:
        done.append(2)

    first = asyncio.create_task(processor.process_update(_update(1, 5), boom()))
    second = asyncio.create_task(processor.process_update(_update(2, 5), fine()))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert done == [2]
    assert processor._chats == {}
