"""Test data for the demand lifecycle: people with organisations, demands in a given state.

Made through the ORM and the domain functions (never mocks): a published demand here went
through submit and a real review decision, exactly as the chat would make it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import load_platform
from models import demands, engagements, market, review
from models.demand_entities import Demand
from models.entities import (
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Review,
    ReviewCard,
    Role,
    User,
    UserStatus,
)
from models.platform import PlatformConfig
from tests.factories import credit_code

PLATFORM: PlatformConfig = load_platform(None)
# The platform's today (Asia/Shanghai by default), as the handlers compute it.
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def make_member(
    user_id: int,
    name: str,
    role: Role,
    org_name: str,
    *,
    township: str | None = "chengnan",
    service_fields: list[str] | None = None,
    tier: InstitutionTier | None = None,
    language_code: str = "zh-CN",
    org: Organization | None = None,
) -> User:
    """An active user of an active organisation (enterprise, institution or research team)."""
    kind = {Role.ENTERPRISE: OrgKind.ENTERPRISE, Role.INSTITUTION: OrgKind.INSTITUTION}.get(
        role, OrgKind.RESEARCH
    )
    if org is None:
        org = await Organization.create(
            name=org_name,
            kind=kind,
            credit_code=credit_code(f"9132068{user_id:09d}"),
            township=township,
            service_fields=service_fields or [],
            tier=tier or (InstitutionTier.SERVICE if kind is OrgKind.INSTITUTION else None),
            status=OrgStatus.ACTIVE,
        )
    return await User.create(
        id=user_id,
        first_name=name,
        real_name=name,
        phone=f"+86138{user_id:08d}",
        role=role,
        status=UserStatus.ACTIVE,
        organization=org,
        township=township if role is Role.ENTERPRISE else None,
        language_code=language_code,
        reachable=True,
    )


async def make_assistant(user_id: int, name: str, township: str = "chengnan") -> User:
    """An active township science assistant (as an invite would leave them)."""
    return await User.create(
        id=user_id,
        first_name=name,
        real_name=name,
        role=Role.ASSISTANT,
        status=UserStatus.ACTIVE,
        township=township,
        language_code="zh-CN",
        reachable=True,
    )


def draft(**changes: Any) -> dict[str, Any]:
    """A complete, valid demand draft as the submission flow stores it."""
    values: dict[str, Any] = {
        "title": "红外光谱检测",
        "category": "testing",
        "description": "需要对三批高分子材料样品做红外光谱分析，出具检测报告。",
        "budget": "under_50k",
        "wanted_by": (TODAY + timedelta(days=30)).isoformat(),
        "attachments": [],
        "attachments_done": True,
        "township": "chengnan",
    }
    values.update(changes)
    return values


async def submitted_demand(owner: User, **changes: Any) -> Demand:
    """A demand submitted by `owner` and waiting for review."""
    outcome = await demands.submit(owner, draft(**changes), PLATFORM, TODAY)
    return outcome.demand


async def approve_demand(demand: Demand, reviewer: User) -> Demand:
    """Decide the demand's waiting review as `reviewer` would, checklist ticked."""
    waiting = await Review.get(subject_type="demand", subject_id=demand.id, status="pending")
    await ReviewCard.update_or_create(
        review_id=waiting.id,
        reviewer_id=reviewer.id,
        defaults={"message_id": 1, "checklist": list(review.CHECKLIST)},
    )
    await review.decide(waiting.id, reviewer.id, approve=True, reason=None, platform=PLATFORM)
    return await Demand.get(id=demand.id)


async def published_demand(owner: User, reviewer: User, **changes: Any) -> Demand:
    """A demand that passed review and is on the market."""
    return await approve_demand(await submitted_demand(owner, **changes), reviewer)


async def matched_demand(owner: User, reviewer: User, institution_user: User) -> Demand:
    """A published demand whose owner accepted `institution_user`'s offer."""
    demand = await published_demand(owner, reviewer)
    await market.offer(demand.id, institution_user, "我们有傅里叶红外光谱仪，三天出报告。", None)
    intent = await demand.intents.all().first()
    assert intent is not None
    await market.accept(intent.id, owner)
    return await Demand.get(id=demand.id)


async def contracted_demand(owner: User, reviewer: User, institution_user: User) -> Demand:
    """A matched demand with its contract filed by the owner."""
    demand = await matched_demand(owner, reviewer, institution_user)
    await engagements.file_contract(
        demand.id,
        owner,
        file_id="contract-file",
        sha256="0" * 64,
        amount=Decimal("30000"),
        signed_on=TODAY,
        voucher=False,
        platform=PLATFORM,
    )
    return await Demand.get(id=demand.id)
