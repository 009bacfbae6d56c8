"""/stats and /export through the chat (issue #5 items 5-6): what an admin sees in zh and en,
the files they get, and what everyone else is told.
"""

from __future__ import annotations

import asyncio
import csv
import io

from openpyxl import load_workbook

from bot.emulator import EmulatedUser
from handlers.context import PLATFORM
from models.demand_entities import DemandStatus as S
from models.entities import AuditLog, User
from tests.conftest import ADMIN_ID, Harness
from tests.lifecycle_support import Cast, cast, in_status


async def _people(harness: Harness, admin_lang: str = "zh-CN") -> tuple[Cast, EmulatedUser]:
    c = await cast()
    await User.filter(id=ADMIN_ID).update(language_code=admin_lang)
    await in_status(c, S.COMPLETED)
    await in_status(c, S.SUBMITTED)
    admin = harness.person(ADMIN_ID, "周管理", language_code=admin_lang)
    return c, admin


def _png(person: EmulatedUser) -> bytes:
    photo = person.last.photo
    assert photo, f"expected a photo, got {person.last.text!r}"
    return person.download(photo[-1]["file_id"])


def _document(person: EmulatedUser) -> tuple[str, bytes]:
    document = person.last.document
    assert document, f"expected a document, got {person.last.text!r}"
    return document["file_name"], person.download(document["file_id"])


def _sheet(content: bytes, title: str) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = [list(row) for row in book[title].iter_rows(values_only=True)]
    book.close()
    return rows


async def test_admin_gets_the_statistics_and_a_chart_in_chinese(harness: Harness) -> None:
    _, admin = await _people(harness)
    await admin.send("/stats")
    text = admin.messages[-2].text
    assert "平台统计" in text and "需求总数：2" in text
    assert "已完成 1" in text and "待审核 1" in text and "检验检测 2" in text
    assert "提交 2 → 发布 1 → 对接 1 → 完成 1 → 评价 0" in text
    assert "（1 个需求）" in text
    assert admin.last.text == "📈 每月需求与转化漏斗"
    assert _png(admin).startswith(b"\x89PNG\r\n\x1a\n")


async def test_admin_gets_the_statistics_in_english(harness: Harness) -> None:
    _, admin = await _people(harness, "en")
    await admin.send("/stats")
    text = admin.messages[-2].text
    assert "Platform statistics" in text and "Demands in all: 2" in text
    assert "submitted 2 → published 1 → matched 1 → completed 1 → rated 0" in text
    assert "Testing and inspection 2" in text
    assert _png(admin).startswith(b"\x89PNG\r\n\x1a\n")


async def test_admin_exports_masked_demands_as_xlsx_in_chinese(harness: Harness) -> None:
    c, admin = await _people(harness)
    await admin.send("/export")
    assert "第 1 步，共 3 步" in admin.last.text
    await admin.press("需求")
    assert "第 2 步" in admin.last.text
    await admin.press("XLSX")
    assert "第 3 步" in admin.last.text
    await admin.press("🔒 脱敏导出（推荐）")
    name, content = _document(admin)
    assert name.startswith("innobridge-demands-") and name.endswith(".xlsx")
    assert "「需求」共 2 行（已脱敏）" in admin.last.text
    rows = _sheet(content, "需求")
    assert rows[0][:3] == ["需求编号", "标题", "服务类别"]
    assert {row[8] for row in rows[1:]} == {"王**"}
    assert await AuditLog.filter(action="export.masked", actor_id=ADMIN_ID).count() == 1
    # The menu's buttons are gone: it has made its file.
    assert admin.messages[-2].button_labels() == []


async def test_admin_exports_full_users_as_csv_in_english_after_confirming(
    harness: Harness,
) -> None:
    c, admin = await _people(harness, "en")
    await admin.send("/export")
    await admin.press("Users")
    await admin.press("CSV")
    await admin.press("🔓 Full data")
    assert "recorded in the audit log" in admin.last.text
    assert await AuditLog.filter(subject_type="export").count() == 0  # not yet
    await admin.press("✅ Export full data")
    name, content = _document(admin)
    assert name.endswith(".csv") and content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Telegram ID", "Real name", "Phone"]
    owner = next(row for row in rows if row[0] == str(c.owner.id))
    assert owner[1:3] == ["王经理", "'+8613800000101"]
    audit = await AuditLog.get(action="export.full")
    assert audit.actor_id == ADMIN_ID and audit.after is not None
    assert audit.after["table"] == "users" and audit.after["format"] == "csv"


async def test_back_goes_one_step_back(harness: Harness) -> None:
    _, admin = await _people(harness)
    await admin.send("/export")
    await admin.press("全部表")
    await admin.press("⬅️ 返回")
    assert "第 1 步" in admin.last.text and "用户" in admin.last.button_labels()


async def test_a_double_press_of_confirm_exports_once(harness: Harness) -> None:
    _, admin = await _people(harness)
    await admin.send("/export")
    await admin.press("用户")
    await admin.press("XLSX")
    await admin.press("🔓 完整数据")
    menu = admin.last.message_id
    answers = await asyncio.gather(
        admin.press_data("ex:y:users:xlsx", message_id=menu),
        admin.press_data("ex:y:users:xlsx", message_id=menu),
    )
    assert len([m for m in admin.messages if m.document]) == 1
    assert await AuditLog.filter(action="export.full").count() == 1
    refused = [a for a in answers if a and "已经生成过文件" in str(a.get("text"))]
    assert len(refused) == 1


async def test_an_export_over_the_upload_limit_is_refused_clearly(harness: Harness) -> None:
    _, admin = await _people(harness)
    config = harness.application.bot_data[PLATFORM]
    limited = config.model_copy(
        update={"stats": config.stats.model_copy(update={"upload_limit_mb": 0.001})}
    )
    harness.application.bot_data[PLATFORM] = limited
    await admin.send("/export")
    await admin.press("全部表")
    await admin.press("XLSX")
    await admin.press("🔒 脱敏导出（推荐）")
    assert "超过聊天中可发送的上限 0.001 MB" in admin.last.text
    assert "innobridge export" in admin.last.text
    assert not any(m.document for m in admin.messages)


async def test_others_are_refused_and_forged_buttons_change_nothing(harness: Harness) -> None:
    c, admin = await _people(harness)
    owner = harness.person(c.owner.id, "王经理")
    reviewer = harness.person(c.reviewer.id, "李审核")
    for person in (owner, reviewer):
        await person.send("/stats")
        assert person.last.text == "只有管理员可以查看统计和导出数据。"
        await person.send("/export")
        assert person.last.text == "只有管理员可以查看统计和导出数据。"
        answer = await person.press_data("ex:y:users:xlsx", message_id=person.last.message_id)
        assert answer is not None and "只有管理员" in answer["text"]
        assert not any(m.document or m.photo for m in person.messages)
    await admin.send("/export")
    for forged in ("ex:t:secrets", "ex:f:users:pdf", "ex:m:users:xlsx:z", "ex:q", "ex:y:x:csv"):
        answer = await admin.press_data(forged, message_id=admin.last.message_id)
        assert answer is not None and answer.get("show_alert")
    assert not any(m.document for m in admin.messages)
    assert await AuditLog.filter(subject_type="export").count() == 0
