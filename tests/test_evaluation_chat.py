"""The annual evaluation through the chat and the command line: the admin's /evaluate with
its buttons, each institution told its own published result once (zh and en), /evaluation,
and every refusal. The scoring itself is checked by hand in test_evaluation.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.emulator import EmulatedUser
from handlers.context import NOTIFIER
from models import evaluation
from models.entities import AuditLog, Role, User
from models.evaluation_entities import Evaluation, EvaluationRun, RunStatus
from models.events import Event
from tests.conftest import ADMIN_ID, Harness, make_staff
from tests.demand_support import TODAY
from tests.evaluation_support import YEAR, ZONE, G, published_run, seed_year
from tests.operability_support import environment, innobridge
from tests.reminder_support import Clock, engine

REF = f"E{YEAR}"


async def _person(harness: Harness, user: User, lang: str = "zh-CN") -> EmulatedUser:
    person = harness.person(user.id, user.real_name or "", language_code=lang)
    await person.send("/start")
    return person


async def _publish(harness: Harness, events: list[Event]) -> None:
    await harness.application.bot_data[NOTIFIER].publish(events)


async def test_admin_computes_notices_publishes_and_each_institution_hears_its_own(
    harness: Harness,
) -> None:
    people = await seed_year()
    await published_run(YEAR - 1, {people["D"]: G.UNQUALIFIED})
    admin = await _person(harness, await make_staff(ADMIN_ID, Role.ADMIN, "周管理"))
    english_admin = await make_staff(901, Role.ADMIN, "Wu")
    wu = await _person(harness, english_admin, "en")
    a = await _person(harness, people["A"])
    b = await _person(harness, people["B"], "en")
    d = await _person(harness, people["D"])
    for key in ("E", "C"):
        await _person(harness, people[key])
    await a.send("/evaluation")
    assert "暂无" in a.last.text  # nothing under notice or published yet
    await admin.send("/evaluate")
    card = admin.last
    assert f"✅ 已计算考核 {REF}。" in card.text
    assert "草稿" in card.text and "共 5 家机构" in card.text
    assert "1. 甲检测中心  98.13 分  优秀 ★★★★★" in card.text
    assert "3. 乙技术转移  74.48 分  合格 ★★★☆☆" in card.text
    assert "等次分布：优秀 1 · 良好 1 · 合格 1 · 不合格 2" in card.text
    assert "连续两年不合格（1 家）：丁孵化器" in card.text
    assert card.button_labels() == ["🔄 重新计算", "📢 发起公示"]
    await a.send("/evaluation")
    assert "暂无" in a.last.text  # a draft is not shown to institutions
    await admin.press("🔄 重新计算")
    assert "已计算考核" in admin.last.text
    await admin.press("📢 发起公示", message_id=card.message_id)
    until = (TODAY + timedelta(days=7)).isoformat()
    noticed = next(m for m in admin.messages if m.message_id == card.message_id)
    assert f"公示至 {until}" in noticed.text and noticed.button_labels() == []
    assert f"under public notice until {until}" in wu.last.text  # every admin hears of it
    # Under notice the institution sees its result and until when it may object.
    await a.send("/evaluation")
    assert "甲检测中心：优秀 ★★★★★" in a.last.text
    assert "得分 98.13，排名 1/5" in a.last.text and f"公示至 {until}" in a.last.text
    # The notice ends; the daily job publishes; admins hear of it.
    await _publish(harness, await evaluation.publish_due(TODAY + timedelta(days=7)))
    assert "is published" in wu.last.text
    # The reminder engine tells each institution its own result, once.
    published = datetime.combine(TODAY, time(10), ZONE).astimezone(UTC)
    await EvaluationRun.filter(year=YEAR).update(published_at=published)
    clock = Clock().at(TODAY, 10, 5)
    bot_engine = engine(harness, clock)
    before = {p: len(p.messages) for p in (a, b, d)}
    assert (await bot_engine.tick()).sent == 5  # the five representatives
    assert all(len(p.messages) == n + 1 for p, n in before.items())
    told_a = a.last.text
    assert (
        told_a
        == f"🏅 {REF} {YEAR} 年度服务机构考核结果\n甲检测中心：优秀 ★★★★★\n得分 98.13，排名 1/5"
    )
    told_b = b.last.text
    assert "Qualified" in told_b and "★★★☆☆" in told_b and "Score 74.48, rank 3 of 5" in told_b
    told_d = d.last.text
    assert "不合格" in told_d and "连续两年考核不合格" in told_d
    assert "连续两年" not in told_a
    clock.at(TODAY + timedelta(days=1), 10)
    assert (await bot_engine.tick()).sent == 0
    assert len(a.messages) == before[a] + 1
    await b.send("/evaluation")
    assert "Score 74.48, rank 3 of 5" in b.last.text and "notice" not in b.last.text
    # Published is final: /evaluate shows it, and recomputes nothing.
    await admin.send(f"/evaluate {YEAR}")
    assert "不能再重新计算" in admin.last.text and "已公布" in admin.last.text
    assert admin.last.button_labels() == []
    assert await AuditLog.filter(action="evaluation.computed").count() == 2


async def test_publish_button_once_the_notice_has_ended_and_a_double_press(
    harness: Harness,
) -> None:
    await seed_year()
    admin_user = await make_staff(ADMIN_ID, Role.ADMIN, "周管理")
    admin = await _person(harness, admin_user, "en")
    await admin.send(f"/evaluate {YEAR}")
    card = admin.last
    assert "1. 甲检测中心  98.13  Excellent ★★★★★" in card.text
    assert "By grade: Excellent 1 · Good 1 · Qualified 1 · Not qualified 2" in card.text
    await admin.press("📢 Open notice", message_id=card.message_id)
    # The same (now stale) button again: refused politely, nothing changes.
    answer = await admin.press_data(f"ev:n:{YEAR}", message_id=card.message_id)
    assert answer is not None and "already put under notice by 周管理" in answer["text"]
    assert await AuditLog.filter(action="evaluation.notice_opened").count() == 1
    await admin.send(f"/evaluate {YEAR}")
    assert "Publish" not in str(admin.last.button_labels())  # the notice still runs
    early = await admin.press_data(f"ev:p:{YEAR}", message_id=admin.last.message_id)
    assert early is not None and "can be published from" in early["text"]
    await EvaluationRun.filter(year=YEAR).update(notice_ends_on=TODAY)
    await admin.send(f"/evaluate {YEAR}")
    assert admin.last.button_labels() == ["🏅 Publish"]
    pressed = admin.last.message_id
    await admin.press("🏅 Publish")
    edited = next(m for m in admin.messages if m.message_id == pressed)
    assert f"Evaluation {REF} is published" in edited.text
    assert "Published on" in edited.text and edited.button_labels() == []
    assert "(5 institutions), is published" in admin.last.text  # as every admin is told
    assert (await EvaluationRun.get(year=YEAR)).status is RunStatus.PUBLISHED


async def test_refusals_bad_years_and_forged_buttons(harness: Harness) -> None:
    people = await seed_year()
    await make_staff(ADMIN_ID, Role.ADMIN, "周管理")
    admin = await _person(harness, await User.get(id=ADMIN_ID))
    rep = await _person(harness, people["A"])
    owner = await _person(harness, people["owner"])
    await rep.send("/evaluate")
    assert "只有管理员" in rep.last.text
    await admin.send("/evaluation")
    assert "只有服务机构" in admin.last.text
    await owner.send("/evaluation")
    assert "只有服务机构" in owner.last.text
    for bad in (str(TODAY.year), "1999", "去年"):
        await admin.send(f"/evaluate {bad}")
        assert "年份" in admin.last.text and "无效" in admin.last.text
    await admin.send(f"/evaluate {YEAR - 3}")
    assert f"{YEAR - 3} 年没有任何服务记录" in admin.last.text and "未保存任何结果" in (
        admin.last.text
    )
    assert await EvaluationRun.all().count() == 0
    await admin.send(f"/evaluate {YEAR}")
    card = admin.last
    # An institution pressing an admin's button, forged data, an unknown year: nothing moves.
    answer = await rep.press_data(f"ev:n:{YEAR}", message_id=rep.last.message_id)
    assert answer is not None and "只有管理员" in answer["text"]
    for forged in ("ev:x:2025", "ev:n:20x5", "ev:n", f"ev:n:{YEAR}:1"):
        answer = await admin.press_data(forged, message_id=card.message_id)
        assert answer is not None and answer["text"], forged
    missing = await admin.press_data(f"ev:n:{YEAR - 3}", message_id=card.message_id)
    assert missing is not None and "尚未计算" in missing["text"]
    assert (await EvaluationRun.get(year=YEAR)).status is RunStatus.COMPUTED
    # Two admins press Open notice at once: one opens it.
    other = await _person(harness, await make_staff(901, Role.ADMIN, "吴管理"))
    await other.send(f"/evaluate {YEAR}")
    await asyncio.gather(
        admin.press("📢 发起公示", message_id=card.message_id),
        other.press("📢 发起公示", message_id=other.last.message_id),
    )
    assert await AuditLog.filter(action="evaluation.notice_opened").count() == 1


async def test_command_line(database: str, tmp_path: Path) -> None:
    people = await seed_year()
    await published_run(YEAR - 1, {people["C"]: G.UNQUALIFIED})
    env = environment(INNOBRIDGE_DATABASE_URL=database)
    status, out, err = await innobridge("evaluate", "--year", str(YEAR), env=env, cwd=tmp_path)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{REF}  year {YEAR}  computed  scheme jiangsu"
    assert lines[2].split() == ["1", "98.13", "excellent", "5", "甲检测中心"]
    assert lines[6].split() == ["5", "20.00", "unqualified", "1", "2×", "丙知识产权"]
    assert await Evaluation.filter(year=YEAR).count() == 5
    status, out, err = await innobridge("evaluate", "--year", "2099", env=env, cwd=tmp_path)
    assert status == 2 and "not a year that can be evaluated" in err and out == ""
    status, _, err = await innobridge("evaluate", "--year", str(YEAR - 3), env=env, cwd=tmp_path)
    assert status == 2 and f"no records for {YEAR - 3}" in err
    assert not await EvaluationRun.exists(year=YEAR - 3)
