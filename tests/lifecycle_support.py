"""Shared set-up of the state-machine tests: a cast of people and demands in any status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from models import engagements, market, review
from models.demand_entities import (
    Demand,
    DemandStatus,
    Engagement,
    Intent,
)
from models.entities import (
    AuditLog,
    InstitutionTier,
    Review,
    Role,
    User,
)
from tests.conftest import ADMIN_ID, make_staff
from tests.demand_support import (
    PLATFORM,
    TODAY,
    contracted_demand,
    make_member,
    matched_demand,
    published_demand,
    submitted_demand,
)

S = DemandStatus
# DESIGN §2 and the lifecycle docstring, written out independently of lifecycle.TRANSITIONS.
LEGAL = {
    (S.SUBMITTED, S.PUBLISHED), (S.SUBMITTED, S.REJECTED), (S.SUBMITTED, S.WITHDRAWN),
    (S.REJECTED, S.SUBMITTED), (S.REJECTED, S.WITHDRAWN),
    (S.PUBLISHED, S.MATCHED), (S.PUBLISHED, S.EXPIRED), (S.PUBLISHED, S.WITHDRAWN),
    (S.MATCHED, S.CONTRACTED), (S.MATCHED, S.WITHDRAWN),
    (S.CONTRACTED, S.DELIVERED), (S.CONTRACTED, S.MATCHED),
    (S.DELIVERED, S.COMPLETED), (S.DELIVERED, S.DISPUTED),
    (S.DISPUTED, S.COMPLETED), (S.DISPUTED, S.CONTRACTED),
}  # fmt: skip
PAIRS = [(a, b) for a in S for b in S]
OPEN = (S.SUBMITTED, S.REJECTED, S.PUBLISHED, S.MATCHED)
SCORES = {"overall": 5, "quality": 4, "timeliness": 4, "professionalism": 5}
PROPOSAL = "我们有傅里叶红外光谱仪，三天出报告。"


@dataclass
class Cast:
    owner: User  # member of the enterprise that owns the demands
    reviewer: User
    inst: User  # an institution of the voucher tier (it may accept innovation vouchers)
    rival: User  # another institution, of the service tier
    stranger: User  # member of another enterprise
    admin: User


async def cast() -> Cast:
    """The people of a lifecycle, all active."""
    return Cast(
        owner=await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司"),
        reviewer=await make_staff(201, Role.REVIEWER, "李审核"),
        inst=await make_member(
            301, "张工", Role.INSTITUTION, "南通检测中心", tier=InstitutionTier.VOUCHER
        ),
        rival=await make_member(302, "赵工", Role.INSTITUTION, "苏州技术转移中心"),
        stranger=await make_member(401, "陈总", Role.ENTERPRISE, "海安纺织有限公司"),
        admin=await make_staff(ADMIN_ID, Role.ADMIN, "周管理"),
    )


async def status_of(demand: Demand) -> DemandStatus:
    return (await Demand.get(id=demand.id)).status


async def audited(demand: Demand, target: DemandStatus | str) -> list[AuditLog]:
    """The audit rows `demand.<target>` of this demand, oldest first."""
    return await AuditLog.filter(
        subject_type="demand", subject_id=str(demand.id), action=f"demand.{target}"
    ).order_by("id")


async def offer(demand: Demand, user: User) -> Intent:
    await market.offer(demand.id, user, PROPOSAL, None)
    return await Intent.get(demand_id=demand.id, institution_id=user.organization_id)


async def pending_review(demand: Demand, subject: str = "demand") -> Review:
    subject_id = demand.id
    if subject == engagements.CONTRACT_SUBJECT:
        subject_id = (await Engagement.get(demand_id=demand.id)).id
    return await Review.get(subject_type=subject, subject_id=subject_id, status="pending")


async def reject(demand: Demand, reviewer: User) -> Demand:
    waiting = await pending_review(demand)
    await review.decide(
        waiting.id, reviewer.id, approve=False, reason="描述不完整", platform=PLATFORM
    )
    return await Demand.get(id=demand.id)


async def file_contract(demand: Demand, user: User, signed_on: date = TODAY) -> None:
    await engagements.file_contract(
        demand.id,
        user,
        file_id="contract-file",
        sha256="a" * 64,
        amount=Decimal("30000"),
        signed_on=signed_on,
        voucher=True,
        platform=PLATFORM,
    )


async def acknowledge(demand: Demand, reviewer: User) -> None:
    """A reviewer acknowledges the pending contract filing of the demand."""
    waiting = await pending_review(demand, engagements.CONTRACT_SUBJECT)
    await review.decide(waiting.id, reviewer.id, approve=True, reason=None, platform=PLATFORM)


async def in_status(c: Cast, status: DemandStatus) -> Demand:
    """A demand brought to `status` through the real domain functions."""
    if status in (S.SUBMITTED, S.REJECTED, S.WITHDRAWN):
        demand = await submitted_demand(c.owner)
        if status is S.REJECTED:
            await reject(demand, c.reviewer)
        elif status is S.WITHDRAWN:
            await market.withdraw(demand.id, c.owner)
    elif status in (S.PUBLISHED, S.EXPIRED):
        demand = await published_demand(c.owner, c.reviewer)
        if status is S.EXPIRED:
            await Demand.filter(id=demand.id).update(wanted_by=TODAY - timedelta(days=1))
            await market.expire_due(TODAY)
    elif status is S.MATCHED:
        demand = await matched_demand(c.owner, c.reviewer, c.inst)
    else:
        demand = await contracted_demand(c.owner, c.reviewer, c.inst)
        if status is not S.CONTRACTED:
            await acknowledge(demand, c.reviewer)
            await engagements.mark_delivered(demand.id, c.inst)
        if status is S.DISPUTED:
            await engagements.dispute(demand.id, c.owner, "报告缺少第三批样品")
        elif status is S.COMPLETED:
            await engagements.confirm_completion(demand.id, c.owner)
    demand = await Demand.get(id=demand.id)
    assert demand.status is status
    return demand
