"""The annual evaluation by chat (Jiangsu art. 26-30, Shanghai art. 22-23, Rugao art. 20).

Admins: `/evaluate [year]` (last year by default) computes the year, or recomputes it while
it is a draft, and shows the top of the table and the counts by grade, with Recompute and
Open notice; once the notice has ended, Publish (the daily job also publishes it then).
Institutions: `/evaluation` shows their own latest result, under notice or published. Each
press is checked again by models/evaluation.py, so an old or forged `ev:` button changes
nothing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.context import (
    Context,
    answer,
    callback_parts,
    edit_pressed,
    platform,
    publish,
    timezone,
    with_user,
)
from handlers.engagement import today
from handlers.evaluation_views import own_result, run_card
from locales.i18n import t
from models import evaluation, permissions
from models.entities import User
from models.errors import DomainError, NotAllowed
from models.evaluation_entities import Evaluation, EvaluationRun, RunStatus
from models.events import Event


async def _card(context: Context, run: EvaluationRun) -> tuple[str, InlineKeyboardMarkup | None]:
    results = await evaluation.results_of(run)
    return run_card(run, results, today(context), ZoneInfo(timezone(context)))


@with_user
async def evaluate_command(update: Update, context: Context, user: User) -> None:
    """/evaluate [year]: compute (or recompute the draft of) a year and show its table."""
    assert update.effective_chat
    permissions.require("evaluation.run", user)
    day = today(context)
    year = evaluation.check_year(context.args[0] if context.args else day.year - 1, day)
    run = await evaluation.run_of(year)
    note = None
    if run is None or run.status is RunStatus.COMPUTED:
        zone = ZoneInfo(timezone(context))
        run = await evaluation.compute(user, year, platform(context).evaluation, zone)
        note = t("evaluation.computed", reference=run.reference)
    else:
        note = t("evaluation.frozen", reference=run.reference)
    text, markup = await _card(context, run)
    await update.effective_chat.send_message(f"{note}\n\n{text}", reply_markup=markup)


def _year(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) != 4:
        raise NotAllowed("button.forged")
    return int(raw)


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """An `ev:` button: recompute, open the notice, or publish."""
    parts = callback_parts(update)
    if len(parts) != 3 or parts[1] not in ("c", "n", "p"):
        raise NotAllowed("button.forged")
    permissions.require("evaluation.run", user)
    year, action, day = _year(parts[2]), parts[1], today(context)
    events: list[Event] = []
    try:
        if action == "c":
            zone = ZoneInfo(timezone(context))
            run = await evaluation.compute(user, year, platform(context).evaluation, zone)
            note = t("evaluation.computed", reference=run.reference)
        elif action == "n":
            days = platform(context).evaluation.notice_days
            run, events = await evaluation.open_notice(user, year, today=day, days=days)
            assert run.notice_ends_on is not None
            note = t(
                "evaluation.notice_opened",
                reference=run.reference,
                until=run.notice_ends_on.isoformat(),
            )
        else:
            run, events = await evaluation.publish(user, year, today=day)
            note = t("evaluation.published", reference=run.reference)
    except DomainError:
        # Refused (someone acted first, or the press is stale): the card shows where it stands.
        current = await evaluation.run_of(year)
        if current is not None:
            text, markup = await _card(context, current)
            await edit_pressed(update, text, markup)
        raise
    await answer(update)
    text, markup = await _card(context, run)
    await edit_pressed(update, f"{note}\n\n{text}", markup)
    await publish(context, events)


@with_user
async def evaluation_command(update: Update, context: Context, user: User) -> None:
    """/evaluation: an institution's own latest result (under notice or published)."""
    assert update.effective_chat
    result = await evaluation.own_result(user)
    if result is None:
        await update.effective_chat.send_message(t("evaluation.own.none"))
        return
    total = await Evaluation.filter(run_id=result.run_id).count()
    await update.effective_chat.send_message(own_result(result, total))


def handlers() -> list[BaseHandler]:
    """/evaluate, /evaluation and the `ev:` buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("evaluate", evaluate_command, filters=private),
        CommandHandler("evaluation", evaluation_command, filters=private),
        CallbackQueryHandler(on_button, pattern=r"^ev:"),
    ]
