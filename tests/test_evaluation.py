"""The annual evaluation (Jiangsu art. 26-30, Shanghai art. 22-23, Rugao art. 20, Keqiao
4(3)-(4)): scores, ranks, grades under both schemes, quotas, stars and the two-fails flag,
each checked against numbers computed by hand; then the run's steps and their refusals.
The chat, the results notice and the command line are in test_evaluation_chat.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import ConfigError, load_platform
from models import evaluation
from models.entities import AuditLog, Role, User
from models.errors import (
    AlreadyDecided,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from models.evaluation_config import EvaluationConfig, ShanghaiQuotas
from models.evaluation_entities import Evaluation, EvaluationRun, RunStatus
from models.evaluation_scoring import (
    Indicators,
    indicator_scores,
    jiangsu_grade,
    ranks,
    shanghai_grades,
    stars,
)
from models.events import EvaluationNoticeOpened, EvaluationPublished
from tests.conftest import ADMIN_ID, make_staff
from tests.demand_support import TODAY
from tests.evaluation_support import YEAR, ZONE, G, Seeder, at, published_run, seed_year

D = Decimal
JIANGSU = EvaluationConfig()
SHANGHAI = EvaluationConfig(scheme="shanghai")
QUOTAS = ShanghaiQuotas()
GD, OR, UQ = G.GOOD, G.ORDINARY, G.UNQUALIFIED

# --- pure scoring, no database ------------------------------------------------------------


def test_indicator_scores_at_their_edges() -> None:
    config = EvaluationConfig()  # fast 24 h, slow 168 h, 20 points per upheld complaint
    at_fast = indicator_scores(Indicators(volume=1, response_hours=D(24)), 4, config)
    assert at_fast == {"volume": D("25.00"), "response": D("100.00"), "credit": D("100.00"),
                       "rating": D("0.00")}  # fmt: skip
    # Halfway between 24 and 168 hours is 96: 50 points. At 168 hours or without offer: 0.
    assert indicator_scores(Indicators(response_hours=D(96)), 0, config)["response"] == 50
    assert indicator_scores(Indicators(response_hours=D(168)), 0, config)["response"] == 0
    assert indicator_scores(Indicators(), 0, config)["volume"] == 0
    # 1 of 3 filings on time is 33.33 points; two upheld complaints cannot go below 0.
    late = Indicators(filings_due=3, filings_on_time=1)
    assert indicator_scores(late, 0, config)["credit"] == D("33.33")
    penalised = Indicators(filings_due=3, filings_on_time=1, upheld_complaints=2)
    assert indicator_scores(penalised, 0, config)["credit"] == D("0.00")
    # A declined booking costs 5 points (Shenyang art. 10), even with a reason.
    refused = Indicators(bookings=4, refusals=3)
    assert indicator_scores(refused, 0, config)["credit"] == D("85.00")
    # Ratings: 1 -> 0, 5 -> 100, 4.375 -> 84.375, rounded half up.
    assert indicator_scores(Indicators(rating=D("4.375")), 0, config)["rating"] == D("84.38")
    assert indicator_scores(Indicators(rating=D(1)), 0, config)["rating"] == 0


def test_ties_share_the_better_rank() -> None:
    assert ranks([D(90), D(80), D(80), D(60)]) == [1, 2, 2, 4]


@pytest.mark.parametrize(
    ("score", "grade", "star_count"),
    [("90", G.EXCELLENT, 5), ("89.99", G.GOOD, 4), ("80", G.GOOD, 4), ("79.99", G.GOOD, 3),
     ("75", G.GOOD, 3), ("74.99", G.QUALIFIED, 3), ("70", G.QUALIFIED, 3),
     ("69.99", G.QUALIFIED, 2), ("60", G.QUALIFIED, 2), ("59.99", G.UNQUALIFIED, 1),
     ("0", G.UNQUALIFIED, 1)],
)  # fmt: skip
def test_jiangsu_grades_and_rugao_stars_at_each_threshold(
    score: str, grade: G, star_count: int
) -> None:
    assert jiangsu_grade(D(score), JIANGSU.jiangsu) is grade
    assert stars(D(score), JIANGSU.stars) == star_count


def _shanghai(*scores: int) -> list[G]:
    return shanghai_grades([D(s) for s in scores], QUOTAS)


def test_shanghai_quotas_with_seven_institutions() -> None:
    # 30 % of 7 is 2.1: at most 2 good (10 % of 7 rounds down to no excellent); the bottom
    # 10 % (0.7, rounded up) is the last one.
    assert _shanghai(95, 90, 85, 70, 60, 50, 40) == [GD, GD, OR, OR, OR, OR, UQ]
    # A tie across the 30 % line: the two at 90 would make 3 of 7, so neither is good.
    assert _shanghai(95, 90, 90, 70, 60, 50, 40) == [GD, OR, OR, OR, OR, OR, UQ]
    # A tie across the 10 % line: both at 40 are spared, nobody fails on a tie.
    assert _shanghai(95, 90, 85, 70, 60, 40, 40) == [GD, GD, OR, OR, OR, OR, OR]
    # Everybody equal: nobody is good, nobody fails.
    assert _shanghai(*[70] * 7) == [OR] * 7
    # Order of the input does not matter.
    assert _shanghai(40, 95, 60, 90, 50, 85, 70) == [UQ, GD, OR, GD, OR, OR, OR]


def test_shanghai_quotas_with_ten_and_twenty_institutions() -> None:
    ten = _shanghai(100, 99, 98, 97, 96, 95, 94, 93, 92, 91)
    assert ten == [G.EXCELLENT, G.GOOD, G.GOOD] + [G.ORDINARY] * 6 + [G.UNQUALIFIED]
    twenty = _shanghai(*range(100, 80, -1))
    assert twenty.count(G.EXCELLENT) == 2 and twenty.count(G.GOOD) == 4
    assert twenty[-2:] == [G.UNQUALIFIED] * 2 and twenty.count(G.ORDINARY) == 12


def test_weights_that_do_not_add_up_to_100_stop_the_start(tmp_path: Path) -> None:
    path = tmp_path / "platform.toml"
    path.write_text("[evaluation.weights]\nvolume = 30\nresponse = 20\ncredit = 20\nrating = 20\n")
    with pytest.raises(ConfigError) as refused:
        load_platform(path)
    assert "evaluation.weights" in str(refused.value) and "add up to 100, not 90" in str(
        refused.value
    )
    path.write_text('[evaluation]\nscheme = "beijing"\n')
    with pytest.raises(ConfigError, match="evaluation.scheme"):
        load_platform(path)
    path.write_text("[evaluation]\nstars = [90, 80, 85, 60]\n")
    with pytest.raises(ConfigError, match="stars"):
        load_platform(path)
    path.write_text('[evaluation]\nscheme = "shanghai"\n[evaluation.weights]\nvolume = 100\n'
                    "response = 0\ncredit = 0\nrating = 0\n")  # fmt: skip
    assert load_platform(path).evaluation.weights.volume == 100


# --- a seeded year -----------------------------------------------------------------------
#
# Indicator scores (volume against the busiest, 4 services; response linear from 24 h to
# 168 h; credit = filings on time in points - 20 per upheld complaint - 5 per declined
# booking; rating = (mean-1)×25):
#   A: 4 -> 100 | median(12, 36) = 24 h -> 100 | 2/2 -> 100 | (20+18)/8 = 4.75 -> 93.75
#      0.3×100 + 0.2×100 + 0.2×100 + 0.3×93.75 = 98.125 -> 98.13
#   E: 4 -> 100 | 30 h -> 138/144 = 95.83 | 1/1 - 20 - 5 -> 75 | 4 -> 75
#      30 + 0.2×95.83 + 15 + 22.5 = 86.666 -> 86.67
#   B: 3 -> 75 | 48 h -> 120/144 = 83.33 | 1/2 -> 50 | (16+19)/8 = 4.375 -> 84.38
#      22.5 + 16.666 + 10 + 25.314 = 74.48
#   D: 1 -> 25 | median(24, 72, 120) = 72 h -> 96/144 = 66.67 | 0/1 - 20 -> 0 | 3 -> 50
#      7.5 + 13.334 + 0 + 15 = 35.834 -> 35.83
#   C: 0 -> 0 | 200 h -> 0 | none due -> 100 | none -> 0:  20.00
EXPECTED = {  # score, rank, Jiangsu grade (90/75/60), stars (90/80/70/60), Shanghai grade
    "A": (D("98.13"), 1, G.EXCELLENT, 5, G.GOOD),  # 30 % of 5 = 1 good, 10 % of 5 = 0 excellent
    "E": (D("86.67"), 2, G.GOOD, 4, G.ORDINARY),
    "B": (D("74.48"), 3, G.QUALIFIED, 3, G.ORDINARY),
    "D": (D("35.83"), 4, G.UNQUALIFIED, 1, G.ORDINARY),
    "C": (D("20.00"), 5, G.UNQUALIFIED, 1, G.UNQUALIFIED),  # the bottom 10 %, rounded up
}


async def _admin() -> User:
    return await make_staff(ADMIN_ID, Role.ADMIN, "周管理")


@pytest.mark.parametrize("scheme", ["jiangsu", "shanghai"])
async def test_a_seeded_year_by_hand(database: str, scheme: str) -> None:
    people = await seed_year()
    # Last year B, C and D were not qualified; only a published run counts.
    await published_run(YEAR - 1, {people[k]: G.UNQUALIFIED for k in ("B", "C", "D")})
    admin = await _admin()
    config = SHANGHAI if scheme == "shanghai" else JIANGSU
    run = await evaluation.compute(admin, YEAR, config, ZONE)
    assert run.status is RunStatus.COMPUTED and run.reference == f"E{YEAR}"
    assert run.weights == {"volume": 30, "response": 20, "credit": 20, "rating": 30}
    results = {r.organization_id: r for r in await Evaluation.filter(run_id=run.id)}
    assert len(results) == 5  # not the revoked one, the research team or this year's newcomer
    for key, (score, rank, jiangsu, star_count, shanghai) in EXPECTED.items():
        result = results[people[key].organization_id]  # type: ignore[index]
        grade = shanghai if scheme == "shanghai" else jiangsu
        assert (result.score, result.rank, result.grade, result.stars) == (
            score, rank, grade, star_count), key  # fmt: skip
        # Two failed years in a row (Shanghai art. 23, Keqiao 4(4)); B passed this year.
        assert result.flagged_for_removal is (grade is G.UNQUALIFIED and key in ("C", "D")), key
    d = results[people["D"].organization_id]  # type: ignore[index]
    assert d.indicators["response"] == {"hours": 72.0, "score": 66.67}
    assert d.indicators["credit"] == {"filings_due": 1, "on_time": 0, "upheld_complaints": 1,
                                      "bookings": 0, "refusals": 0, "score": 0.0}  # fmt: skip
    e = results[people["E"].organization_id]  # type: ignore[index]
    assert e.indicators["credit"] == {"filings_due": 1, "on_time": 1, "upheld_complaints": 1,
                                      "bookings": 2, "refusals": 1, "score": 75.0}  # fmt: skip
    b = results[people["B"].organization_id]  # type: ignore[index]
    assert b.indicators["volume"] == {"value": 3, "score": 75.0}  # the year's edges hold
    assert b.indicators["rating"] == {"value": 4.38, "score": 84.38}
    [row] = await AuditLog.filter(action="evaluation.computed")
    assert row.actor_id == ADMIN_ID and row.after == {
        "year": YEAR, "scheme": scheme, "institutions": 5}  # fmt: skip


async def test_a_year_without_records_and_bad_years_write_nothing(database: str) -> None:
    await seed_year()
    admin = await _admin()
    with pytest.raises(ValidationFailed) as refused:
        await evaluation.compute(admin, YEAR - 3, JIANGSU, ZONE)
    assert refused.value.message_id == "evaluation.no_data"
    assert await EvaluationRun.all().count() == 0 and await Evaluation.all().count() == 0
    assert not await AuditLog.exists(action="evaluation.computed")
    for raw in (str(TODAY.year), "1999", "20x5", "", "２０２４"):
        with pytest.raises(ValidationFailed) as bad:
            evaluation.check_year(raw, TODAY)
        assert bad.value.message_id == "evaluation.bad_year"
    assert evaluation.check_year(f" {YEAR} ", TODAY) == YEAR


async def test_compute_notice_publish_and_every_refusal(database: str) -> None:
    people = await seed_year()
    admin = await _admin()
    other = await make_staff(901, Role.ADMIN, "吴管理")
    with pytest.raises(NotAllowed):
        await evaluation.compute(people["A"], YEAR, JIANGSU, ZONE)
    with pytest.raises(NotFound):
        await evaluation.open_notice(admin, YEAR, today=TODAY, days=7)
    await evaluation.compute(admin, YEAR, JIANGSU, ZONE)
    with pytest.raises(InvalidTransition) as draft:  # a draft is not published
        await evaluation.publish(admin, YEAR, today=TODAY)
    assert draft.value.message_id == "evaluation.not_under_notice"
    # A record entered late, then a recompute: the draft's results are replaced. C now has
    # 1 service (25) rated 5555 (100): 0.3×25 + 0 + 0.2×100 + 0.3×100 = 57.50.
    await Seeder(people["owner"]).served(people["C"], at(12, 1), marks=(5, 5, 5, 5))
    run = await evaluation.compute(other, YEAR, JIANGSU, ZONE)
    c = await Evaluation.get(run_id=run.id, organization_id=people["C"].organization_id)
    assert c.score == D("57.50") and c.grade is G.UNQUALIFIED and c.rank == 4
    assert await Evaluation.filter(run_id=run.id).count() == 5
    assert (await EvaluationRun.get(id=run.id)).computed_by_id == other.id  # type: ignore[attr-defined]
    # Two admins open the notice at once: one does, the other is told who.
    outcomes = await asyncio.gather(
        evaluation.open_notice(admin, YEAR, today=TODAY, days=7),
        evaluation.open_notice(other, YEAR, today=TODAY, days=7),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, tuple)]
    lost = [o for o in outcomes if isinstance(o, AlreadyDecided)]
    assert len(won) == 1 and len(lost) == 1
    assert won[0][1] == [EvaluationNoticeOpened(run.id)]
    assert lost[0].params["by"] in ("周管理", "吴管理")
    run = await EvaluationRun.get(id=run.id)
    assert run.status is RunStatus.NOTICE and run.notice_ends_on == TODAY + timedelta(days=7)
    # Under notice: frozen; not published before the notice ends.
    with pytest.raises(InvalidTransition) as frozen:
        await evaluation.compute(admin, YEAR, JIANGSU, ZONE)
    assert frozen.value.message_id == "evaluation.frozen"
    with pytest.raises(InvalidTransition) as early:
        await evaluation.publish(admin, YEAR, today=TODAY + timedelta(days=6))
    assert early.value.message_id == "evaluation.notice_running"
    assert await evaluation.publish_due(TODAY + timedelta(days=6)) == []
    # The daily job in two workers on the last day: published once.
    ends = TODAY + timedelta(days=7)
    runs = await asyncio.gather(evaluation.publish_due(ends), evaluation.publish_due(ends))
    assert sorted(runs, key=len) == [[], [EvaluationPublished(run.id)]]
    assert await evaluation.publish_due(ends + timedelta(days=1)) == []
    with pytest.raises(AlreadyDecided) as again:
        await evaluation.publish(admin, YEAR, today=ends)
    assert again.value.message_id == "evaluation.already_published"
    assert await AuditLog.filter(action="evaluation.published", actor_id=None).count() == 1
    assert await AuditLog.filter(action="evaluation.notice_opened").count() == 1


async def test_two_first_computations_at_once_make_one_run(database: str) -> None:
    await seed_year()
    admin, other = await _admin(), await make_staff(901, Role.ADMIN, "吴管理")
    runs = await asyncio.gather(
        evaluation.compute(admin, YEAR, JIANGSU, ZONE),
        evaluation.compute(other, YEAR, JIANGSU, ZONE),
    )
    assert runs[0].id == runs[1].id and await EvaluationRun.all().count() == 1
    scores = await Evaluation.filter(year=YEAR).order_by("rank").values_list("score", flat=True)
    assert scores == [D("98.13"), D("86.67"), D("74.48"), D("35.83"), D("20.00")]
