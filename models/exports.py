"""What the admin exports contain (issue #5 item 6): per table, its columns (a heading in
each language and how a row gives the value), read from the database in batches.

Rows are read by keyset pagination on the primary key (`id > last ORDER BY id LIMIT n`),
never all at once, so an export of 100k rows holds one batch in memory; the writers
(models/export_files.py) write each batch out before the next is read.

Personal data (PIPL art. 51; DESIGN §2) is masked unless full data is asked for: phones as
138****8000, real names as 张*, Telegram ids but for their last digits. Asking for full data
needs its own permission and is audited, with who asked for which tables (`begin`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import audit, permissions
from models.demand_entities import Demand, Engagement, Feedback
from models.entities import AuditLog, Organization, User
from models.errors import NotAllowed
from models.evaluation_entities import Evaluation
from models.phone import mask_phone
from models.platform import PlatformConfig
from models.voucher_entities import Voucher

Cell = str | int | Decimal | bool | None
BATCH = 500


def _last_segment(key: str) -> str:
    return key.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Options:
    """How an export reads: language, masked or full, the platform zone and labels."""

    lang: str  # "zh" or "en"
    full: bool
    timezone: str
    platform: PlatformConfig
    # Localised words for coded values (a message id -> text); the caller passes t().
    words: Callable[[str], str] = field(default=_last_segment)

    @property
    def zone(self) -> ZoneInfo:
        """The platform's time zone, in which times are written."""
        return ZoneInfo(self.timezone)


Value = Callable[[Any, Options], Cell]


@dataclass(frozen=True)
class Column:
    """One column: its key, its heading in Chinese and English, its value of a row."""

    key: str
    zh: str
    en: str
    value: Value

    def heading(self, lang: str) -> str:
        """The heading in the export's language."""
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class Table:
    """An exportable table: the model, its columns, the relations each row needs."""

    name: str
    zh: str
    en: str
    model: type[Model]
    columns: tuple[Column, ...]
    related: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        """The sheet name in the export's language."""
        return self.zh if lang.startswith("zh") else self.en

    def headings(self, lang: str) -> list[str]:
        """The heading row."""
        return [column.heading(lang) for column in self.columns]


def mask_name(name: str | None) -> str:
    """A real name as exports show it: the first character, then one star per character."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id(telegram_id: int | None) -> str:
    """A Telegram id with only its last three digits shown."""
    if telegram_id is None:
        return ""
    text = str(telegram_id)
    return "*" * max(1, len(text) - 3) + text[-3:]


def when(value: datetime | date | None, options: Options) -> str:
    """A time in the platform zone (minutes), or a date, as text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(options.zone).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _code(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else ("" if value is None else str(value))


def attr(path: str) -> Value:
    """The value of an attribute (dotted through relations); enums by their code."""

    def get(row: Any, options: Options) -> Cell:
        value = row
        for part in path.split("."):
            value = getattr(value, part, None) if value is not None else None
        if isinstance(value, datetime | date):
            return when(value, options)
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    return get


def person(path: str) -> Value:
    """A real name through a relation, masked unless full data was asked for."""
    name = attr(path)

    def get(row: Any, options: Options) -> Cell:
        value = name(row, options)
        text = "" if value is None else str(value)
        return text if options.full else mask_name(text)

    return get


def _phone(row: Any, options: Options) -> Cell:
    phone = row.phone
    if not phone or options.full:
        return phone or ""
    try:
        return mask_phone(phone)
    except phonenumbers.NumberParseException:
        return "*" * len(phone)  # not E.164 (written before validation): hide it all


def _telegram_id(row: Any, options: Options) -> Cell:
    return row.id if options.full else mask_id(row.id)


def worded(prefix: str, path: str) -> Value:
    """A coded value (a status, a role) in the export's language, via its message id."""
    raw = attr(path)

    def get(row: Any, options: Options) -> Cell:
        code = _code(raw(row, options))
        return options.words(f"{prefix}.{code}") if code else ""

    return get


def township(path: str) -> Value:
    """A configured township by its label."""
    raw = attr(path)

    def get(row: Any, options: Options) -> Cell:
        code = _code(raw(row, options))
        found = options.platform.township(code)
        return found.label(options.lang) if found else code

    return get


def _category(row: Any, options: Options) -> Cell:
    found = options.platform.category(row.category)
    return found.label(options.lang) if found else row.category


def _budget(row: Any, options: Options) -> Cell:
    found = options.platform.budget(row.budget)
    return found.label(options.lang) if found else row.budget


def reference(path: str) -> Value:
    """The reference code of a record (through a relation)."""

    def get(row: Any, options: Options) -> Cell:
        value = row
        for part in path.split(".") if path else ():
            value = getattr(value, part, None)
        return value.reference if value is not None else ""

    return get


C = Column
TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table(
            "users",
            "用户",
            "Users",
            User,
            (
                C("id", "Telegram ID", "Telegram ID", _telegram_id),
                C("real_name", "姓名", "Real name", person("real_name")),
                C("phone", "手机号", "Phone", _phone),
                C("role", "角色", "Role", worded("role", "role")),
                C("status", "状态", "Status", attr("status")),
                C("organization", "所属单位", "Organisation", attr("organization.name")),
                C("township", "镇/街道", "Township", township("township")),
                C("created_at", "注册时间", "Registered at", attr("created_at")),
            ),
            ("organization",),
        ),
        Table(
            "organizations",
            "单位",
            "Organisations",
            Organization,
            (
                C("id", "编号", "ID", attr("id")),
                C("name", "名称", "Name", attr("name")),
                C("kind", "类型", "Kind", attr("kind")),
                C("credit_code", "统一社会信用代码", "Credit code", attr("credit_code")),
                C("township", "镇/街道", "Township", township("township")),
                C("service_fields", "服务领域", "Service fields", attr("service_fields")),
                C("tier", "级别", "Tier", attr("tier")),
                C("status", "状态", "Status", attr("status")),
                C("created_at", "创建时间", "Created at", attr("created_at")),
            ),
        ),
        Table(
            "demands",
            "需求",
            "Demands",
            Demand,
            (
                C("reference", "需求编号", "Reference", reference("")),
                C("title", "标题", "Title", attr("title")),
                C("category", "服务类别", "Category", _category),
                C("township", "镇/街道", "Township", township("township")),
                C("budget", "预算", "Budget", _budget),
                C("wanted_by", "期望完成日期", "Wanted by", attr("wanted_by")),
                C("status", "状态", "Status", worded("submit.status", "status")),
                C("owner", "需求单位", "Owner", attr("owner.name")),
                C("submitted_by", "提交人", "Submitted by", person("submitted_by.real_name")),
                C(
                    "institution",
                    "对接机构",
                    "Matched institution",
                    attr("matched_institution.name"),
                ),
                C("published_at", "发布时间", "Published at", attr("published_at")),
                C("created_at", "提交时间", "Submitted at", attr("created_at")),
            ),
            ("owner", "submitted_by", "matched_institution"),
        ),
        Table(
            "engagements",
            "对接",
            "Engagements",
            Engagement,
            (
                C("id", "编号", "ID", attr("id")),
                C("demand", "需求编号", "Demand", reference("demand")),
                C("institution", "服务机构", "Institution", attr("institution.name")),
                C("amount", "合同金额（元）", "Amount (yuan)", attr("amount")),
                C("signed_on", "签约日期", "Signed on", attr("signed_on")),
                C("voucher", "使用创新券", "Voucher used", attr("voucher")),
                C("filing_due", "备案报告期限", "Filing report due", attr("filing_due")),
                C("filed_at", "合同备案时间", "Contract filed at", attr("filed_at")),
                C("delivered_at", "交付时间", "Delivered at", attr("delivered_at")),
                C("completed_at", "完成时间", "Completed at", attr("completed_at")),
            ),
            ("demand", "institution"),
        ),
        Table(
            "feedback",
            "评价",
            "Feedback",
            Feedback,
            (
                C("id", "编号", "ID", attr("id")),
                C("demand", "需求编号", "Demand", reference("engagement.demand")),
                C("institution", "服务机构", "Institution", attr("engagement.institution.name")),
                C("overall", "总体", "Overall", attr("overall")),
                C("quality", "质量", "Quality", attr("quality")),
                C("timeliness", "及时性", "Timeliness", attr("timeliness")),
                C("professionalism", "专业性", "Professionalism", attr("professionalism")),
                C("outcome", "解决情况", "Outcome", attr("outcome")),
                C("comment", "意见", "Comment", attr("comment")),
                C("created_at", "评价时间", "Given at", attr("created_at")),
            ),
            ("engagement__demand", "engagement__institution"),
        ),
        Table(
            "vouchers",
            "创新券",
            "Vouchers",
            Voucher,
            (
                C("reference", "创新券编号", "Reference", reference("")),
                C("demand", "需求编号", "Demand", reference("engagement.demand")),
                C("enterprise", "企业", "Enterprise", attr("enterprise.name")),
                C("institution", "服务机构", "Institution", attr("institution.name")),
                C("year", "年度", "Year", attr("year")),
                C("applicant", "申请人", "Applicant", person("applicant.real_name")),
                C("purpose", "用途", "Purpose", attr("purpose")),
                C("requested", "申请金额（元）", "Requested (yuan)", attr("amount_requested")),
                C("granted", "核定金额（元）", "Granted (yuan)", attr("amount_granted")),
                C("status", "状态", "Status", attr("status")),
                C("decided_at", "审核时间", "Decided at", attr("decided_at")),
                C("redeemed_on", "兑付日期", "Redeemed on", attr("redeemed_on")),
                C("created_at", "申请时间", "Applied at", attr("created_at")),
            ),
            ("engagement__demand", "enterprise", "institution", "applicant"),
        ),
        Table(
            "evaluations",
            "考核评价",
            "Evaluations",
            Evaluation,
            (
                C("year", "年度", "Year", attr("year")),
                C("organization", "服务机构", "Institution", attr("organization.name")),
                C("score", "得分", "Score", attr("score")),
                C("rank", "排名", "Rank", attr("rank")),
                C("grade", "等级", "Grade", attr("grade")),
                C("stars", "星级", "Stars", attr("stars")),
                C("flagged", "拟退出", "Flagged for removal", attr("flagged_for_removal")),
            ),
            ("organization",),
        ),
    )
}
ALL = "all"


def tables_for(name: str) -> list[Table]:
    """The tables an export names ("all": every one), or ValueError for an unknown name."""
    if name == ALL:
        return list(TABLES.values())
    if name not in TABLES:
        raise ValueError(name)
    return [TABLES[name]]


async def begin(
    actor: User | None,
    name: str,
    fmt: str,
    options: Options,
    *,
    request: str | None = None,
    by: str | None = None,
) -> None:
    """Check who may export, and audit the export; `actor` None is the command line (`by`).

    `request` names the chat menu the export was asked from: one menu gives one file, so a
    double press (or two at once) exports once. The admin's row is the lock, as in
    models/privacy.py; the audit row is the record that the menu was used.
    """
    action = "export.full" if options.full else "export.masked"
    async with in_transaction():
        if actor is not None:
            permissions.require(action, actor)
            await User.select_for_update().get(id=actor.id)
            used = AuditLog.filter(actor_id=actor.id, subject_type="export", subject_id=request)
            if request is not None and await used.exists():
                raise NotAllowed("export.already")
        await audit.record(
            actor.id if actor is not None else None,
            action,
            "export",
            request or name,
            after={"table": name, "format": fmt, "lang": options.lang, "by": by},
        )


async def batches(
    table: Table, options: Options, *, size: int = BATCH
) -> AsyncIterator[list[list[Cell]]]:
    """The table's rows as cells, `size` rows at a time, in id order (keyset pagination)."""
    last: Any = None
    while True:
        query = table.model.all() if last is None else table.model.filter(id__gt=last)
        if table.related:
            query = query.select_related(*table.related)
        rows = await query.order_by("id").limit(size)
        if not rows:
            return
        yield [[column.value(row, options) for column in table.columns] for row in rows]
        if len(rows) < size:
            return
        last = rows[-1].pk
