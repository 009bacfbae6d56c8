"""A seeded evaluation year: institutions with services, offers, filings, feedback and
complaints at chosen moments of last year (the platform's zone), and the numbers a person
computes by hand from them (tests/test_evaluation.py spells the arithmetic out).

Records are made through the ORM with their timestamps set afterwards: the domain stamps
"now", and an evaluation is about a finished year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from models.demand_entities import (
    Complaint,
    ComplaintStatus,
    Demand,
    DemandStatus,
    Engagement,
    Feedback,
    Intent,
    Outcome,
)
from models.entities import Organization, OrgStatus, Role, User
from models.evaluation_entities import Evaluation, EvaluationRun, Grade, RunStatus
from models.listing_entities import Booking, Listing, ListingKind, ListingStatus, RequestStatus
from models.reminder_entities import Report, ReportKind
from tests.demand_support import TODAY, make_member

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = TODAY.year - 1
G = Grade


def utc(moment: datetime) -> datetime:
    """For QuerySet.update: on SQLite it stores the offset as given, and times compare as
    text, so every stored time must be UTC as Tortoise itself writes it."""
    return moment.astimezone(UTC)


def at(month: int, day: int, hour: int = 10, year: int = YEAR) -> datetime:
    """A local moment of the seeded year."""
    return datetime(year, month, day, hour, tzinfo=ZONE)


class Seeder:
    """Makes the records of one year for institutions, owned by one enterprise."""

    def __init__(self, owner: User) -> None:
        self.owner = owner

    async def _demand(self, status: DemandStatus, published: datetime) -> Demand:
        return await Demand.create(
            owner_id=self.owner.organization_id,
            submitted_by=self.owner,
            title="红外光谱检测",
            category="testing",
            description="需要对三批高分子材料样品做红外光谱分析。",
            budget="under_50k",
            wanted_by=date(YEAR, 12, 31),
            township="chengnan",
            status=status,
            published_at=published,
        )

    async def served(
        self,
        rep: User,
        completed: datetime,
        *,
        marks: tuple[int, int, int, int] | None = None,
        filing_due: date | None = None,
        reported: datetime | None = None,
        status: DemandStatus = DemandStatus.COMPLETED,
    ) -> Engagement:
        """A service completed at `completed`, with feedback and a filing report if given."""
        demand = await self._demand(status, completed - timedelta(days=60))
        engagement = await Engagement.create(
            demand=demand,
            institution_id=rep.organization_id,
            completed_at=completed if status is DemandStatus.COMPLETED else None,
            filing_due=filing_due,
        )
        if marks is not None:
            overall, quality, timeliness, professionalism = marks
            rating = await Feedback.create(
                engagement=engagement,
                user_id=self.owner.id,
                overall=overall,
                quality=quality,
                timeliness=timeliness,
                professionalism=professionalism,
                outcome=Outcome.SOLVED,
            )
            await Feedback.filter(id=rating.id).update(
                created_at=utc(completed + timedelta(days=1))
            )
        if reported is not None:
            report = await Report.create(
                kind=ReportKind.FILING,
                organization_id=rep.organization_id,
                period=str(engagement.id),
                file_id="filing-report",
                sha256="0" * 64,
                submitted_by=rep,
            )
            await Report.filter(id=report.id).update(submitted_at=utc(reported))
        return engagement

    async def filing(self, rep: User, due: date, reported: datetime | None) -> None:
        """A contract whose filing report fell due in the year (the service still running)."""
        await self.served(
            rep, at(6, 1), filing_due=due, reported=reported, status=DemandStatus.CONTRACTED
        )

    async def offered(self, rep: User, published: datetime, hours: int) -> None:
        """An offer made `hours` after the demand was published."""
        demand = await self._demand(DemandStatus.PUBLISHED, published)
        intent = await Intent.create(
            demand=demand, institution_id=rep.organization_id, user=rep, proposal="可以承接。"
        )
        await Intent.filter(id=intent.id).update(
            created_at=utc(published + timedelta(hours=hours))
        )

    async def booking(self, rep: User, asked: datetime, status: RequestStatus) -> None:
        """A booking of the institution's instrument asked at `asked`, answered `status`."""
        instrument = await Listing.filter(owner_id=rep.organization_id).first()
        if instrument is None:
            instrument = await Listing.create(
                kind=ListingKind.INSTRUMENT, owner_id=rep.organization_id, title="盐雾试验箱",
                category="testing", status=ListingStatus.PUBLISHED,
            )  # fmt: skip
        row = await Booking.create(
            listing=instrument, user=self.owner, organization_id=self.owner.organization_id,
            mode="sample", starts_at=asked + timedelta(days=7),
            ends_at=asked + timedelta(days=7, hours=2), purpose="盐雾试验", status=status,
            reason="设备检修" if status is RequestStatus.DECLINED else None,
        )  # fmt: skip
        await Booking.filter(id=row.id).update(created_at=utc(asked))

    async def complaint(self, rep: User, made: datetime, status: ComplaintStatus) -> None:
        item = await Complaint.create(
            complainant=self.owner, institution_id=rep.organization_id, text="报告延误。"
        )
        await Complaint.filter(id=item.id).update(status=status, created_at=utc(made))


async def institution(user_id: int, name: str, *, lang: str = "zh-CN") -> User:
    """A representative of an institution registered before the seeded year."""
    rep = await make_member(user_id, f"代表{user_id}", Role.INSTITUTION, name, language_code=lang)
    await Organization.filter(id=rep.organization_id).update(created_at=utc(at(1, 1, 0, YEAR - 1)))
    return rep


async def seed_year() -> dict[str, User]:
    """Five evaluated institutions and the records that must be left out.

    A 甲检测中心: 4 services; offers after 12 h and 36 h; 2 filings on time; feedback
      5555 and 5445.
    E 戊咨询: 4 services; an offer after 30 h; 1 filing on time; 1 upheld complaint;
      feedback 4444; 2 bookings of its instrument, 1 declined (+1 declined the year before).
    B 乙技术转移: 3 services (+1 the year before, +1 at 00:30 on New Year's Day local time);
      an offer after 48 h; 2 filings, one late; a dismissed complaint; feedback 4444, 5554.
    D 丁孵化器: 1 service; offers after 24, 72 and 120 h; a filing never reported;
      1 upheld complaint; feedback 3333.
    C 丙知识产权: only an offer after 200 h.
    Left out: a revoked institution, a research team, an institution registered this year.
    """
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    seed = Seeder(owner)
    a = await institution(301, "甲检测中心")
    e = await institution(302, "戊咨询")
    b = await institution(303, "乙技术转移", lang="en")
    d = await institution(304, "丁孵化器")
    c = await institution(305, "丙知识产权")
    await seed.served(a, at(3, 1), marks=(5, 5, 5, 5), filing_due=date(YEAR, 2, 1),
                      reported=at(1, 30))  # fmt: skip
    await seed.served(
        a, at(4, 1), marks=(5, 4, 4, 5), filing_due=date(YEAR, 3, 1), reported=at(3, 1, 23)
    )  # fmt: skip  (the last evening is on time)
    await seed.served(a, at(5, 1))
    await seed.served(a, at(12, 31, 23))
    await seed.offered(a, at(2, 1), 12)
    await seed.offered(a, at(2, 2), 36)
    await seed.complaint(a, at(6, 1), ComplaintStatus.DISMISSED)
    for month in (2, 3, 4):
        await seed.served(e, at(month, 10))
    await seed.served(e, at(5, 10), marks=(4, 4, 4, 4), filing_due=date(YEAR, 6, 1),
                      reported=at(5, 20))  # fmt: skip
    await seed.offered(e, at(3, 3), 30)
    await seed.complaint(e, at(7, 1), ComplaintStatus.UPHELD)
    await seed.booking(e, at(8, 1), RequestStatus.DECLINED)
    await seed.booking(e, at(8, 2), RequestStatus.ACCEPTED)
    await seed.booking(e, at(12, 20, year=YEAR - 1), RequestStatus.DECLINED)
    await seed.served(b, at(6, 1), marks=(4, 4, 4, 4), filing_due=date(YEAR, 7, 1),
                      reported=at(6, 30))  # fmt: skip
    await seed.served(
        b, at(7, 1), marks=(5, 5, 5, 4), filing_due=date(YEAR, 8, 1), reported=at(8, 2)
    )  # fmt: skip  (a day late)
    await seed.served(b, at(8, 1))
    await seed.served(b, at(12, 1, year=YEAR - 1), marks=(1, 1, 1, 1))
    await seed.served(b, datetime(YEAR + 1, 1, 1, 0, 30, tzinfo=ZONE), marks=(1, 1, 1, 1))
    await seed.offered(b, at(9, 1), 48)
    await seed.complaint(b, at(9, 2), ComplaintStatus.DISMISSED)
    await seed.served(d, at(10, 1), marks=(3, 3, 3, 3))
    for hours in (24, 72, 120):
        await seed.offered(d, at(10, 2), hours)
    await seed.filing(d, date(YEAR, 11, 1), None)
    await seed.complaint(d, at(11, 2), ComplaintStatus.UPHELD)
    await seed.offered(c, at(11, 1), 200)
    revoked = await institution(306, "已取消资格机构")
    await Organization.filter(id=revoked.organization_id).update(status=OrgStatus.REVOKED)
    await seed.served(revoked, at(5, 5), marks=(5, 5, 5, 5))
    team = await make_member(307, "陈教授", Role.RESEARCH, "南通大学材料课题组")
    await seed.served(team, at(5, 6), marks=(5, 5, 5, 5))
    newcomer = await make_member(308, "新机构", Role.INSTITUTION, "新注册机构")
    await seed.offered(newcomer, at(12, 1), 1)  # registered now: not part of last year
    return {"A": a, "E": e, "B": b, "D": d, "C": c, "owner": owner}


async def published_run(year: int, grades: dict[User, Grade]) -> EvaluationRun:
    """A published run of an earlier year with the given grades."""
    run = await EvaluationRun.create(
        year=year,
        scheme="jiangsu",
        status=RunStatus.PUBLISHED,
        computed_at=at(1, 20, year=year + 1),
        published_at=at(2, 1, year=year + 1),
    )
    for rank, (rep, grade) in enumerate(grades.items(), start=1):
        await Evaluation.create(
            run=run, year=year, organization_id=rep.organization_id, score=Decimal(50),
            rank=rank, grade=grade, stars=1,
        )  # fmt: skip
    return run
