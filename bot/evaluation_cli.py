"""`innobridge evaluate --year N`: compute a year's evaluation and print its table.

For the operator: computes as the system (no admin needed), or, for a run already under
notice or published, prints what is stored. A bad year or a year without records ends with
exit status 2 and the reason, and writes nothing.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from bot.config import Settings
from locales.i18n import t, use_locale
from models import evaluation
from models.db import close_database, open_database
from models.errors import DomainError
from models.evaluation_entities import EvaluationRun, RunStatus
from models.platform import PlatformConfig

_TAG = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


async def table(run: EvaluationRun) -> list[str]:
    """Every result of a run, one line each, best first."""
    head = f"{run.reference}  year {run.year}  {run.status.value}  scheme {run.scheme}"
    lines = [head, f"{'rank':>4}  {'score':>6}  {'grade':<11}  stars  flag  institution"]
    for item in await evaluation.results_of(run):
        flag = "2×" if item.flagged_for_removal else ""
        lines.append(
            f"{item.rank:>4}  {item.score:>6}  {item.grade.value:<11}  {item.stars:>5}  "
            f"{flag:<4}  {item.organization.name}"
        )
    return lines


async def run(
    settings: Settings, platform: PlatformConfig, raw_year: str
) -> tuple[int, list[str]]:
    """(exit status, lines to print): 0 and the table, or 2 and the reason."""
    await open_database(settings.database_url, secret_key=settings.secret)
    try:
        today = datetime.now(settings.tz).date()
        with use_locale("en"):
            try:
                year = evaluation.check_year(raw_year, today)
                stored = await evaluation.run_of(year)
                if stored is not None and stored.status is not RunStatus.COMPUTED:
                    note = _plain(t("evaluation.frozen", reference=stored.reference))
                    return 0, [note, *await table(stored)]
                computed = await evaluation.compute(None, year, platform.evaluation, settings.tz)
            except DomainError as refusal:
                return 2, [_plain(t(refusal.message_id, **refusal.params))]
        return 0, await table(computed)
    finally:
        await close_database()
