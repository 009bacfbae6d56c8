"""The chat side of reminders: meeting answers, /report uploads, /reminders for admins.

Every press is checked again by the domain (models/reports.py): an RSVP from someone not
invited, for a date that is no meeting, or after the meeting changes nothing and says why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows, uploads
from handlers.context import (
    Context,
    answer,
    callback_parts,
    conversation_key,
    platform,
    timezone,
    with_user,
)
from handlers.engagement import demand_id_of, today
from locales.i18n import t
from models import conversations, deliveries, demands, permissions, reports
from models.conversations import ConversationState
from models.entities import User
from models.errors import NotAllowed, ValidationFailed
from models.reminder_entities import ReportKind
from models.users import display_name

REPORT_FLOW = "report"
VERSION = 1
DYNAMIC_IDS = ("report.received_annual", "report.received_filing")


# --- /report -------------------------------------------------------------------------


@with_user
async def report_command(update: Update, context: Context, user: User) -> None:
    """/report: the annual report; /report D2026-000123: the filing report of that demand."""
    demand_id = demands.parse_reference(context.args[0]) if context.args else None
    await _begin_report(update, context, user, demand_id)


async def _begin_report(
    update: Update, context: Context, user: User, demand_id: int | None
) -> None:
    if demand_id is None:
        org = await reports.may_report_annual(user, today(context))
        year = reports.annual_period(today(context))
        data: dict[str, object] = {"kind": "annual", "year": year, "organization": org.name}
        question = t("report.ask_annual", year=year)
    else:
        demand, _ = await reports.may_report_filing(demand_id, user)
        data = {"kind": "filing", "demand_id": demand.id, "reference": demand.reference}
        question = t("report.ask_filing", reference=demand.reference)
    await answer(update)
    await conversations.save(
        conversation_key(update), ConversationState(REPORT_FLOW, "file", VERSION, data)
    )
    assert update.effective_chat
    await update.effective_chat.send_message(question)


async def on_report_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """The uploaded report: checked, fingerprinted and stored; its reminders stop."""
    message = update.effective_message
    assert message is not None
    data = conversation.data
    try:
        upload = await uploads.fingerprinted(
            context, message, reports.check_report_file, "report.file_kind"
        )
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        return
    kind = ReportKind(str(data["kind"]))
    demand_id = int(str(data["demand_id"])) if "demand_id" in data else None
    await reports.submit(
        user,
        kind,
        today=today(context),
        demand_id=demand_id,
        file_id=upload.file_id,
        file_name=upload.file_name,
        sha256=upload.sha256,
    )
    await conversations.clear(conversation_key(update))
    await message.reply_text(
        t(
            f"report.received_{kind.value}",
            year=data.get("year", ""),
            organization=data.get("organization", ""),
            reference=data.get("reference", ""),
        )
    )


async def _resume_report(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    assert update.effective_chat
    data = conversation.data
    if data.get("kind") == "filing":
        text = t("report.ask_filing", reference=data.get("reference", ""))
    else:
        text = t("report.ask_annual", year=data.get("year", ""))
    await update.effective_chat.send_message(text)


# --- buttons ---------------------------------------------------------------------------


@with_user
async def on_reminder_button(update: Update, context: Context, user: User) -> None:
    """rm:r:YYYYMMDD:1|0 answers a meeting invitation; rm:rep:a|f:ID starts a report."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    if action == "r" and len(parts) == 4 and parts[3] in ("0", "1"):
        day = _meeting_day(parts[2])
        attending = parts[3] == "1"
        zone = ZoneInfo(timezone(context))
        config = platform(context).reminders
        await reports.answer_meeting(user, day, attending, config, zone, datetime.now(UTC))
        key = "reminder.rsvp.recorded_yes" if attending else "reminder.rsvp.recorded_no"
        await answer(update, t(key, meeting=day.isoformat()))
    elif action == "rep" and parts[2:3] == ["a"]:
        await _begin_report(update, context, user, None)
    elif action == "rep" and len(parts) == 4 and parts[2] == "f":
        await _begin_report(update, context, user, demand_id_of(parts[3]))
    else:
        raise NotAllowed("button.forged")


def _meeting_day(raw: str) -> date:
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8])) if len(raw) == 8 else date.min
    except ValueError:  # not digits, or no such day
        raise NotAllowed("button.forged") from None


# --- /reminders ------------------------------------------------------------------------


@with_user
async def reminders_command(update: Update, context: Context, user: User) -> None:
    """/reminders: admins see how many deliveries stand where, and the latest ones."""
    permissions.require("reminders.log", user)
    counts = await deliveries.counts()
    lines = [t("reminders.title", **counts)]
    latest = await deliveries.recent()
    if latest:
        lines.append(t("reminders.recent"))
    zone = ZoneInfo(timezone(context))
    names = {u.id: u for u in await User.filter(id__in=[row.recipient_id for row in latest])}
    for row in latest:
        when = row.sent_at or row.due_at
        person = names.get(row.recipient_id)
        lines.append(
            t(
                "reminders.item",
                when=when.astimezone(zone).strftime("%m-%d %H:%M"),
                rule=row.rule,
                occurrence=row.occurrence,
                recipient=display_name(person) if person else str(row.recipient_id),
                state=row.state.value + (f" ({row.error})" if row.error else ""),
            )
        )
    if not latest:
        lines.append(t("reminders.none"))
    assert update.effective_chat
    await update.effective_chat.send_message("\n".join(lines))


def handlers() -> list[BaseHandler]:
    """This area's commands, then its buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("report", report_command, filters=private),
        CommandHandler("reminders", reminders_command, filters=private),
        CallbackQueryHandler(on_reminder_button, pattern=r"^rm:"),
    ]


flows.register(flows.Flow(REPORT_FLOW, on_report_message, _resume_report))
