"""Each reminder rule of DESIGN §4 through the engine and the emulator, with a set clock.

Years come from the real today, so the tests mean the same in any year: the clock is moved
to the days around a deadline, and the chat (which knows only the real date) agrees with it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_platform
from models import engagements
from models.demand_entities import Demand, DemandStatus, Engagement
from models.entities import (
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Review,
    Role,
    User,
    UserStatus,
)
from models.reminder_config import ReminderConfig
from models.reminder_entities import DeliveryState, ReminderDelivery, Report
from models.reminders import due_between, meetings
from scheduler.operator import preview_lines
from tests.conftest import ADMIN_ID, Harness
from tests.demand_support import PLATFORM, TODAY, make_member, submitted_demand
from tests.lifecycle_support import SCORES, cast, in_status
from tests.reminder_support import ZONE, Clock, engine, institution, staff, started, texts

S = DemandStatus
PDF = b"%PDF-1.4\n% annual report\n"


async def test_annual_report_before_the_deadline_then_overdue_until_submitted(
    harness: Harness,
) -> None:
    year = TODAY.year
    deadline = date(year, 3, 31)
    clock = Clock()
    bot_engine = engine(harness, clock)
    _, li = await institution(harness, 501, "南通检测中心")
    _, bob = await institution(harness, 502, "Testing Lab", lang="en")
    await bot_engine.tick()  # whatever the real date, the clock says nothing yet
    clock.at(deadline - timedelta(days=31))
    assert (await bot_engine.tick()).sent == 0
    clock.at(deadline - timedelta(days=30))
    report = await bot_engine.tick()
    assert report.sent == 2
    [notice] = texts(li, "年度报告")
    assert f"{year - 1} 年度报告" in notice and f"{year}-03-31" in notice
    assert li.last.buttons[0][0]["text"] == "📤 上传报告"
    [english] = texts(bob, "annual report")
    assert f"annual report for {year - 1} is due by {year}-03-31" in english
    # The same tick again (a restart, a second worker) sends nothing twice.
    assert (await bot_engine.tick()).sent == 0
    assert len(texts(li, "年度报告")) == 1
    clock.at(deadline + timedelta(days=7))
    await bot_engine.tick()
    assert "已逾期" in li.last.text and "overdue" in bob.last.text
    # 李 uploads the report from the button; only Bob is chased from then on.
    await li.press("📤 上传报告")
    assert f"{year - 1} 年度报告" in li.last.text
    await li.send("还没准备好")
    assert "PDF" in li.last.text  # a text is no report: asked again, nothing stored
    await li.send_document("年报.pdf", PDF, mime_type="application/pdf")
    assert "已收到" in li.last.text and "提醒已停止" in li.last.text
    assert await Report.filter(kind="annual", period=str(year - 1)).count() == 1
    await li.send("/report")
    assert "已提交过" in li.last.text
    before = len(li.messages)
    clock.at(deadline + timedelta(days=14))
    await bot_engine.tick()
    assert len(li.messages) == before
    assert len(texts(bob, "overdue")) == 2


async def test_meeting_invitation_answers_and_summary(harness: Harness) -> None:
    config = PLATFORM.reminders
    start = datetime(TODAY.year + 1, 3, 1, tzinfo=ZONE)
    [meeting] = meetings(config, ZONE, start, start + timedelta(days=30))
    day = meeting.date()
    clock = Clock().at(day - timedelta(days=7))
    bot_engine = engine(harness, clock)
    _, li = await institution(harness, 501, "南通检测中心")
    _, reviewer = await staff(harness, 201, Role.REVIEWER)
    _, assistant = await staff(harness, 202, Role.ASSISTANT)
    owner = await started(harness, await make_member(101, "王经理", Role.ENTERPRISE, "星火科技"))
    admin = harness.person(ADMIN_ID, "周管理")
    await admin.send("/start")
    await bot_engine.tick()
    when = meeting.strftime("%Y-%m-%d %H:%M")
    for person in (li, reviewer, assistant):
        assert when in person.last.text and "服务例会" in person.last.text
    assert texts(owner, "服务例会") == [] and texts(admin, "服务例会") == []
    answer = await li.press("✅ 参加")
    assert answer is not None and "您将参加" in answer["text"]
    answer = await reviewer.press("❌ 无法参加")
    assert answer is not None and "无法参加" in answer["text"]
    # Changing one's mind is allowed; it is still one answer.
    await reviewer.press("✅ 参加")
    await reviewer.press("❌ 无法参加")
    compact = day.strftime("%Y%m%d")
    forged = await owner.press_data(f"rm:r:{compact}:1", message_id=owner.last.message_id)
    assert forged is not None and "不是发给您的" in forged["text"]
    not_a_meeting = (day + timedelta(days=1)).strftime("%Y%m%d")
    stale = await li.press_data(f"rm:r:{not_a_meeting}:1", message_id=li.last.message_id)
    assert stale is not None and "过期" in stale["text"]
    nonsense = await li.press_data("rm:r:20261399:1", message_id=li.last.message_id)
    assert nonsense is not None and "无法识别" in nonsense["text"]
    clock.at(day - timedelta(days=1))
    await bot_engine.tick()
    await bot_engine.tick()
    [summary] = texts(admin, "回复情况")
    assert "参加 1 人" in summary and "无法参加 1 人" in summary and when in summary


async def test_answering_a_past_meeting_is_refused(harness: Harness) -> None:
    start = datetime(TODAY.year - 1, 1, 1, tzinfo=ZONE)
    past = meetings(PLATFORM.reminders, ZONE, start, start + timedelta(days=120))[0]
    _, li = await institution(harness, 501, "南通检测中心")
    answer = await li.press_data(f"rm:r:{past:%Y%m%d}:1", message_id=li.last.message_id)
    assert answer is not None and "已经结束" in answer["text"]


async def test_filing_report_due_overdue_escalated_and_stopped_by_the_upload(
    harness: Harness,
) -> None:
    c = await cast()
    demand = await in_status(c, S.CONTRACTED)
    engagement = await Engagement.get(demand_id=demand.id)
    assert engagement.filing_due is not None
    due = engagement.filing_due
    inst = await started(harness, c.inst)
    reviewer = await started(harness, c.reviewer)
    owner = await started(harness, c.owner)
    for other in (c.admin, c.rival, c.stranger):  # other reminders fall due meanwhile
        await started(harness, other)
    clock = Clock().at(due - timedelta(days=7))
    bot_engine = engine(harness, clock)
    await bot_engine.tick()
    [notice] = texts(inst, "备案报告")
    assert demand.reference in notice and due.isoformat() in notice
    assert texts(reviewer, "尚未提交") == [] and texts(owner, "备案报告") == []
    clock.at(due + timedelta(days=1))
    await bot_engine.tick()
    [escalated] = texts(reviewer, "尚未提交")
    assert demand.reference in escalated and "南通检测中心" in escalated
    clock.at(due + timedelta(days=7))
    await bot_engine.tick()
    assert "已逾期" in inst.last.text and demand.reference in inst.last.text
    await inst.send(f"/report {demand.reference}")
    assert demand.reference in inst.last.text and "备案报告" in inst.last.text
    await inst.send_document("备案报告.pdf", PDF, mime_type="application/pdf")
    assert "已收到" in inst.last.text
    # The other side of the engagement cannot file the institution's report.
    await owner.send(f"/report {demand.reference}")
    assert "不是您的" in owner.last.text or "只有" in owner.last.text
    before = len(inst.messages)
    clock.at(due + timedelta(days=14))
    await bot_engine.tick()
    assert len(inst.messages) == before


async def test_feedback_asked_a_day_then_a_week_after_completion_until_given(
    harness: Harness,
) -> None:
    c = await cast()
    rated = await in_status(c, S.COMPLETED)
    silent = await in_status(c, S.COMPLETED)
    owner = await started(harness, c.owner)
    engagement = await Engagement.get(demand_id=silent.id)
    assert engagement.completed_at is not None
    completed = engagement.completed_at.astimezone(ZONE).date()
    clock = Clock().at(completed + timedelta(days=1))
    bot_engine = engine(harness, clock)
    await bot_engine.tick()
    asked = texts(owner, "请对服务进行评价")
    assert len(asked) == 2
    assert any(rated.reference in text for text in asked)
    button = owner.last.buttons[0][0]
    assert button["callback_data"].startswith("fb:s:")
    await engagements.give_feedback(rated.id, c.owner, SCORES, "solved", None)
    clock.at(completed + timedelta(days=7))
    await bot_engine.tick()
    asked = texts(owner, "请对服务进行评价")
    assert len(asked) == 3 and silent.reference in asked[-1]


async def test_demand_expiry_notice_only_while_unmatched(harness: Harness) -> None:
    c = await cast()
    waiting = await in_status(c, S.PUBLISHED)
    matched = await in_status(c, S.MATCHED)
    wanted_by = TODAY + timedelta(days=10)
    await Demand.filter(id__in=[waiting.id, matched.id]).update(wanted_by=wanted_by)
    owner = await started(harness, c.owner, lang="en")
    clock = Clock().at(wanted_by - timedelta(days=3))
    await engine(harness, clock).tick()
    [notice] = texts(owner, "expires on")
    assert waiting.reference in notice and wanted_by.isoformat() in notice
    assert owner.last.buttons[0][0]["text"] == f"🔎 {waiting.reference}"


async def test_pending_reviews_digest_then_escalation_to_admins(harness: Harness) -> None:
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "星火科技")
    await submitted_demand(owner)
    waiting = await Review.get(status="pending")
    # Waiting since 08:00, so that by day 3 the SLA was passed before two days' digest times.
    created = waiting.created_at.astimezone(ZONE).date()
    since = datetime.combine(created, time(8), ZONE).astimezone(UTC)
    await Review.filter(id=waiting.id).update(created_at=since)
    _, reviewer = await staff(harness, 201, Role.REVIEWER)
    admin = harness.person(ADMIN_ID, "周管理")
    await admin.send("/start")
    clock = Clock().at(created + timedelta(days=1))
    bot_engine = engine(harness, clock)
    await bot_engine.tick()
    assert texts(reviewer, "已等待超过") == []  # not yet past the 48-hour SLA
    clock.at(created + timedelta(days=3))
    await bot_engine.tick()
    [digest] = texts(reviewer, "已等待超过 48 小时")  # one digest for the two days missed
    assert "1 项" in digest and reviewer.last.buttons[0][0]["callback_data"] == "pq:p:0"
    assert texts(admin, "120 小时") == []
    clock.at(created + timedelta(days=6))
    await bot_engine.tick()
    [escalation] = texts(admin, "120 小时")
    assert "1 项" in escalation
    # Once decided, the digest stops.
    await Review.filter(id=waiting.id).update(status="approved")
    before = len(reviewer.messages)
    clock.at(created + timedelta(days=7))
    await bot_engine.tick()
    assert len(reviewer.messages) == before


async def test_evaluation_opening(harness: Harness) -> None:
    year = TODAY.year
    _, bob = await institution(harness, 502, "Testing Lab", lang="en")
    clock = Clock().at(date(year, 1, 8))
    bot_engine = engine(harness, clock)
    await bot_engine.tick()
    assert f"evaluation of institutions for {year - 1} opens on {year}-01-15" in bob.last.text
    # The results come with the published run, each institution its own (test_evaluation_chat).
    clock.at(date(year, 4, 30))
    assert (await bot_engine.tick()).sent == 0


async def test_a_switched_off_rule_sends_nothing(harness: Harness) -> None:
    platform = PLATFORM.model_copy(deep=True)
    platform.reminders.annual_report.enabled = False
    _, li = await institution(harness, 501, "南通检测中心")
    clock = Clock().at(date(TODAY.year, 3, 1))
    await engine(harness, clock, platform).tick()
    assert texts(li, "年度报告") == []
    assert not await ReminderDelivery.exists(rule="annual_report")


async def test_reminder_log_for_admins_only(harness: Harness) -> None:
    _, li = await institution(harness, 501, "南通检测中心")
    clock = Clock().at(date(TODAY.year, 3, 1))
    await engine(harness, clock).tick()
    row = await ReminderDelivery.get(rule="annual_report")
    assert row.state is DeliveryState.SENT and row.sent_at is not None
    assert row.sent_at.astimezone(UTC) == clock.now
    admin = harness.person(ADMIN_ID, "周管理")
    await admin.send("/start")
    await admin.send("/reminders")
    assert "已发送 1" in admin.last.text and "annual_report" in admin.last.text
    await li.send("/reminders")
    assert "只有管理员" in li.last.text


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[reminders.annual_report]\ndue = "02-30"\n', "reminders.annual_report.due"),
        ("[reminders.birthday]\nenabled = true\n", "reminders.birthday"),
        ("[reminders.feedback]\nafter_days = [-1]\n", "reminders.feedback.after_days"),
        ('[reminders.service_meeting]\nday = "32"\n', "reminders.service_meeting"),
        ("[reminders]\ngrace_hours = 10\n", "grace_hours"),
    ],
)
def test_impossible_reminder_configuration_names_the_key(
    tmp_path: Path, toml: str, named: str
) -> None:
    path = tmp_path / "platform.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as problem:
        load_platform(path)
    assert named in str(problem.value)


async def test_preview_lists_what_would_be_sent_without_sending(harness: Harness) -> None:
    _, li = await institution(harness, 501, "南通检测中心")
    clock = Clock().at(date(TODAY.year, 2, 20))
    lines = await preview_lines(PLATFORM, ZONE, clock.now, 40)
    annual = [line for line in lines if "annual_report" in line]
    assert [line.split()[0] for line in annual] == [
        f"{TODAY.year}-03-01",
        f"{TODAY.year}-03-24",
        f"{TODAY.year}-03-30",
    ]
    assert all("501:institution" in line and "南通" not in line for line in annual)
    assert texts(li, "年度报告") == []
    assert not await ReminderDelivery.exists()


def test_the_documented_defaults_are_the_defaults() -> None:
    # bot/default_platform.toml shows operators the [reminders] values; they must not drift.
    assert load_platform(None).reminders == ReminderConfig()


async def test_a_reminder_waiting_for_retry_is_dropped_with_a_reason_once_not_due(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    _, li = await institution(harness, 501, "南通检测中心")
    clock = Clock().at(date(TODAY.year, 3, 1))
    bot_engine = engine(harness, clock)
    await bot_engine.tick()
    row = await ReminderDelivery.get(rule="annual_report", recipient_id=501)
    # As if the send had failed: the row waits for its next attempt (lease_until).
    await ReminderDelivery.filter(id=row.id).update(
        state=DeliveryState.RETRY, lease_until=clock.now, sent_at=None
    )
    await li.send("/report")
    await li.send_document("年报.pdf", PDF, mime_type="application/pdf")
    before = len(li.messages)
    clock.at(date(TODAY.year, 3, 1), hour=10)
    report = await bot_engine.tick()
    assert report.sent == 0 and report.skipped == 1
    assert len(li.messages) == before
    row = await ReminderDelivery.get(id=row.id)
    assert (row.state, row.error) == (DeliveryState.SKIPPED, "no longer due")
    assert "no longer due" in caplog.text


@pytest.mark.postgres
async def test_a_tick_over_more_institutions_than_postgresql_takes_query_arguments(
    harness: Harness, database: str
) -> None:
    """PostgreSQL allows 32,767 arguments a query: the rules must not list ids as arguments."""
    if not database.startswith("postgres"):
        pytest.skip("the argument limit is PostgreSQL's")
    many = 33_000
    await Organization.bulk_create(
        [
            Organization(
                id=100_000 + n,
                name=f"机构{n}",
                kind=OrgKind.INSTITUTION,
                tier=InstitutionTier.SERVICE,
                status=OrgStatus.ACTIVE,
            )
            for n in range(many)
        ],
        batch_size=5000,
    )
    await User.bulk_create(
        [
            User(
                id=10_000_000 + n,
                first_name="x",
                role=Role.INSTITUTION,
                status=UserStatus.ACTIVE,
                organization_id=100_000 + n,
                reachable=True,
            )
            for n in range(many)
        ],
        batch_size=5000,
    )
    config = PLATFORM.reminders
    moment = Clock().at(date(TODAY.year, 3, 1)).now
    due = await due_between(config, ZONE, moment - timedelta(minutes=1), moment)
    assert sum(item.rule == "annual_report" for item in due) == many
    evaluation = Clock().at(date(TODAY.year, 1, 8)).now
    due = await due_between(config, ZONE, evaluation - timedelta(minutes=1), evaluation)
    assert sum(item.rule == "evaluation_opens" for item in due) == many
