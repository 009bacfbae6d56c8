"""How the annual evaluation reads in chat: the admin's run card, an institution's result."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from locales.i18n import t
from models.evaluation_entities import Evaluation, EvaluationRun, Grade, RunStatus
from models.text import star_bar

PREFIX = "ev"
TOP = 5  # rows of the table shown in chat; the command line prints them all
DYNAMIC_IDS = (
    *(f"evaluation.grade.{g.value}" for g in Grade),
    *(f"evaluation.status.{s.value}" for s in RunStatus),
    "evaluation.scheme.jiangsu",
    "evaluation.scheme.shanghai",
    "evaluation.button.compute",
    "evaluation.button.notice",
)


def grade_label(grade: str) -> str:
    """优秀 / 良好 / 合格 / 一般 / 不合格 in the current language."""
    return t(f"evaluation.grade.{grade}")


def star_text(stars: int) -> str:
    """Rugao art. 20 stars as ★★★☆☆."""
    return star_bar(stars)


def result_notice(p: dict[str, Any]) -> str:
    """An institution's own result (the reminder engine's params, or a stored result)."""
    text = t(
        "evaluation.result",
        reference=p["reference"],
        year=p["year"],
        institution=p["institution"],
        grade=grade_label(str(p["grade"])),
        stars=star_text(int(p["stars"])),
        score=p["score"],
        rank=p["rank"],
        total=p["total"],
    )
    if p.get("flagged"):
        text += "\n" + t("evaluation.result.flagged")
    return text


def own_result(result: Evaluation, total: int) -> str:
    """What /evaluation shows an institution: its result, and whether it is still on notice."""
    run = result.run
    text = result_notice(
        {
            "reference": run.reference,
            "year": result.year,
            "institution": result.organization.name,
            "grade": result.grade.value,
            "stars": result.stars,
            "score": str(result.score),
            "rank": result.rank,
            "total": total,
            "flagged": result.flagged_for_removal,
        }
    )
    if run.status is RunStatus.NOTICE and run.notice_ends_on is not None:
        text += "\n" + t("evaluation.own.on_notice", until=run.notice_ends_on.isoformat())
    return text


def cb(action: str, year: int) -> str:
    """Callback data of a run button: ev:<c|n|p>:<year>."""
    return f"{PREFIX}:{action}:{year}"


def run_card(
    run: EvaluationRun, results: list[Evaluation], today: date, zone: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The admin's view of a run: status, the top of the table, counts by grade, buttons."""
    lines = [
        t(
            "evaluation.card.header",
            reference=run.reference,
            year=run.year,
            status=t(f"evaluation.status.{run.status.value}"),
            scheme=t(f"evaluation.scheme.{run.scheme}"),
            count=len(results),
        )
    ]
    for item in results[:TOP]:
        lines.append(
            t(
                "evaluation.card.row",
                rank=item.rank,
                institution=item.organization.name,
                score=str(item.score),
                grade=grade_label(item.grade.value),
                stars=star_text(item.stars),
            )
        )
    counts = Counter(item.grade for item in results)
    summary = " · ".join(f"{grade_label(g.value)} {counts[g]}" for g in Grade if counts[g])
    lines.append(t("evaluation.card.counts", counts=summary))
    flagged = [item.organization.name for item in results if item.flagged_for_removal]
    if flagged:
        lines.append(t("evaluation.card.flagged", count=len(flagged), names="、".join(flagged)))
    buttons: list[InlineKeyboardButton] = []
    if run.status is RunStatus.COMPUTED:
        lines.append(t("evaluation.card.draft"))
        buttons = [
            InlineKeyboardButton(t(f"evaluation.button.{key}"), callback_data=cb(key[0], run.year))
            for key in ("compute", "notice")
        ]
    elif run.status is RunStatus.NOTICE and run.notice_ends_on is not None:
        lines.append(t("evaluation.card.notice_until", until=run.notice_ends_on.isoformat()))
        if today >= run.notice_ends_on:
            buttons = [
                InlineKeyboardButton(
                    t("evaluation.button.publish"), callback_data=cb("p", run.year)
                )
            ]
    elif run.published_at is not None:
        day = run.published_at.astimezone(zone).date()
        lines.append(t("evaluation.card.published", day=day.isoformat()))
    markup = InlineKeyboardMarkup([buttons]) if buttons else None
    return "\n".join(lines), markup
