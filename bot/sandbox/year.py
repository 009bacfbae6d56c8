"""The sandbox's past year, so an admin persona can run the platform's year (issue #5):
institutions of every tier, last year's served demands with contracts and feedback (what the
annual evaluation reads), an upheld complaint, and the evaluation of the year before that,
published, in which one institution was not qualified (a second fail flags it for removal).

The records are written as they would stand after the chat flows, back-dated; nobody is
notified. The institutions' representatives have never opened the bot (unreachable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from models.credit_code import check_character
from models.demand_entities import (
    Complaint,
    ComplaintStatus,
    Demand,
    DemandStatus,
    Engagement,
    Feedback,
    Intent,
    IntentStatus,
    Outcome,
)
from models.entities import (
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Role,
    User,
    UserStatus,
)
from models.evaluation_entities import Evaluation, EvaluationRun, Grade, RunStatus
from models.reminder_entities import Report, ReportKind

T = InstitutionTier
FIRST_REP_ID = 9210


@dataclass(frozen=True)
class Past:
    """One seeded institution and how it served last year."""

    name: str
    code17: str  # the first 17 characters of its credit code
    tier: InstitutionTier
    served: int  # completed engagements last year
    response_hours: int  # publish -> its offer
    late_filings: int  # contracts filed after the month (Keqiao 1(4))
    rating: int  # the feedback's overall score, 1-5
    grade_before: Grade  # its published grade the year before


PAST = (
    Past("如皋市工业设计服务中心", "12320682MB0000002", T.SERVICE, 9, 6, 0, 5, Grade.EXCELLENT),
    Past("南通创新券检测服务有限公司", "91320682MA1N00003", T.VOUCHER, 7, 12, 0, 5, Grade.GOOD),
    Past("如皋市知识产权服务中心", "12320682MB0000004", T.SERVICE, 5, 10, 0, 5, Grade.ORDINARY),
    Past("江海技术转移中心", "12320682MB0000005", T.VOUCHER, 4, 16, 0, 5, Grade.ORDINARY),
    Past("如皋市计量测试所", "12320682MB0000006", T.SERVICE, 3, 30, 1, 4, Grade.ORDINARY),
    Past("长江科技咨询有限公司", "91320682MA1N00007", T.SERVICE, 2, 72, 2, 3, Grade.ORDINARY),
    Past(
        "如皋市材料分析实验室", "12320682MB0000008", T.CULTIVATING, 1, 120, 1, 2, Grade.UNQUALIFIED
    ),
)


def _at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


async def _backdate(model: type, row_id: int, when: datetime) -> None:
    await model.filter(id=row_id).update(created_at=when)  # type: ignore[attr-defined]


# The persona institution (赵检测's) served too: it is told its own result when published.
# It was evaluated the year before as well, third of eight (its stars show in the catalogue).
PERSONA = Past("", "", T.VOUCHER, 6, 8, 0, 5, Grade.ORDINARY)
PERSONA_RANK = 3


async def seed_year(
    today: date,
    enterprise: Organization,
    owner: User,
    persona: tuple[Organization, User],
    categories: list[str],
) -> None:
    """Last year's service and the evaluation of the year before (see the module docstring)."""
    last, before = today.year - 1, today.year - 2
    run = await EvaluationRun.create(
        year=before,
        status=RunStatus.PUBLISHED,
        scheme="shanghai",
        weights={},
        computed_at=_at(before + 1, 1, 15),
        notice_ends_on=date(before + 1, 1, 25),
        published_at=_at(before + 1, 1, 26),
    )
    for rank, past in enumerate(PAST, start=1):
        org = await Organization.create(
            name=past.name,
            kind=OrgKind.INSTITUTION,
            credit_code=past.code17 + check_character(past.code17),
            township="chengnan",
            service_fields=categories,
            tier=past.tier,
            status=OrgStatus.ACTIVE,
        )
        await _backdate(Organization, org.id, _at(before - 1, 3, 1))  # registered years ago
        rep = await User.create(
            id=FIRST_REP_ID + rank,
            first_name=past.name[:2] + "联络员",
            real_name=past.name[:2] + "联络员",
            language_code="zh-CN",
            role=Role.INSTITUTION,
            status=UserStatus.ACTIVE,
            organization_id=org.id,
            reachable=False,
        )
        await Evaluation.create(
            run_id=run.id,
            year=before,
            organization_id=org.id,
            indicators={},
            score=Decimal(95 - rank * 8),
            rank=rank + (rank >= PERSONA_RANK),
            grade=past.grade_before,
            stars=max(1, 5 - (rank + (rank >= PERSONA_RANK)) // 2),
        )
        for n in range(past.served):
            await _served(last, n, past, org, rep, enterprise, owner, categories)
        if past.late_filings >= 2:
            complaint = await Complaint.create(
                complainant_id=owner.id,
                institution_id=org.id,
                text="合同约定的检测报告逾期两个月未交付，多次催促无回复。",
                status=ComplaintStatus.UPHELD,
                decided_at=_at(last, 9, 1),
            )
            await _backdate(Complaint, complaint.id, _at(last, 8, 20))
    org, rep = persona
    await _backdate(Organization, org.id, _at(before - 1, 3, 1))
    await Evaluation.create(
        run_id=run.id,
        year=before,
        organization_id=org.id,
        indicators={},
        score=Decimal(75),  # between the 2nd's 79 and the next one's 71
        rank=PERSONA_RANK,
        grade=PERSONA.grade_before,
        stars=max(1, 5 - PERSONA_RANK // 2),
    )
    for n in range(PERSONA.served):
        await _served(last, n, PERSONA, org, rep, enterprise, owner, categories)


async def _served(
    year: int,
    n: int,
    past: Past,
    org: Organization,
    rep: User,
    enterprise: Organization,
    owner: User,
    categories: list[str],
) -> None:
    """One demand of last year, served by this institution from offer to feedback."""
    published = _at(year, 1 + (n * 5 + len(past.name)) % 11, 3 + n)
    name = past.name or (org.name)
    demand = await Demand.create(
        owner_id=enterprise.id,
        submitted_by_id=owner.id,
        title=f"{name[:4]}服务项目{n + 1}",
        category=categories[n % len(categories)],
        description="往年服务记录（沙盒演示数据）。",
        budget="under_50k",
        wanted_by=(published + timedelta(days=90)).date(),
        township="chengnan",
        status=DemandStatus.COMPLETED,
        matched_institution_id=org.id,
        published_at=published,
    )
    await _backdate(Demand, demand.id, published - timedelta(days=1))
    intent = await Intent.create(
        demand_id=demand.id,
        institution_id=org.id,
        user_id=rep.id,
        proposal="可承接，两周内完成。",
        quote=Decimal("30000"),
        status=IntentStatus.ACCEPTED,
    )
    await _backdate(Intent, intent.id, published + timedelta(hours=past.response_hours))
    signed = (published + timedelta(days=5)).date()
    late = n < past.late_filings
    engagement = await Engagement.create(
        demand_id=demand.id,
        institution_id=org.id,
        contract_file_id=f"sandbox-contract-{demand.id}",
        contract_sha256="0" * 64,
        contract_kind="document",
        amount=Decimal("30000"),
        signed_on=signed,
        filing_due=signed + timedelta(days=30),
        filed_by_id=rep.id,
        filed_at=published + timedelta(days=50 if late else 10),
        delivered_at=published + timedelta(days=40),
        completed_at=published + timedelta(days=45),
    )
    await _backdate(Engagement, engagement.id, published + timedelta(days=5))
    # The filing report of Keqiao 1(4), due a month after signing: what "credit" counts.
    report = await Report.create(
        kind=ReportKind.FILING,
        organization_id=org.id,
        period=str(engagement.id),
        file_id=f"sandbox-filing-{engagement.id}",
        file_name="备案报告.pdf",
        sha256="0" * 64,
        submitted_by_id=rep.id,
    )
    filed = published + timedelta(days=50 if late else 12)
    await Report.filter(id=report.id).update(submitted_at=filed)
    feedback = await Feedback.create(
        engagement_id=engagement.id,
        user_id=owner.id,
        overall=past.rating,
        quality=past.rating,
        timeliness=max(1, past.rating - (1 if late else 0)),
        professionalism=past.rating,
        outcome=Outcome.SOLVED if past.rating >= 4 else Outcome.PARTLY,
    )
    await _backdate(Feedback, feedback.id, published + timedelta(days=46))
