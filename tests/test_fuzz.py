"""Fuzzing the running bot (issue #7 item 5).

Hypothesis picks a scene (someone unregistered, half-way through registration, or an active
member of any role part-way through /new, an offer, a contract filing, feedback, a complaint,
a report upload, a review...), plays it through the emulator to a random step, then sends
generated input: random and huge text, unicode and emoji, commands with odd arguments, files,
stickers, contacts, forged callback data, and the updates a person cannot make in the
emulator (edited messages, channel posts, presses on messages the bot can no longer see,
kinds outside allowed_updates), handed to the Application as Telegram would deliver them.

After each example: no handler failed (PTB's error handler logs "update failed" at ERROR),
the bot made no call the Bot API refused, every press was answered, and the records are
whole (tests/fuzz_invariants.py). Each example starts from an empty database. What the fuzzer
found is pinned in tests/test_fuzz_findings.py.

FUZZ_EXAMPLES=500 explores further with a random seed; by default the examples are the same on
every run, so the suite does not fail at random on a new finding.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from models.entities import Conversation
from tests.conftest import Harness
from tests.fuzz_invariants import broken_invariants
from tests.fuzz_support import SCENES, world
from tests.fuzz_updates import RAW, callback_data, perform, turns

EXAMPLES = os.environ.get("FUZZ_EXAMPLES")


def bounded(examples: int) -> settings:
    """Few enough examples for the suite, the same ones every run (unless FUZZ_EXAMPLES)."""
    return settings(
        max_examples=int(EXAMPLES) if EXAMPLES else examples,
        derandomize=EXAMPLES is None,
        database=None,
        deadline=None,
        # The harness (bot, emulator, database) is built once per test; each example empties
        # the database itself (fuzz_support.reset), so no example sees another's records.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


SCENE = st.sampled_from(sorted(SCENES))
DEPTH = st.integers(0, max(len(steps) for _, steps in SCENES.values()))


async def play(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    scene: str,
    depth: int,
    moves: list[tuple[str | None, tuple[Any, ...]]],
) -> None:
    """Walk the scene to `depth`, make the moves, and check that nothing broke."""
    caplog.clear()
    refused = len(harness.emulator.errors())
    place = await world(harness)
    actor = await place.walk(scene, depth)
    for who, action in moves:
        person = actor if who is None else place.people[who]
        note(f"{person.user_id}: {str(action)[:300]}")
        await perform(place, person, action)
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == []
    assert harness.emulator.errors()[refused:] == []
    unanswered = [(r.user_id, r.message_id) for r in place.callbacks if not r.answered]
    assert unanswered == []
    assert await broken_invariants() == []


@bounded(70)
@given(scene=SCENE, depth=DEPTH, moves=turns())
async def test_generated_input_in_the_middle_of_every_flow(
    harness: Harness, caplog: pytest.LogCaptureFixture, scene: str, depth: int, moves: Any
) -> None:
    await play(harness, caplog, scene, depth, moves)


@bounded(50)
@given(
    scene=SCENE,
    depth=DEPTH,
    presses=st.lists(
        st.tuples(
            st.sampled_from([None, "owner", "inst", "rival", "reviewer", "admin"]), callback_data()
        ),
        min_size=1,
        max_size=6,
    ),
)
async def test_forged_callback_data_from_people_in_every_state(
    harness: Harness, caplog: pytest.LogCaptureFixture, scene: str, depth: int, presses: Any
) -> None:
    moves = [(who, ("press", data)) for who, data in presses]
    await play(harness, caplog, scene, depth, moves)


@bounded(60)
@given(
    scene=SCENE,
    depth=DEPTH,
    shapes=st.lists(
        st.tuples(st.sampled_from(RAW), st.text(max_size=30), callback_data()),
        min_size=1,
        max_size=4,
    ),
)
async def test_updates_of_shapes_a_person_cannot_send(
    harness: Harness, caplog: pytest.LogCaptureFixture, scene: str, depth: int, shapes: Any
) -> None:
    moves = [(None, ("raw", shape, text, data)) for shape, text, data in shapes]
    await play(harness, caplog, scene, depth, moves)


# Where a scene's whole walk leaves its actor when it does not finish the flow. A walk that
# drifted from the flows (a step refused) would fuzz other places than the scenes claim.
UNFINISHED = {
    "register_research": ("registration", "org_name"),
    "relay": ("demand", "description"),
    "resubmit": ("demand", "confirm"),
}


async def test_every_scene_walks_through_its_flow(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    for scene, (_, steps) in sorted(SCENES.items()):
        place = await world(harness)
        actor = await place.walk(scene, len(steps))
        refused = [r.answer for r in place.callbacks if not r.answer or r.answer["show_alert"]]
        assert (scene, refused) == (scene, [])
        stored = await Conversation.get_or_none(key=f"{actor.chat_id}:{actor.user_id}")
        where = (stored.flow, stored.state) if stored else None
        assert (scene, where) == (scene, UNFINISHED.get(scene))
        assert await broken_invariants() == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
