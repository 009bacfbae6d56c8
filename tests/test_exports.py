"""Exports for admins (issue #5 item 6): XLSX read back with openpyxl, CSV parsed, headings
in zh and en, personal data masked unless full data is asked for (and then audited), and a
large table read in batches rather than at once.
"""

from __future__ import annotations

import asyncio
import csv
import getpass
import io
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from handlers.stats_views import words
from models import engagements, export_files, exports
from models.db import close_database, open_database
from models.demand_entities import Demand, DemandStatus, Engagement
from models.entities import AuditLog, User
from models.errors import NotAllowed
from models.evaluation_entities import Evaluation, EvaluationRun, Grade
from models.voucher_entities import Voucher
from tests.demand_support import PLATFORM, TODAY
from tests.lifecycle_support import SCORES, Cast, cast, in_status


def options(lang: str = "zh", *, full: bool = False) -> exports.Options:
    return exports.Options(lang, full, "Asia/Shanghai", PLATFORM, words(lang))


async def seed() -> tuple[Cast, Demand]:
    """A completed engagement with a voucher, and one evaluation result."""
    c = await cast()
    demand = await in_status(c, DemandStatus.COMPLETED)
    await engagements.give_feedback(demand.id, c.owner, SCORES, "solved", "报告很专业")
    engagement = await Engagement.get(demand_id=demand.id)
    await Voucher.create(
        engagement=engagement,
        enterprise_id=c.owner.organization_id,
        institution_id=c.inst.organization_id,
        year=2026,
        applicant=c.owner,
        purpose="红外光谱检测费用",
        amount_requested=Decimal("10000.00"),
    )
    run = await EvaluationRun.create(year=2025, scheme="jiangsu", computed_at=datetime.now(UTC))
    await Evaluation.create(
        run=run,
        year=2025,
        organization_id=c.inst.organization_id,
        score=Decimal("91.50"),
        rank=1,
        grade=Grade.EXCELLENT,
        stars=5,
    )
    return c, demand


async def _xlsx(tmp_path: Path, opts: exports.Options, name: str = "all") -> dict[str, list]:
    path = tmp_path / "export.xlsx"
    await export_files.write(exports.tables_for(name), "xlsx", opts, path)
    book = load_workbook(path, read_only=True)
    sheets = {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book
    }
    book.close()
    return sheets


async def test_xlsx_in_chinese_has_every_table_with_chinese_headings_and_masked_data(
    database: str, tmp_path: Path
) -> None:
    c, demand = await seed()
    sheets = await _xlsx(tmp_path, options("zh"))
    assert list(sheets) == ["用户", "单位", "需求", "对接", "评价", "创新券", "考核评价"]
    users = sheets["用户"]
    assert users[0] == [
        "Telegram ID", "姓名", "手机号", "角色", "状态", "所属单位", "镇/街道", "注册时间"
    ]  # fmt: skip
    assert len(users) - 1 == await User.all().count()  # staff too, who have no organisation
    owner = next(row for row in users if row[5] == "如皋精密机械有限公司")
    assert owner[:4] == ["*101", "王**", "138****0101", "企业用户"]
    assert owner[6] == "城南街道"
    demands = sheets["需求"]
    assert demands[0][:7] == [
        "需求编号",
        "标题",
        "服务类别",
        "镇/街道",
        "预算",
        "期望完成日期",
        "状态",
    ]
    assert demands[1][:7] == [
        demand.reference, "红外光谱检测", "检验检测", "城南街道", "5 万元以下",
        (await Demand.get(id=demand.id)).wanted_by.isoformat(), "已完成",
    ]  # fmt: skip
    assert demands[1][8] == "王**"  # submitted by 王经理, masked
    assert sheets["评价"][1][:4] == [1, demand.reference, "南通检测中心", 5]
    voucher = sheets["创新券"]
    assert voucher[0][:6] == ["创新券编号", "需求编号", "企业", "服务机构", "年度", "申请人"]
    assert voucher[1][1:6] == [
        demand.reference,
        "如皋精密机械有限公司",
        "南通检测中心",
        2026,
        "王**",
    ]
    assert voucher[1][7] == 10000
    assert sheets["考核评价"][1][:6] == [2025, "南通检测中心", 91.5, 1, "excellent", 5]
    everything = str(sheets)
    assert "+86138" not in everything and "王经理" not in everything


async def test_xlsx_in_english_with_full_data_is_audited(database: str, tmp_path: Path) -> None:
    c, demand = await seed()
    opts = options("en", full=True)
    await exports.begin(c.admin, "users", "xlsx", opts, request="menu:7")
    sheets = await _xlsx(tmp_path, opts, "users")
    users = sheets["Users"]
    assert users[0] == [
        "Telegram ID", "Real name", "Phone", "Role", "Status", "Organisation", "Township",
        "Registered at",
    ]  # fmt: skip
    owner = next(row for row in users if row[0] == c.owner.id)
    assert owner[1:4] == ["王经理", "+8613800000101", "Enterprise"]
    assert owner[6] == "Chengnan Subdistrict"
    row = await AuditLog.get(action="export.full")
    assert row.actor_id == c.admin.id and row.subject_type == "export"
    assert row.after == {"table": "users", "format": "xlsx", "lang": "en", "by": None}


async def test_full_data_is_for_admins_only_and_nothing_is_audited_for_others(
    database: str,
) -> None:
    c, _ = await seed()
    for someone in (c.owner, c.reviewer, c.inst):
        for full in (False, True):
            with pytest.raises(NotAllowed) as refused:
                await exports.begin(someone, "users", "csv", options(full=full))
            assert refused.value.message_id == "stats.admin_only"
    assert await AuditLog.filter(subject_type="export").count() == 0


async def test_one_menu_exports_once_even_when_pressed_twice_at_once(database: str) -> None:
    c, _ = await seed()
    opts = options(full=True)
    outcomes = await asyncio.gather(
        exports.begin(c.admin, "users", "csv", opts, request="menu:42"),
        exports.begin(c.admin, "users", "csv", opts, request="menu:42"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, NotAllowed)]
    assert len(refused) == 1 and refused[0].message_id == "export.already"
    assert await AuditLog.filter(action="export.full").count() == 1
    # Another menu is another export.
    await exports.begin(c.admin, "users", "csv", opts, request="menu:43")
    assert await AuditLog.filter(action="export.full").count() == 2


async def test_csv_has_a_bom_for_excel_and_parses_back(database: str, tmp_path: Path) -> None:
    c, demand = await seed()
    path = tmp_path / "demands.csv"
    written = await export_files.write(exports.tables_for("demands"), "csv", options(), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["需求编号", "标题", "服务类别"]
    assert rows[1][0] == demand.reference and rows[1][6] == "已完成"
    assert written.rows == {"demands": 1} and len(rows) == 2


async def test_all_tables_as_csv_make_a_zip_of_csv_files(database: str, tmp_path: Path) -> None:
    await seed()
    path = tmp_path / "all.zip"
    written = await export_files.write(exports.tables_for("all"), "csv", options("en"), path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(f"{name}.csv" for name in exports.TABLES)
        text = archive.read("feedback.csv").decode("utf-8-sig")
    assert text.splitlines()[0].startswith("ID,Demand,Institution,Overall")
    assert written.rows["vouchers"] == 1 and written.rows["evaluations"] == 1


async def test_text_that_looks_like_a_formula_stays_text(database: str, tmp_path: Path) -> None:
    c, demand = await seed()
    formula = '=HYPERLINK("http://example.invalid","点我")'
    await Demand.filter(id=demand.id).update(title=formula, description="a\x01b")
    sheets = await _xlsx(tmp_path, options(), "demands")
    assert sheets["需求"][1][1] == formula
    book = load_workbook(tmp_path / "export.xlsx")
    assert book["需求"]["B2"].data_type == "s"
    path = tmp_path / "d.csv"
    await export_files.write(exports.tables_for("demands"), "csv", options(), path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[1][1] == "'" + formula


async def test_empty_tables_export_their_headings(database: str, tmp_path: Path) -> None:
    sheets = await _xlsx(tmp_path, options("en"), "vouchers")
    assert sheets == {"Vouchers": [[column.en for column in exports.TABLES["vouchers"].columns]]}


async def test_a_large_table_is_read_in_batches_and_written_whole(
    database: str, tmp_path: Path
) -> None:
    c = await cast()
    count = 20_001
    template = {
        "owner_id": c.owner.organization_id,
        "submitted_by_id": c.owner.id,
        "category": "testing",
        "description": "批量",
        "budget": "under_50k",
        "wanted_by": TODAY,
        "township": "chengnan",
    }
    await Demand.bulk_create(
        [Demand(title=f"需求 {i}", **template) for i in range(count)], batch_size=1000
    )
    table = exports.TABLES["demands"]
    sizes = [len(batch) async for batch in exports.batches(table, options())]
    # 500 rows per query: the whole table is never in memory at once.
    assert len(sizes) == 41 and set(sizes[:-1]) == {exports.BATCH} and sizes[-1] == 1
    path = tmp_path / "big.csv"
    written = await export_files.write([table], "csv", options(), path)
    assert written.rows == {"demands": count}
    with path.open(encoding="utf-8-sig") as stream:
        rows = sum(1 for _ in csv.reader(stream))
    assert rows == count + 1


def test_cli_refuses_a_bad_table_or_format_with_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["export", "secrets"], ["export", "users", "--format", "pdf"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'secrets'" in error and "invalid choice: 'pdf'" in error
    assert main(["export", "users", "--out", "/nonexistent-folder/users.xlsx"]) == 2
    assert "--out /nonexistent-folder/users.xlsx: not a file" in capsys.readouterr().err


def test_cli_writes_an_english_xlsx_and_audits_full_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("INNOBRIDGE_DATABASE_URL", url)
    out = tmp_path / "users.xlsx"
    assert main(["export", "users", "--lang", "en", "--full", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    book = load_workbook(out, read_only=True)
    assert [list(row) for row in book["Users"].iter_rows(values_only=True)] == [
        [column.en for column in exports.TABLES["users"].columns]
    ]
    book.close()

    async def audited() -> AuditLog:
        await open_database(url)
        try:
            return await AuditLog.get(action="export.full")
        finally:
            await close_database()

    row = asyncio.run(audited())
    assert row.actor_id is None and row.subject_id == "users"
    assert row.after is not None and row.after["by"] == f"cli:{getpass.getuser()}"


async def test_a_phone_that_is_not_e164_is_hidden_whole(database: str, tmp_path: Path) -> None:
    c = await cast()
    await User.filter(id=c.owner.id).update(phone="电话待补充")
    sheets = await _xlsx(tmp_path, options(), "users")
    owner = next(row for row in sheets["用户"] if row[1] == "王**")
    assert owner[2] == "*****"
