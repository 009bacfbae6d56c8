"""The JSON API under test: the production web app on a real local port, and tokens issued
through the domain exactly as /apitoken issues them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.web import create_web_app
from models import api_tokens
from models.api_entities import ApiScope
from models.entities import InstitutionTier, Organization, Role, User
from models.evaluation_entities import Evaluation, EvaluationRun, Grade, RunStatus
from tests.conftest import ADMIN_ID, make_staff


@asynccontextmanager
async def api_client(database: str) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    """A client of the web app (its /api/v1 included) on the test database."""
    settings = Settings(_env_file=None, database_url=database)  # type: ignore[call-arg]
    async with TestClient(TestServer(create_web_app(settings))) as client:
        yield client


async def admin() -> User:
    """The platform admin who issues tokens."""
    return await make_staff(ADMIN_ID, Role.ADMIN, "周管理")


async def bearer(scope: ApiScope = ApiScope.READ, name: str = "省平台") -> dict[str, str]:
    """Headers carrying a freshly issued token of this scope."""
    issued = await api_tokens.issue(await admin(), name, scope)
    return {"Authorization": f"Bearer {issued.secret}"}


async def evaluated(
    org: Organization, year: int, grade: Grade, status: RunStatus, score: str = "80.00"
) -> Evaluation:
    """The organisation's result in the evaluation of a year, its run in this status."""
    run, _ = await EvaluationRun.get_or_create(
        year=year,
        defaults={"status": status, "scheme": "jiangsu", "computed_at": datetime.now(UTC)},
    )
    return await Evaluation.create(
        run=run,
        year=year,
        organization=org,
        indicators={"volume": {"value": 3, "score": 80}},
        score=Decimal(score),
        rank=1,
        grade=grade,
        stars=4,
    )


async def institution_org(user: User) -> Organization:
    """The organisation of an institution user."""
    org = await Organization.get(id=user.organization_id)
    assert org.tier in tuple(InstitutionTier)
    return org
