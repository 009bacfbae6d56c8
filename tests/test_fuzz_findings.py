"""What tests/test_fuzz.py found, pinned as plain examples of what a person sees.

Each of these made the bot fail with "update failed" (and the generic apology), or made a
call the Bot API refuses, before it was fixed.
"""

from __future__ import annotations

import logging

import pytest

from models import conversations
from models.demand_entities import Demand, DemandStatus
from tests.conftest import Harness
from tests.fuzz_support import inaccessible_press, world
from tests.fuzz_updates import raw

FORGED = "无法识别这个操作，未做任何更改。"


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_offer_accepted_from_a_card_deleted_meanwhile_still_reaches_the_institution(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    place = await world(harness)
    owner = await place.walk("decide_offer", 2)  # /my, then the offer card with its buttons
    card = owner.chat.live()[-1]
    assert card.from_bot and card.inline
    # The owner presses Accept and deletes the card before the bot answers: Telegram then
    # sends the press with only the message's id (date 0), and the card is gone.
    card.deleted = True
    await inaccessible_press(
        place, owner, f"mk:a:{await place.record('intent')}", message_id=card.message_id
    )
    assert owner.callback_answers[-1]["text"] == "✅ 已接受这家机构。"
    rival = place.people["rival"]
    assert "贵机构已被选中承接需求" in rival.last.text
    assert (await Demand.get(id=(await place.record("offered")).id)).status is DemandStatus.MATCHED
    assert failures(caplog) == []


async def test_a_press_on_a_message_whose_buttons_are_gone_asks_telegram_for_no_edit(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    place = await world(harness)
    reviewer = await place.walk("review", 4)  # the reason prompt, with its Cancel button
    prompt = reviewer.last
    await reviewer.press_data(f"rv:keep:{await place.record('review')}")
    assert reviewer.messages[-1].buttons == []
    # Pressed again from the same message (a double tap): nothing left to retire.
    await reviewer.press_data(
        f"rv:keep:{await place.record('review')}", message_id=prompt.message_id
    )
    assert harness.emulator.errors() == []
    assert failures(caplog) == []


@pytest.mark.parametrize(
    "data",
    ["en:dl:999999999999", "mk:h:2147483648", "dt:²", "pq:p:99999999999999999999", "fb:s:²"],
)
async def test_forged_numbers_in_buttons_are_refused_politely(
    harness: Harness, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    place = await world(harness)
    person = await place.walk("idle_reviewer", 1)
    await person.send("/language")  # a message with buttons to press from
    await person.press_data(data)
    assert person.callback_answers[-1]["text"] == FORGED
    assert failures(caplog) == []


@pytest.mark.parametrize("command", ["/demand D2026-²", "/contract D2026-99999999999"])
async def test_a_reference_with_odd_digits_gets_the_format_hint(
    harness: Harness, caplog: pytest.LogCaptureFixture, command: str
) -> None:
    place = await world(harness)
    owner = await place.walk("idle_owner", 1)
    await owner.send(command)
    assert owner.last.text == "编号格式应为 D2026-000123。"
    assert failures(caplog) == []


async def test_a_nul_character_in_an_answer_is_dropped_not_fatal(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL refuses U+0000 in text and JSON columns; text pasted from a PDF may carry it.
    place = await world(harness)
    owner = await place.walk("new_demand", 1)
    await owner.send("红外\x00光谱检测")
    assert owner.last.text.startswith("第 2 步，共 7 步")
    draft = await conversations.load(f"{owner.chat_id}:{owner.user_id}")
    assert draft is not None and draft.data["title"] == "红外光谱检测"
    inst = await place.walk("offer", 2)
    await inst.send("我们有傅里叶\x00红外光谱仪，三天出报告。")
    assert inst.last.text.startswith("第 2 步，共 2 步")
    assert failures(caplog) == []


async def test_a_button_under_an_inline_message_is_answered_and_ignored(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # This bot has no inline mode, so such a press has no chat: it used to fail on one.
    place = await world(harness)
    owner = await place.walk("idle_owner", 1)
    await raw(place, owner, "inline_press", "", "rg:role:v:enterprise")
    assert place.callbacks[-1].answered
    assert failures(caplog) == []
