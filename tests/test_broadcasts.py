"""Broadcasts (issue #5): who an audience reaches, the draft's rules, confirming once, and
delivery by the reminder engine (once-only, paced, quiet hours, failures counted, the
progress message edited to the final counts). The chat is in test_broadcasts_chat.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from models import broadcasts
from models.broadcast_entities import Broadcast, BroadcastStatus
from models.entities import InstitutionTier, Organization, Role, User, UserStatus
from models.errors import AlreadyDecided, InvalidTransition, NotAllowed, ValidationFailed
from models.forget import forget
from models.reminder_entities import DeliveryState, ReminderDelivery
from tests.conftest import ADMIN_ID, make_staff
from tests.delivery_support import Clock, local, platform_with, received
from tests.demand_support import PLATFORM, make_assistant, make_member
from tests.test_reminders_delivery import bot_with, engine

S = DeliveryState
T = InstitutionTier
TEXT = "本周五下午举行科技政策宣讲会，欢迎参加。"
MORNING = local(5, 20, 10)  # a weekday morning, outside quiet hours


async def seeded() -> dict[str, int]:
    """People of every kind, and some who must never receive a broadcast."""
    ids = {
        "ent_chengnan": (await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械")).id,
        "ent_jiuhua": (
            await make_member(102, "陈经理", Role.ENTERPRISE, "九华纺织", township="jiuhua")
        ).id,
        "inst_service": (await make_member(301, "张工", Role.INSTITUTION, "南通检测中心")).id,
        "inst_voucher": (
            await make_member(
                302, "赵工", Role.INSTITUTION, "苏州技术转移", township="jiuhua", tier=T.VOUCHER
            )
        ).id,
        "inst_cultivating": (await make_member(303, "钱工", Role.INSTITUTION, "白蒲孵化器")).id,
        "research": (await make_member(401, "孙教授", Role.RESEARCH, "南通大学团队")).id,
        "assistant": (await make_assistant(501, "周助理", "jiuhua")).id,
        "admin": (await make_staff(ADMIN_ID, Role.ADMIN, "吴管理")).id,
    }
    await User.filter(id=ADMIN_ID).update(reachable=True)  # they started the bot
    # An institution registered before tiers existed counts as cultivating (tiers.tier_of).
    cultivating = await User.get(id=ids["inst_cultivating"])
    await Organization.filter(id=cultivating.organization_id).update(tier=None)
    # Never in an audience: suspended, pending, blocked the bot, forgot their data.
    await make_member(111, "停用户", Role.ENTERPRISE, "停用企业")
    await User.filter(id=111).update(status=UserStatus.SUSPENDED)
    await make_member(112, "待审户", Role.ENTERPRISE, "待审企业")
    await User.filter(id=112).update(status=UserStatus.PENDING)
    await make_member(113, "屏蔽户", Role.ENTERPRISE, "屏蔽企业")
    await User.filter(id=113).update(reachable=False)
    await make_member(114, "遗忘户", Role.ENTERPRISE, "遗忘企业")
    await forget(114)
    return ids


async def reached(**audience: list[str]) -> set[int]:
    query = broadcasts.recipients(broadcasts.check_audience(audience, PLATFORM))
    found = set(await query.values_list("id", flat=True))
    assert await broadcasts.count(audience) == len(found)
    return found  # type: ignore[return-value]


async def test_audience_counts_by_role_township_and_tier(database: str) -> None:
    p = await seeded()
    everyone = set(p.values())
    assert await reached() == everyone
    assert await reached(roles=["enterprise"]) == {p["ent_chengnan"], p["ent_jiuhua"]}
    # A township is the user's own, or their organisation's (institutions, research teams).
    assert await reached(townships=["jiuhua"]) == {
        p["ent_jiuhua"],
        p["inst_voucher"],
        p["assistant"],
    }
    assert await reached(tiers=["voucher"]) == {p["inst_voucher"]}
    assert await reached(tiers=["cultivating"]) == {p["inst_cultivating"]}
    assert await reached(tiers=["service", "cultivating"]) == {
        p["inst_service"],
        p["inst_cultivating"],
    }
    assert await reached(roles=["institution", "enterprise"], townships=["chengnan"]) == {
        p["ent_chengnan"],
        p["inst_service"],
        p["inst_cultivating"],
    }
    assert await reached(roles=["enterprise"], tiers=["service"]) == set()
    assert await reached(roles=["admin", "assistant"]) == {p["admin"], p["assistant"]}


@pytest.mark.parametrize(
    "audience",
    [
        {"roles": ["superuser"]},
        {"townships": ["atlantis"]},
        {"tiers": ["gold"]},
        {"roles": "enterprise"},
        {"everyone": []},
    ],
)
async def test_an_audience_names_only_configured_roles_townships_and_tiers(
    database: str, audience: dict[str, Any]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        broadcasts.check_audience(audience, PLATFORM)
    assert refused.value.message_id == "broadcast.bad_audience"


async def test_a_draft_toggle_of_an_unknown_code_changes_nothing(database: str) -> None:
    admin = await make_staff(ADMIN_ID, Role.ADMIN, "吴管理")
    item = await broadcasts.create(admin, TEXT, PLATFORM)
    item = await broadcasts.toggle(admin, item.id, "roles", "enterprise", PLATFORM)
    with pytest.raises(ValidationFailed):
        await broadcasts.toggle(admin, item.id, "townships", "atlantis", PLATFORM)
    item = await broadcasts.toggle(admin, item.id, "townships", "jiuhua", PLATFORM)
    item = await broadcasts.toggle(admin, item.id, "roles", "enterprise", PLATFORM)
    stored = await Broadcast.get(id=item.id)
    assert stored.audience == {"roles": [], "townships": ["jiuhua"], "tiers": []}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "broadcast.text_empty"),
        ("  \n ", "broadcast.text_empty"),
        ("字" * 4001, "broadcast.text_too_long"),
        ("😀" * 2001, "broadcast.text_too_long"),  # 4,002 as Telegram counts
    ],
)
async def test_text_is_one_to_four_thousand_characters(
    database: str, text: str, problem: str
) -> None:
    admin = await make_staff(ADMIN_ID, Role.ADMIN, "吴管理")
    with pytest.raises(ValidationFailed) as refused:
        await broadcasts.create(admin, text, PLATFORM)
    assert refused.value.message_id == problem
    assert not await Broadcast.exists()


async def test_the_text_is_kept_as_typed_and_only_admins_broadcast(database: str) -> None:
    admin = await make_staff(ADMIN_ID, Role.ADMIN, "吴管理")
    typed = "字" * 3990 + " <b>&</b>"
    item = await broadcasts.create(admin, typed, PLATFORM)
    assert (await Broadcast.get(id=item.id)).text == typed
    reviewer = await make_staff(201, Role.REVIEWER, "李审核")
    with pytest.raises(NotAllowed):
        await broadcasts.create(reviewer, TEXT, PLATFORM)
    with pytest.raises(NotAllowed):
        await broadcasts.confirm(
            reviewer,
            item.id,
            shown=broadcasts.fingerprint(item),
            chat_id=201,
            message_id=1,
            now=MORNING,
        )
    assert (await Broadcast.get(id=item.id)).status is BroadcastStatus.DRAFT


async def _ready(audience: dict[str, list[str]] | None = None) -> tuple[User, Broadcast]:
    admin = await User.get(id=ADMIN_ID)
    item = await broadcasts.create(admin, TEXT, PLATFORM)
    for kind, codes in (audience or {}).items():
        for code in codes:
            item = await broadcasts.toggle(admin, item.id, kind, code, PLATFORM)
    return admin, item


async def _confirm(admin: User, item: Broadcast, message_id: int = 1) -> Broadcast:
    return await broadcasts.confirm(
        admin,
        item.id,
        shown=broadcasts.fingerprint(item),
        chat_id=admin.id,
        message_id=message_id,
        now=MORNING,
    )


async def test_two_admins_confirming_at_once_write_the_deliveries_once(database: str) -> None:
    p = await seeded()
    other = await make_staff(901, Role.ADMIN, "郑管理")
    admin, item = await _ready({"roles": ["enterprise", "institution"]})

    results = await asyncio.gather(
        _confirm(admin, item), _confirm(other, item), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, Broadcast)]
    lost = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].message_id == "broadcast.already.sending"
    assert lost[0].params["by"] in ("吴管理", "郑管理") and lost[0].params["by"] != "—"
    assert won[0].recipients == 5
    rows = await ReminderDelivery.filter(rule="broadcast", occurrence=item.reference)
    providers = ("ent_chengnan", "ent_jiuhua", "inst_service", "inst_voucher", "inst_cultivating")
    assert sorted(r.recipient_id for r in rows) == sorted(p[k] for k in providers)
    assert {r.state for r in rows} == {S.PENDING}
    # A second Confirm later (a double press) changes nothing either.
    with pytest.raises(AlreadyDecided):
        await _confirm(admin, item)
    assert await ReminderDelivery.filter(rule="broadcast").count() == 5


async def test_a_changed_draft_or_an_empty_audience_is_not_confirmed(database: str) -> None:
    await seeded()
    admin, item = await _ready({"roles": ["publisher"]})  # nobody has this role
    with pytest.raises(ValidationFailed) as refused:
        await _confirm(admin, item)
    assert refused.value.message_id == "broadcast.nobody"
    stale = broadcasts.fingerprint(item)
    item = await broadcasts.toggle(admin, item.id, "roles", "research", PLATFORM)
    with pytest.raises(InvalidTransition):  # the preview confirmed showed another audience
        await broadcasts.confirm(
            admin, item.id, shown=stale, chat_id=admin.id, message_id=1, now=MORNING
        )
    stored = await Broadcast.get(id=item.id)
    assert stored.status is BroadcastStatus.DRAFT
    assert not await ReminderDelivery.exists()
    await broadcasts.cancel(admin, item.id)
    with pytest.raises(AlreadyDecided) as again:
        await _confirm(admin, stored)
    assert again.value.message_id == "broadcast.already.cancelled"
    assert not await ReminderDelivery.exists()


def _edits(emulator: Any, chat_id: int, message_id: int) -> list[str]:
    return [
        str(params.get("text"))
        for _, method, params in emulator.requests()
        if method == "editMessageText"
        and str(params.get("chat_id")) == str(chat_id)
        and str(params.get("message_id")) == str(message_id)
    ]


async def test_delivered_once_across_engines_and_ticks_failures_counted(database: str) -> None:
    p = await seeded()
    audience = [p[k] for k in ("ent_chengnan", "ent_jiuhua", "inst_service", "inst_voucher")]
    audience.append(p["inst_cultivating"])
    blocked = p["inst_voucher"]
    platform = platform_with(annual_report={"enabled": False})  # broadcasts only
    async with bot_with(database, platform, [*audience, ADMIN_ID], chat_burst=5) as (
        emulator,
        application,
    ):
        emulator.block(blocked)
        shown = await application.bot.send_message(ADMIN_ID, "…")
        admin, item = await _ready({"roles": ["enterprise", "institution"]})
        item = await _confirm(admin, item, shown.message_id)

        clock = Clock(MORNING + timedelta(seconds=5))
        first, second = engine(application, platform, clock), engine(application, platform, clock)
        one, other = await asyncio.gather(first.tick(), second.tick())
        assert one.sent + other.sent == 4
        clock.advance(hours=2)
        assert (await first.tick()).sent == 0

        for uid in audience:
            got = received(emulator, uid, TEXT)
            assert got == (
                [] if uid == blocked else [f"📢 平台通知（{item.reference}）\n\n{TEXT}"]
            )
        edits = _edits(emulator, ADMIN_ID, shown.message_id)
        assert edits[-1] == f"✅ 群发通知 {item.reference} 已完成：已发送 4 / 5，失败 1"
        # The one refusal is the blocked chat's; no edit was refused as "not modified".
        assert [method for _, method, _ in emulator.errors()] == ["sendMessage"]
    stored = await Broadcast.get(id=item.id)
    assert stored.status is BroadcastStatus.DONE and stored.finished_at is not None
    assert await broadcasts.progress(stored) == broadcasts.Progress(4, 1, 0, 5)
    # The Confirm handler's own "sent 0" edit, were it late, may no longer be made.
    assert not await broadcasts.take_progress(stored, "", "0/0")
    blocked_row = await ReminderDelivery.get(rule="broadcast", recipient_id=blocked)
    assert blocked_row.state is S.UNREACHABLE


async def test_quiet_hours_defer_a_broadcast_and_leavers_are_skipped(database: str) -> None:
    p = await seeded()
    third = (await make_member(103, "林经理", Role.ENTERPRISE, "东陈机电")).id
    audience = [p["ent_chengnan"], p["ent_jiuhua"], third]
    platform = platform_with(annual_report={"enabled": False})  # broadcasts only
    async with bot_with(database, platform, [*audience, ADMIN_ID]) as (emulator, application):
        shown = await application.bot.send_message(ADMIN_ID, "…")
        admin, item = await _ready({"roles": ["enterprise"]})
        item = await broadcasts.confirm(
            admin,
            item.id,
            shown=broadcasts.fingerprint(item),
            chat_id=ADMIN_ID,
            message_id=shown.message_id,
            now=local(5, 20, 22),
        )
        clock = Clock(local(5, 20, 22, 1))
        sender = engine(application, platform, clock)
        assert (await sender.tick()).quiet
        assert received(emulator, p["ent_chengnan"], TEXT) == []
        # Overnight one asked to be forgotten, another was suspended: neither is sent to,
        # both are counted as not delivered.
        await forget(p["ent_jiuhua"])
        await User.filter(id=third).update(status=UserStatus.SUSPENDED)
        clock.set(local(5, 21, 8, 1))
        assert (await sender.tick()).sent == 1
        assert len(received(emulator, p["ent_chengnan"], TEXT)) == 1
        assert received(emulator, third, TEXT) == []
        assert _edits(emulator, ADMIN_ID, shown.message_id)[-1] == (
            f"✅ 群发通知 {item.reference} 已完成：已发送 1 / 3，失败 2"
        )
    assert (await Broadcast.get(id=item.id)).status is BroadcastStatus.DONE
    skipped = await ReminderDelivery.filter(rule="broadcast", state=S.SKIPPED)
    assert sorted(r.error or "" for r in skipped) == ["forgotten", "no longer active"]


async def test_an_author_who_forgets_leaves_no_id_and_their_broadcast_still_ends(
    database: str,
) -> None:
    p = await seeded()
    platform = platform_with(annual_report={"enabled": False})
    async with bot_with(database, platform, [p["ent_chengnan"], ADMIN_ID]) as (
        emulator,
        application,
    ):
        shown = await application.bot.send_message(ADMIN_ID, "…")
        admin, item = await _ready({"roles": ["enterprise"], "townships": ["chengnan"]})
        item = await _confirm(admin, item, shown.message_id)
        await forget(ADMIN_ID)
        await engine(application, platform, Clock(MORNING + timedelta(seconds=5))).tick()
        assert len(received(emulator, p["ent_chengnan"], TEXT)) == 1
        assert _edits(emulator, ADMIN_ID, shown.message_id) == []  # nobody to show it to
        assert emulator.errors() == []
    stored = await Broadcast.get(id=item.id)
    assert stored.status is BroadcastStatus.DONE
    assert stored.author_id is not None and stored.author_id < 0
    assert stored.progress_chat_id is not None and stored.progress_chat_id < 0


async def test_the_progress_message_is_edited_every_n_deliveries_then_done(
    database: str,
) -> None:
    p = await seeded()
    kinds = ("ent_chengnan", "ent_jiuhua", "inst_service", "inst_voucher", "inst_cultivating")
    audience = sorted([*(p[k] for k in kinds), p["research"]])
    # One message at a time (rate 1), an edit every 2 settled deliveries.
    platform = platform_with(annual_report={"enabled": False}, rate_per_second=1)
    platform = platform.model_copy(
        update={"broadcasts": platform.broadcasts.model_copy(update={"progress_every": 2})}
    )
    async with bot_with(database, platform, [*audience, ADMIN_ID], chat_burst=5) as (
        emulator,
        application,
    ):
        emulator.block(audience[1])
        shown = await application.bot.send_message(ADMIN_ID, "…")
        admin, item = await _ready({"roles": ["enterprise", "research", "institution"]})
        item = await _confirm(admin, item, shown.message_id)
        assert item.recipients == 6
        await engine(application, platform, Clock(MORNING + timedelta(seconds=5))).tick()

        ref = item.reference
        assert _edits(emulator, ADMIN_ID, shown.message_id) == [
            f"📤 群发通知 {ref} 发送中：已发送 1 / 6，失败 1",
            f"📤 群发通知 {ref} 发送中：已发送 3 / 6，失败 1",
            f"✅ 群发通知 {ref} 已完成：已发送 5 / 6，失败 1",
        ]
        assert [method for _, method, _ in emulator.errors()] == ["sendMessage"]
