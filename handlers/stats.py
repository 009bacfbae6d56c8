"""/stats and /export for admins (issue #5 items 5-6).

/stats: a text summary and a PNG chart. /export: table, then format, then masked or full
data (full asks once more, and is audited), then the file as a document. The choices travel
in the buttons (`ex:` + table + format), so nothing waits in a conversation; each press is
checked again by the domain (models/exports.py), so a forged or stale button changes nothing.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import stats_chart
from handlers.context import (
    Context,
    answer,
    callback_parts,
    edit_pressed,
    platform,
    timezone,
    with_user,
)
from handlers.engagement import today
from handlers.stats_views import (
    chart_text,
    confirm_markup,
    data_markup,
    export_lang,
    formats_markup,
    summary,
    table_label,
    tables_markup,
    words,
)
from locales.i18n import t, use_locale
from models import export_files, exports, permissions, stats
from models.entities import User
from models.errors import NotAllowed

MB = 1024 * 1024


@with_user
async def stats_command(update: Update, context: Context, user: User) -> None:
    """/stats: counts, funnel and median time to a first offer, then the chart."""
    assert update.effective_chat
    config = platform(context)
    day = today(context)
    data = await stats.collect(
        user, timezone=timezone(context), months=config.stats.months, today=day
    )
    await update.effective_chat.send_message(summary(data, config, day))
    text = chart_text()
    with use_locale("en"):
        fallback = chart_text()
    png = await stats_chart.render(data.by_month, data.funnel, text, fallback)
    await update.effective_chat.send_photo(png, caption=t("stats.chart_caption"))


@with_user
async def export_command(update: Update, context: Context, user: User) -> None:
    """/export: step 1, which table."""
    assert update.effective_chat
    permissions.require("export.masked", user)
    await update.effective_chat.send_message(t("export.pick_table"), reply_markup=tables_markup())


def _table(name: str) -> str:
    if name != exports.ALL and name not in exports.TABLES:
        raise NotAllowed("button.forged")
    return name


def _format(fmt: str) -> str:
    if fmt not in export_files.FORMATS:
        raise NotAllowed("button.forged")
    return fmt


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """An `ex:` button: the next step of /export, or the export itself."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    permissions.require("export.masked", user)
    if action == "s" and len(parts) == 2:
        await answer(update)
        await edit_pressed(update, t("export.pick_table"), tables_markup())
    elif action == "t" and len(parts) == 3:
        name = _table(parts[2])
        await answer(update)
        text = t("export.pick_format", table=table_label(name))
        await edit_pressed(update, text, formats_markup(name))
    elif action == "f" and len(parts) == 4:
        name, fmt = _table(parts[2]), _format(parts[3])
        await answer(update)
        text = t("export.pick_data", table=table_label(name), format=fmt.upper())
        await edit_pressed(update, text, data_markup(name, fmt))
    elif action == "m" and len(parts) == 5 and parts[4] in ("m", "f"):
        name, fmt = _table(parts[2]), _format(parts[3])
        if parts[4] == "f":
            permissions.require("export.full", user)
            await answer(update)
            text = t("export.ask_full", table=table_label(name), format=fmt.upper())
            await edit_pressed(update, text, confirm_markup(name, fmt))
        else:
            await _export(update, context, user, name, fmt, full=False)
    elif action == "y" and len(parts) == 4:
        await _export(update, context, user, _table(parts[2]), _format(parts[3]), full=True)
    else:
        raise NotAllowed("button.forged")


async def _export(
    update: Update, context: Context, user: User, name: str, fmt: str, *, full: bool
) -> None:
    assert update.effective_chat
    lang = export_lang()
    options = exports.Options(
        lang=lang,
        full=full,
        timezone=timezone(context),
        platform=platform(context),
        words=words(lang),
    )
    tables = exports.tables_for(name)
    # Checked and audited before anything is read: one menu message gives one file, so a
    # double press exports once (the domain refuses the second).
    message = update.callback_query.message if update.callback_query else None
    request = f"menu:{message.message_id}" if message is not None else None
    await exports.begin(user, name, fmt, options, request=request)
    await answer(update)
    kind = t("export.kind_full") if full else t("export.kind_masked")
    await edit_pressed(update, t("export.preparing", table=table_label(name), kind=kind))
    stamp = datetime.now(ZoneInfo(timezone(context))).strftime("%Y%m%d-%H%M")
    filename = f"innobridge-{name}-{stamp}.{export_files.suffix(fmt, tables)}"
    limit = platform(context).stats.upload_limit_mb
    with tempfile.TemporaryDirectory(prefix="innobridge-export-") as folder:
        written = await export_files.write(tables, fmt, options, Path(folder) / filename)
        if written.size > limit * MB:
            await update.effective_chat.send_message(
                t("export.too_big", size=f"{written.size / MB:.1f}", limit=f"{limit:g}")
            )
            return
        caption = t(
            "export.ready",
            table=table_label(name),
            rows=sum(written.rows.values()),
            kind=kind,
        )
        await update.effective_chat.send_document(written.path, filename=filename, caption=caption)


def handlers() -> list[BaseHandler]:
    """/stats, /export and the `ex:` buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("stats", stats_command, filters=private),
        CommandHandler("export", export_command, filters=private),
        CallbackQueryHandler(on_button, pattern=r"^ex:"),
    ]
