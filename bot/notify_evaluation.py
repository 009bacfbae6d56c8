"""Notifications of the annual evaluation to admins (Shanghai art. 22).

Every admin hears when a year's results go under public notice and when they are published
(the daily job may publish them unattended). The institutions themselves are told their own
result by the reminder engine (models/reminders.py `evaluation_results`), which records one
delivery per person and year: a publication is told once, even across restarts and workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup

from locales.i18n import t
from models.entities import Role, User, UserStatus
from models.evaluation_entities import Evaluation, EvaluationRun
from models.events import EvaluationNoticeOpened, EvaluationPublished

if TYPE_CHECKING:
    from bot.notifier import TelegramNotifier


async def _tell_admins(notifier: TelegramNotifier, key: str, run: EvaluationRun) -> None:
    count = await Evaluation.filter(run_id=run.id).count()
    until = run.notice_ends_on.isoformat() if run.notice_ends_on else ""

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return t(key, reference=run.reference, year=run.year, count=count, until=until), None

    for admin in await User.filter(role=Role.ADMIN, status=UserStatus.ACTIVE).order_by("id"):
        await notifier.tell(admin.id, render)


async def on_notice_opened(notifier: TelegramNotifier, event: EvaluationNoticeOpened) -> None:
    """Every admin learns that the results are on notice, and until when."""
    run = await EvaluationRun.get(id=event.run_id)
    await _tell_admins(notifier, "evaluation.told.notice", run)


async def on_published(notifier: TelegramNotifier, event: EvaluationPublished) -> None:
    """Every admin learns that the results are published and the institutions are being told."""
    await _tell_admins(
        notifier, "evaluation.told.published", await EvaluationRun.get(id=event.run_id)
    )


HANDLERS: dict[type, Any] = {
    EvaluationNoticeOpened: on_notice_opened,
    EvaluationPublished: on_published,
}
