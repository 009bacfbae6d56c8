"""/mydata and /forget as a person lives them (PIPL; DESIGN §2 Privacy), on both databases."""

from __future__ import annotations

import json
from typing import Any

from tortoise import Tortoise

from bot.emulator import EmulatedUser
from handlers.context import NOTIFIER
from models import audit, engagements, market, relay
from models.demand_entities import Demand, DemandStatus, Feedback, Intent, IntentStatus
from models.entities import (
    AuditLog,
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Registration,
    RegistrationStatus,
    Review,
    ReviewStatus,
    Role,
    User,
    UserStatus,
)
from tests.conftest import ADMIN_ID, Harness, approved_enterprise, make_staff, start_bot, stop_bot
from tests.demand_support import make_assistant, make_member, published_demand
from tests.factories import credit_code, register_enterprise
from tests.lifecycle_support import SCORES, Cast, in_status, offer

OWNER = 5550001  # an id no other number of these tests equals, so a scan can look for it
OWNER_PHONE = "+8613805550001"


def _document(person: EmulatedUser) -> dict[str, Any]:
    message = person.last
    assert message.document is not None, message.text
    data: dict[str, Any] = json.loads(person.download(message.document["file_id"]))
    return data


async def test_mydata_sends_everything_as_a_json_file(harness: Harness) -> None:
    zhang, _ = await approved_enterprise(harness)
    await zhang.send("/mydata")
    message = zhang.last
    assert message.document is not None
    assert message.document["file_name"] == "innobridge-mydata-201.json"
    assert "含有您的手机号" in message.text  # the caption, in the user's language
    data = _document(zhang)
    assert data["user"]["id"] == 201
    assert data["user"]["phone"] == "+8613800000201"  # their own data, unmasked
    assert data["user"]["real_name"] == "张伟"
    assert data["user"]["status"] == "active"
    assert data["organization"]["name"] == "如皋市星火科技有限公司"
    [application] = data["registrations"]
    assert application["status"] == "approved"
    assert application["phone"] == "+8613800000201"
    assert {"registration.submitted", "privacy.exported"} <= {a["action"] for a in data["audit"]}
    raw = zhang.download(message.document["file_id"]).decode("utf-8")
    assert "张伟" in raw  # UTF-8, not \\u escapes
    assert raw.startswith("{\n  ")  # pretty-printed


async def test_mydata_once_a_minute_and_in_english(harness: Harness) -> None:
    emma = harness.person(202, "Emma", language_code="en")
    await emma.send("/mydata")
    assert emma.last.document is not None
    assert "contains your phone number" in emma.last.text
    files = sum(1 for m in emma.messages if m.document)
    await emma.send("/mydata")
    assert "try again in" in emma.last.text
    assert sum(1 for m in emma.messages if m.document) == files
    assert await AuditLog.filter(actor_id=202, action="privacy.exported").count() == 1


async def test_mydata_holds_the_demands_and_ratings_of_an_owner(harness: Harness) -> None:
    c = await _cast()
    demand = await in_status(c, DemandStatus.COMPLETED)
    await engagements.give_feedback(demand.id, c.owner, SCORES, "solved", "很专业")
    owner = harness.person(OWNER, "王经理")
    await owner.send("/mydata")
    data = _document(owner)
    assert [d["title"] for d in data["demands"]] == [demand.title]
    assert data["demands"][0]["submitted_by_you"] is True
    assert data["engagements"][0]["amount"] == "30000.00"
    assert data["feedback"][0]["comment"] == "很专业"
    assert data["intents"] == [] and data["complaints"] == []


async def _cast() -> Cast:
    # Its own credit code: make_member's would spell the owner's id.
    org = await Organization.create(
        name="如皋精密机械有限公司",
        kind=OrgKind.ENTERPRISE,
        credit_code=credit_code("91320682100"),
        township="chengnan",
        status=OrgStatus.ACTIVE,
    )
    owner = await make_member(OWNER, "王经理", Role.ENTERPRISE, org.name, org=org)
    inst = await make_member(
        301, "张工", Role.INSTITUTION, "南通检测中心", tier=InstitutionTier.VOUCHER
    )
    reviewer = await make_staff(401, Role.REVIEWER, "李审核")
    admin = await make_staff(ADMIN_ID, Role.ADMIN, "周管理")
    return Cast(owner=owner, reviewer=reviewer, inst=inst, rival=inst, stranger=inst, admin=admin)


async def test_forget_asks_and_ignores_forged_and_replayed_presses(harness: Harness) -> None:
    zhang, _ = await approved_enterprise(harness)
    await zhang.send("/forget")
    first = zhang.last
    assert "确定删除您的个人信息吗" in first.text
    assert first.button_labels() == ["🗑 确认删除", "✖️ 取消"]
    confirm = first.buttons[0][0]["callback_data"]
    await zhang.press_data("pv:ok:0000000000000000")  # a forged nonce
    assert zhang.callback_answers[-1]["show_alert"] is True
    # Someone else pressing with this prompt's data, on a prompt of their own: nothing.
    li = harness.person(202, "李四")
    await li.send("/forget")
    await li.press_data(confirm)
    assert await User.exists(id=201) and await User.exists(id=202)
    await zhang.press("✖️ 取消")
    assert "已取消" in zhang.last.text
    assert (await User.get(id=201)).real_name == "张伟"
    await zhang.send("/forget")
    await zhang.press_data(confirm, message_id=first.message_id)  # the older prompt's button
    assert await User.exists(id=201)
    await zhang.press("🗑 确认删除")
    done = zhang.last
    assert "您的个人信息已删除" in done.text and done.buttons == []
    assert not await User.exists(id=201)
    await zhang.press_data(confirm, message_id=done.message_id)  # replayed
    assert zhang.callback_answers[-1]["show_alert"] is True
    assert await User.filter(status=UserStatus.FORGOTTEN).count() == 1
    menu = {c["command"] for c in harness.emulator.commands_for(201)}
    assert "new" not in menu and {"mydata", "forget"} <= menu
    await zhang.send("/start")  # a stranger now: registration starts afresh
    assert "第 1 步" in zhang.last.text


async def test_forget_refused_while_the_only_contact_of_open_demands(harness: Harness) -> None:
    c = await _cast()
    published = await published_demand(c.owner, c.reviewer)
    contracted = await in_status(c, DemandStatus.CONTRACTED)
    owner = harness.person(OWNER, "王经理")
    await owner.send("/forget")
    assert "暂时无法删除" in owner.last.text
    assert published.reference in owner.last.text and contracted.reference in owner.last.text
    assert owner.last.buttons == []
    institution = harness.person(301, "张工")
    await institution.send("/forget")
    assert contracted.reference in institution.last.text
    assert published.reference not in institution.last.text
    # A colleague who can answer for the enterprise: now the owner may go.
    org = await Organization.get(id=c.owner.organization_id)
    colleague = await make_member(5550002, "王二", Role.ENTERPRISE, org.name, org=org)
    await owner.send("/forget")
    await owner.press("🗑 确认删除")
    assert not await User.exists(id=OWNER)
    # The colleague accepts an offer on the demand the owner wrote: the institution gets the
    # colleague's contact, not the empty one of whoever wrote it.
    rival = await make_member(302, "赵工", Role.INSTITUTION, "苏州技术转移中心")
    zhao = harness.person(302, "赵工")
    await zhao.send("/start")
    await harness.person(colleague.id, "王二").send("/start")
    intent = await offer(published, rival)
    events = await market.accept(intent.id, colleague)
    await harness.application.bot_data[NOTIFIER].publish(events)
    assert "王二，电话 +8613805550002" in zhao.last.text


async def test_what_remains_after_forget_carries_no_personal_data(harness: Harness) -> None:
    c = await _cast()
    demand = await in_status(c, DemandStatus.COMPLETED)
    await engagements.give_feedback(demand.id, c.owner, SCORES, "solved", "很专业")
    await in_status(c, DemandStatus.EXPIRED)
    # An assistant named the owner as the contact of an enterprise; a take-over names their id.
    assistant = await make_assistant(601, "孙助理")
    await relay.create_relay_enterprise(
        assistant, "城南新材料有限公司", credit_code("9132"), "王经理"
    )
    await audit.record(
        OWNER, "demand.taken_over", "demand", demand.id, after={"submitted_by": OWNER}
    )
    actions = await AuditLog.filter(actor_id=OWNER).count()
    owner = harness.person(OWNER, "王经理")
    await owner.send("/forget")
    await owner.press("🗑 确认删除")
    [ghost] = await User.filter(status=UserStatus.FORGOTTEN)
    assert ghost.id < 0 and ghost.role is Role.ENTERPRISE
    assert ghost.organization_id == c.owner.organization_id  # type: ignore[attr-defined]
    assert (ghost.real_name, ghost.phone, ghost.first_name, ghost.reachable) == (
        None,
        None,
        "",
        False,
    )
    # The statistics stand: the demands, the rating, every audit row.
    kept = await Demand.get(id=demand.id)
    assert kept.status is DemandStatus.COMPLETED and kept.submitted_by_id == ghost.id
    rating = await Feedback.get(engagement__demand_id=demand.id)
    assert (rating.overall, rating.user_id) == (5, ghost.id)
    assert await AuditLog.filter(actor_id=ghost.id).count() == actions + 1
    relayed = await AuditLog.get(action="organization.relay_created")
    assert relayed.after is not None and relayed.after["contact"] == "[removed]"
    # Nowhere in the database: their id, phone or name.
    found = await _scan(str(OWNER), OWNER_PHONE, "13805550001", "王经理")
    assert found == []


async def _scan(*needles: str) -> list[str]:
    """Every column of every table that holds one of these strings (or the id as a number)."""
    found = []
    for model in Tortoise.apps.get_models_iterable():  # type: ignore[union-attr]
        for record in await model.all().values():
            for column, value in record.items():
                text = json.dumps(value, ensure_ascii=False, default=str)
                hits = [n for n in needles if n in text]
                if hits:
                    found.append(f"{model.__name__}.{column}={text[:60]} {hits}")
    return found


async def test_forget_withdraws_a_waiting_application(harness: Harness) -> None:
    await make_staff(301, Role.REVIEWER, "王审核")
    wang = harness.person(301, "王审核")
    await wang.send("/start")
    zhang = harness.person(201, "张伟")
    await register_enterprise(zhang)
    await zhang.press("✅ 确认提交")
    card = wang.last
    assert "张伟" in card.text
    await zhang.send("/forget")
    await zhang.press("🗑 确认删除")
    edited = next(m for m in wang.messages if m.message_id == card.message_id)
    assert "撤回" in edited.text and edited.buttons == []
    assert "张伟" not in edited.text and "0201" not in edited.text
    [application] = await Registration.all()
    assert application.status is RegistrationStatus.WITHDRAWN
    assert (application.real_name, application.phone) == ("", "")
    assert (await Review.get(subject_id=application.id)).status is ReviewStatus.CANCELLED


async def test_offers_nobody_could_carry_out_are_closed(harness: Harness) -> None:
    c = await _cast()
    demand = await published_demand(c.owner, c.reviewer)
    intent = await offer(demand, c.inst)
    institution = harness.person(301, "张工")
    await institution.send("/forget")
    await institution.press("🗑 确认删除")
    assert (await Intent.get(id=intent.id)).status is IntentStatus.CLOSED


async def test_a_reviewer_forgotten_leaves_decisions_without_a_name(harness: Harness) -> None:
    zhang, wang = await approved_enterprise(harness)
    await wang.send("/forget")
    await wang.press("🗑 确认删除")
    decision = await Review.get(status=ReviewStatus.APPROVED).prefetch_related("decided_by")
    assert decision.decided_by is not None
    assert decision.decided_by.status is UserStatus.FORGOTTEN
    assert (await User.get(id=201)).status is UserStatus.ACTIVE  # the applicant is untouched


async def test_a_configured_admin_is_admin_again_after_a_restart(
    harness: Harness, database: str, emulator_server: Any
) -> None:
    admin = harness.person(ADMIN_ID, "周管理")
    await admin.send("/start")
    await admin.send("/forget")
    await admin.press("🗑 确认删除")
    assert not await User.exists(id=ADMIN_ID)
    await stop_bot(harness.application)
    harness.application = await start_bot(*emulator_server, database)
    again = await User.get(id=ADMIN_ID)
    assert (again.role, again.status, again.real_name) == (Role.ADMIN, UserStatus.ACTIVE, None)
