"""Statistics for admins (issue #5 item 5): counts, funnel and median on a set of demands
whose numbers are worked out by hand below, and the chart as a real PNG.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from matplotlib import image

from handlers import stats_chart
from handlers.stats_chart import ChartText
from handlers.stats_views import chart_text
from locales.i18n import use_locale
from models import engagements, market, stats
from models.demand_entities import Demand, Intent
from models.errors import NotAllowed
from tests.demand_support import matched_demand, published_demand, submitted_demand
from tests.lifecycle_support import (
    PROPOSAL,
    SCORES,
    TODAY,
    Cast,
    acknowledge,
    cast,
    file_contract,
    reject,
)

ZONE = "Asia/Shanghai"
DAY = date(2026, 11, 15)  # the "today" of the statistics: three months shown, Sep-Nov 2026
PUBLISHED = datetime(2026, 11, 5, 1, 0, tzinfo=UTC)


async def _completed(c: Cast, *, rated: bool, **changes: str) -> Demand:
    demand = await matched_demand(c.owner, c.reviewer, c.inst)
    if changes:
        await Demand.filter(id=demand.id).update(**changes)
    await file_contract(demand, c.owner)
    await acknowledge(demand, c.reviewer)
    await engagements.mark_delivered(demand.id, c.inst)
    await engagements.confirm_completion(demand.id, c.owner)
    if rated:
        await engagements.give_feedback(demand.id, c.owner, SCORES, "solved", None)
    return demand


async def _first_offer_after(demand: Demand, hours: float) -> None:
    await Demand.filter(id=demand.id).update(published_at=PUBLISHED)
    first = await Intent.filter(demand_id=demand.id).order_by("id").first()
    assert first is not None
    await Intent.filter(id=first.id).update(created_at=PUBLISHED + timedelta(hours=hours))


async def seed() -> Cast:
    """Seven demands; the expected numbers are in the test that reads them."""
    c = await cast()
    d1 = await submitted_demand(c.owner)  # submitted, testing, chengnan
    d2 = await reject(await submitted_demand(c.owner), c.reviewer)  # rejected
    d3 = await published_demand(c.owner, c.reviewer, category="ip", township="jiuhua")
    await Demand.filter(id=d3.id).update(wanted_by=TODAY - timedelta(days=1))
    await market.expire_due(TODAY)  # published -> expired, no offer
    # d4: two offers, the rival's first at 5 h, ours at 1 h: the first offer is at 1 h.
    d4 = await published_demand(c.owner, c.reviewer, category="ip")
    await market.offer(d4.id, c.rival, PROPOSAL, None)
    await market.offer(d4.id, c.inst, PROPOSAL, None)
    ours = await Intent.get(demand_id=d4.id, institution_id=c.inst.organization_id)
    await market.accept(ours.id, c.owner)  # matched
    await Demand.filter(id=d4.id).update(published_at=PUBLISHED)
    await Intent.filter(demand_id=d4.id).update(created_at=PUBLISHED + timedelta(hours=5))
    await Intent.filter(id=ours.id).update(created_at=PUBLISHED + timedelta(hours=1))
    d5 = await _completed(c, rated=True)  # completed and rated
    await _first_offer_after(d5, 3)
    d6 = await _completed(c, rated=False, category="rnd_design", township="jiuhua")
    await _first_offer_after(d6, 10)
    d7 = await matched_demand(c.owner, c.reviewer, c.inst)
    await market.withdraw(d7.id, c.owner)  # matched, then withdrawn
    await _first_offer_after(d7, 2)
    # Months in Asia/Shanghai (UTC+8): d1 is before the window; 15:00 UTC on 31 October is
    # still October there, 17:00 UTC is already 1 November.
    created = {
        d1: datetime(2026, 8, 20, 3, 0, tzinfo=UTC),
        d2: datetime(2026, 10, 31, 17, 0, tzinfo=UTC),
        d3: datetime(2026, 10, 31, 15, 0, tzinfo=UTC),
    }
    for demand in (d4, d5, d6, d7):
        created[demand] = datetime(2026, 11, 5, 0, 0, tzinfo=UTC)
    for demand, moment in created.items():
        await Demand.filter(id=demand.id).update(created_at=moment)
    return c


async def test_counts_funnel_and_median_match_the_hand_count(database: str) -> None:
    c = await seed()
    data = await stats.collect(c.admin, timezone=ZONE, months=3, today=DAY)
    assert data.total == 7
    assert data.by_status == {
        "completed": 2,
        "expired": 1,
        "matched": 1,
        "rejected": 1,
        "submitted": 1,
        "withdrawn": 1,
    }
    assert data.by_township == {"chengnan": 5, "jiuhua": 2}
    assert data.by_category == {"testing": 4, "ip": 2, "rnd_design": 1}
    assert data.by_month == {"2026-09": 0, "2026-10": 1, "2026-11": 5}
    # d3..d7 were published; d4..d7 matched (d7 then withdrawn); d5, d6 completed; d5 rated.
    assert data.funnel == {
        "submitted": 7,
        "published": 5,
        "matched": 4,
        "completed": 2,
        "rated": 1,
    }
    # First offers after 1, 3, 10 and 2 hours: the median is 2.5 hours, over four demands.
    assert data.median_first_intent == timedelta(hours=2, minutes=30)
    assert data.measured == 4


async def test_an_empty_platform_has_zeros_and_no_median(database: str) -> None:
    c = await cast()
    data = await stats.collect(c.admin, timezone=ZONE, months=2, today=DAY)
    assert data.total == 0
    assert data.by_status == {} and data.by_month == {"2026-10": 0, "2026-11": 0}
    assert set(data.funnel.values()) == {0}
    assert data.median_first_intent is None and data.measured == 0


async def test_only_admins_see_statistics(database: str) -> None:
    c = await cast()
    for someone in (c.owner, c.reviewer, c.inst):
        with pytest.raises(NotAllowed) as refused:
            await stats.collect(someone, timezone=ZONE, months=3, today=DAY)
        assert refused.value.message_id == "stats.admin_only"


def test_months_are_cut_at_local_midnight_across_a_year_end() -> None:
    bounds = stats.month_starts(stats.ZoneInfo(ZONE), 2, date(2026, 1, 10))
    assert bounds == [
        datetime(2025, 11, 30, 16, 0, tzinfo=UTC),
        datetime(2025, 12, 31, 16, 0, tzinfo=UTC),
        datetime(2026, 1, 31, 16, 0, tzinfo=UTC),
    ]


def _decoded(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = image.imread(io.BytesIO(png), format="png")
    return pixels.shape[1], pixels.shape[0]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_the_chart_is_a_png_of_the_expected_size(locale: str) -> None:
    months = {"2026-09": 0, "2026-10": 3, "2026-11": 12}
    funnel = {"submitted": 12, "published": 9, "matched": 4, "completed": 2, "rated": 1}
    with use_locale(locale):
        text = chart_text()
    with use_locale("en"):
        fallback = chart_text()
    # filterwarnings=error: a Chinese label drawn without a CJK font ("Glyph missing") fails.
    png = await stats_chart.render(months, funnel, text, fallback)
    assert _decoded(png) == (1000, 420)


async def test_the_chart_draws_an_empty_platform() -> None:
    text = ChartText("Demands", "Funnel", ("a", "b", "c", "d", "e"))
    zeros = dict.fromkeys(("submitted", "published", "matched", "completed", "rated"), 0)
    png = await stats_chart.render({"2026-11": 0}, zeros, text, text)
    assert _decoded(png) == (1000, 420)


async def test_without_a_cjk_font_the_chart_is_drawn_in_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on a machine without fonts-wqy-microhei: Chinese would be empty boxes (and a
    # "Glyph missing" warning, an error here), so the English words are drawn instead.
    monkeypatch.setattr(stats_chart, "CJK_FONTS", ())
    stats_chart.cjk_font.cache_clear()
    try:
        with use_locale("zh_CN"):
            text = chart_text()
        with use_locale("en"):
            fallback = chart_text()
        months = {"2026-11": 2}
        funnel = {"submitted": 2, "published": 1, "matched": 1, "completed": 0, "rated": 0}
        png = await stats_chart.render(months, funnel, text, fallback)
        assert _decoded(png) == (1000, 420)
    finally:
        stats_chart.cjk_font.cache_clear()
