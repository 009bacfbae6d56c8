"""What /stats and /export show: the summary text, the chart words, the export buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.stats_chart import ChartText
from locales.i18n import Raw, current_locale, t, use_locale
from models import exports
from models.platform import PlatformConfig
from models.stats import FUNNEL, Statistics

# Message ids built at run time (tests/test_catalogues.py checks each exists).
DYNAMIC_IDS = (
    *(f"stats.stage.{stage}" for stage in FUNNEL),
    *(f"export.table.{name}" for name in (*exports.TABLES, exports.ALL)),
)
LANGS = {"zh": "zh_CN", "en": "en"}


def export_lang() -> str:
    """The export language of the current locale: zh (first language) or en."""
    return "zh" if current_locale().startswith("zh") else "en"


def words(lang: str) -> Callable[[str], str]:
    """Localised words for coded export values, in the export's language."""

    def word(message_id: str) -> str:
        with use_locale(LANGS[lang]):
            return t(message_id)

    return word


def _pairs(counts: dict[str, int], label: Callable[[str], str]) -> str:
    if not counts:
        return t("stats.none")
    return " · ".join(t("stats.pair", name=label(key), count=n) for key, n in counts.items())


def _duration(wait: timedelta) -> str:
    minutes = int(wait.total_seconds() // 60)
    return t("stats.duration", hours=minutes // 60, minutes=minutes % 60)


def summary(data: Statistics, platform: PlatformConfig, today: date) -> str:
    """The /stats text: totals by status, township, category and month, funnel, median."""
    locale = current_locale()

    def township(code: str) -> str:
        found = platform.township(code)
        return found.label(locale) if found else code

    def category(code: str) -> str:
        found = platform.category(code)
        return found.label(locale) if found else code

    funnel = " → ".join(
        t("stats.pair", name=t(f"stats.stage.{stage}"), count=n)
        for stage, n in data.funnel.items()
    )
    if data.median_first_intent is None:
        median = t("stats.median_none")
    else:
        median = t(
            "stats.median",
            duration=_duration(data.median_first_intent),
            count=data.measured,
        )
    return t(
        "stats.summary",
        today=today.isoformat(),
        total=data.total,
        by_status=Raw(_pairs(data.by_status, lambda code: t(f"submit.status.{code}"))),
        by_township=Raw(_pairs(data.by_township, township)),
        by_category=Raw(_pairs(data.by_category, category)),
        by_month=Raw(_pairs(data.by_month, str)),
        funnel=Raw(funnel),
        median=Raw(median),
    )


def chart_text() -> ChartText:
    """The chart's words in the current locale."""
    return ChartText(
        months_title=t("stats.chart_months"),
        funnel_title=t("stats.chart_funnel"),
        stages=tuple(t(f"stats.stage.{stage}") for stage in FUNNEL),
    )


def table_label(name: str) -> str:
    """A table's name as the buttons and captions say it."""
    return t(f"export.table.{name}")


def tables_markup() -> InlineKeyboardMarkup:
    """Step 1 of 3: which table."""
    names = [*exports.TABLES, exports.ALL]
    buttons = [InlineKeyboardButton(table_label(n), callback_data=f"ex:t:{n}") for n in names]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(rows)


def formats_markup(name: str) -> InlineKeyboardMarkup:
    """Step 2 of 3: XLSX or CSV."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("XLSX", callback_data=f"ex:f:{name}:xlsx"),
                InlineKeyboardButton("CSV", callback_data=f"ex:f:{name}:csv"),
            ],
            [InlineKeyboardButton(t("export.back"), callback_data="ex:s")],
        ]
    )


def data_markup(name: str, fmt: str) -> InlineKeyboardMarkup:
    """Step 3 of 3: masked or full personal data."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t("export.masked"), callback_data=f"ex:m:{name}:{fmt}:m")],
            [InlineKeyboardButton(t("export.full"), callback_data=f"ex:m:{name}:{fmt}:f")],
            [InlineKeyboardButton(t("export.back"), callback_data=f"ex:t:{name}")],
        ]
    )


def confirm_markup(name: str, fmt: str) -> InlineKeyboardMarkup:
    """Full data is confirmed once more: it is audited."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t("export.confirm_full"), callback_data=f"ex:y:{name}:{fmt}")],
            [InlineKeyboardButton(t("export.back"), callback_data=f"ex:f:{name}:{fmt}")],
        ]
    )
