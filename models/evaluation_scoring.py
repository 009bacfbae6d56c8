"""Pure scoring of the annual evaluation: indicator values -> 0-100 scores -> weighted score,
rank, grade, stars and the two-fails flag. No database: models/evaluation.py gathers the
values and stores what this returns, and tests check it by hand-computed numbers.

Indicators (Jiangsu art. 29), each scored 0-100:
- volume: services completed in the year, relative to the busiest institution (100);
- response: median hours from a demand's publication to the institution's offer, linear
  between `response_fast_hours` (100) and `response_slow_hours` (0); no offer scores 0;
- credit: the share of filing reports in by their due date (Keqiao 1(4); none due counts as
  all on time), as points, less `complaint_penalty` per upheld complaint (Jiangsu art. 31)
  and `refusal_penalty` per declined instrument booking (Shenyang art. 10: an instrument
  is not refused without good reason; a reason is required, and still counted);
- rating: the mean of the owners' four 1-5 marks, 1 -> 0 and 5 -> 100; no feedback scores 0.
Every score is rounded to cents (half up), then weighted by the configured percentages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from models.evaluation_config import INDICATORS, EvaluationConfig, JiangsuGrades, ShanghaiQuotas
from models.evaluation_entities import Grade

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal | int) -> Decimal:
    """Rounded to two decimals, half up (as a person computing it by hand would)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Indicators:
    """What one institution did in the year."""

    volume: int = 0
    response_hours: Decimal | None = None
    filings_due: int = 0
    filings_on_time: int = 0
    upheld_complaints: int = 0
    rating: Decimal | None = None  # the mean of the four marks of all feedback
    bookings: int = 0  # instrument bookings asked of it
    refusals: int = 0  # of which it declined

    def has_data(self) -> bool:
        """Whether anything at all happened for this institution in the year."""
        return bool(
            self.volume
            or self.response_hours is not None
            or self.filings_due
            or self.upheld_complaints
            or self.rating is not None
            or self.bookings
        )


@dataclass(frozen=True)
class Result:
    """One institution's result, ready to be stored."""

    organization_id: int
    indicators: dict[str, dict[str, float | int | None]]
    score: Decimal
    rank: int
    grade: Grade
    stars: int
    flagged: bool


def indicator_scores(
    values: Indicators, busiest: int, config: EvaluationConfig
) -> dict[str, Decimal]:
    """The 0-100 score of each indicator."""
    volume = cents(HUNDRED * values.volume / busiest) if busiest else cents(0)
    fast, slow = Decimal(config.response_fast_hours), Decimal(config.response_slow_hours)
    hours = values.response_hours
    if hours is None or hours >= slow:
        response = cents(0)
    elif hours <= fast:
        response = cents(HUNDRED)
    else:
        response = cents(HUNDRED * (slow - hours) / (slow - fast))
    share = (
        HUNDRED * values.filings_on_time / values.filings_due if values.filings_due else HUNDRED
    )
    penalty = (
        config.complaint_penalty * values.upheld_complaints
        + config.refusal_penalty * values.refusals
    )
    credit = cents(max(Decimal(0), share - penalty))
    rating = cents(0) if values.rating is None else cents((values.rating - 1) * 25)
    return {"volume": volume, "response": response, "credit": credit, "rating": rating}


def weighted(scores: dict[str, Decimal], weights: dict[str, int]) -> Decimal:
    """The weighted score (weights in percent, adding up to 100)."""
    return cents(sum((scores[name] * weights[name] for name in INDICATORS), Decimal(0)) / 100)


def ranks(scores: Sequence[Decimal]) -> list[int]:
    """Competition ranks (1, 2, 2, 4): equal scores share the better rank."""
    return [1 + sum(1 for other in scores if other > score) for score in scores]


def jiangsu_grade(score: Decimal, grades: JiangsuGrades) -> Grade:
    """Jiangsu art. 26: the four grades by score."""
    if score >= grades.excellent:
        return Grade.EXCELLENT
    if score >= grades.good:
        return Grade.GOOD
    if score >= grades.qualified:
        return Grade.QUALIFIED
    return Grade.UNQUALIFIED


def shanghai_grades(scores: Sequence[Decimal], quotas: ShanghaiQuotas) -> list[Grade]:
    """Shanghai art. 22 by quota, in the order of `scores`.

    Of n institutions, at most floor(n × top %) are excellent or good, of which at most
    floor(n × excellent %) excellent; the bottom ceil(n × fail %) of the ranking are not
    qualified; the rest ordinary. Equal scores always get the same grade: a group of equal
    scores that does not fit wholly inside a quota gets the grade outside it (the caps are
    never exceeded, and nobody fails on a tie with someone who does not).
    """
    n = len(scores)
    top = n * quotas.top_percent // 100
    excellent = n * quotas.excellent_percent // 100
    failing = -(-n * quotas.fail_percent // 100)
    by_score: dict[Decimal, int] = {}
    for score in scores:
        by_score[score] = by_score.get(score, 0) + 1
    grade_of: dict[Decimal, Grade] = {}
    placed = 0
    for score in sorted(by_score, reverse=True):
        end = placed + by_score[score]
        if end <= excellent:
            grade_of[score] = Grade.EXCELLENT
        elif end <= top:
            grade_of[score] = Grade.GOOD
        elif placed >= n - failing:
            grade_of[score] = Grade.UNQUALIFIED
        else:
            grade_of[score] = Grade.ORDINARY
        placed = end
    return [grade_of[score] for score in scores]


def stars(score: Decimal, thresholds: Sequence[int]) -> int:
    """Rugao art. 20: 5 stars at the first threshold, one fewer at each next, at least 1."""
    for n, lowest in enumerate(thresholds):
        if score >= lowest:
            return 5 - n
    return 1


Stored = dict[str, dict[str, float | int | None]]


def _values(values: Indicators, scores: dict[str, Decimal]) -> Stored:
    hours, rating = values.response_hours, values.rating
    return {
        "volume": {"value": values.volume, "score": float(scores["volume"])},
        "response": {
            "hours": None if hours is None else float(cents(hours)),
            "score": float(scores["response"]),
        },
        "credit": {
            "filings_due": values.filings_due,
            "on_time": values.filings_on_time,
            "upheld_complaints": values.upheld_complaints,
            "bookings": values.bookings,
            "refusals": values.refusals,
            "score": float(scores["credit"]),
        },
        "rating": {
            "value": None if rating is None else float(cents(rating)),
            "score": float(scores["rating"]),
        },
    }


def evaluate(
    values: dict[int, Indicators], config: EvaluationConfig, failed_last_year: set[int]
) -> list[Result]:
    """Every institution's result, best first (equal scores by organisation id).

    Flagged for removal: not qualified this year and in last year's published results
    (Shanghai art. 23(1), Keqiao 4(4)).
    """
    org_ids = sorted(values)
    busiest = max((values[o].volume for o in org_ids), default=0)
    weights = config.weights.as_dict()
    per_org = {o: indicator_scores(values[o], busiest, config) for o in org_ids}
    totals = [weighted(per_org[o], weights) for o in org_ids]
    if config.scheme == "shanghai":
        grades = shanghai_grades(totals, config.shanghai)
    else:
        grades = [jiangsu_grade(score, config.jiangsu) for score in totals]
    results = [
        Result(
            organization_id=org_id,
            indicators=_values(values[org_id], per_org[org_id]),
            score=score,
            rank=rank,
            grade=grade,
            stars=stars(score, config.stars),
            flagged=grade is Grade.UNQUALIFIED and org_id in failed_last_year,
        )
        for org_id, score, rank, grade in zip(org_ids, totals, ranks(totals), grades, strict=True)
    ]
    return sorted(results, key=lambda r: (r.rank, r.organization_id))
