"""The sandbox's calendar (bot/sandbox/clock.py): bad input is refused clearly; a skip runs
the real daily jobs as of that day, so a tier notice ends as it would a week later."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.config import load_settings
from bot.sandbox.clock import add_clock_routes
from bot.web import BOT_READY, create_web_app
from models import tiers
from models.entities import InstitutionTier, Organization, Role
from models.institution_entities import PromotionStatus, TierPromotion
from tests.conftest import ADMIN_ID, TOKEN, Harness, make_staff
from tests.demand_support import make_member
from tests.reminder_support import started


def _web_app() -> object:
    app = create_web_app(load_settings(bot_token=TOKEN, admin_ids=[ADMIN_ID]))
    add_clock_routes(app)
    return app


async def test_bad_days_are_refused_and_nothing_runs_before_the_bot() -> None:
    app = _web_app()
    async with TestClient(TestServer(app)) as client:  # type: ignore[arg-type]
        for body in ({"days": 0}, {"days": 61}, {"days": "8"}, {"days": True}, [8], {}):
            response = await client.post("/sandbox/clock", json=body)
            assert response.status == 400
            assert "1 to 60" in (await response.json())["error"]
        response = await client.post("/sandbox/clock", data=b"not json")
        assert response.status == 400
        response = await client.post("/sandbox/clock", json={"days": 8})
        assert response.status == 503  # no bot yet: nothing to run the jobs with


async def test_eight_days_later_a_promotion_without_objection_takes_effect(
    harness: Harness,
) -> None:
    admin = await make_staff(ADMIN_ID, Role.ADMIN, "周管理")
    rep = await make_member(
        301, "张工", Role.INSTITUTION, "南通检测中心", tier=InstitutionTier.SERVICE
    )
    assert rep.organization_id is not None
    zhang = await started(harness, rep)
    settings = load_settings(bot_token=TOKEN)
    today = datetime.now(settings.tz).date()
    await tiers.change_tier(
        admin, rep.organization_id, InstitutionTier.VOUCHER, today=today, notice_days=7
    )
    app = _web_app()
    app[BOT_READY]["application"] = harness.application  # type: ignore[index]
    async with TestClient(TestServer(app)) as client:  # type: ignore[arg-type]
        response = await client.post("/sandbox/clock", json={"days": 8})
        assert response.status == 200
        body = await response.json()
    assert body["changes"]["close_tier_notices"] == 1
    assert date.fromisoformat(body["date"]) >= today + timedelta(days=8)
    org = await Organization.get(id=rep.organization_id)
    assert org.tier is InstitutionTier.VOUCHER
    promotion = await TierPromotion.get(organization_id=org.id)
    assert promotion.status is PromotionStatus.EFFECTIVE
    assert "创新券" in zhang.last.text  # its representative is told, as after a real week
