"""The /stats chart: demands per month (bars) beside the funnel, as a PNG.

matplotlib's Agg backend draws off-screen (no display here or on a server), and drawing is
CPU work, so `render` runs in a worker thread. Chinese labels need a CJK font (DESIGN §5,
Debian's fonts-wqy-microhei, which .ci/chromium.sh installs); where none is installed the
chart falls back to English labels rather than drawing empty boxes. matplotlib is imported
on the first chart, not at start-up (its first import builds a font cache).
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from functools import cache

log = logging.getLogger(__name__)
CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC")


@dataclass(frozen=True)
class ChartText:
    """The words on the chart, in one language."""

    months_title: str
    funnel_title: str
    stages: tuple[str, ...]


@cache
def cjk_font() -> str | None:
    """The first installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found is None:
        log.warning("no CJK font installed (fonts-wqy-microhei): charts are drawn in English")
    return found


def _draw(months: dict[str, int], funnel: dict[str, int], text: ChartText, font: str) -> bytes:
    # A Figure of its own (not pyplot, so no display backend): no state shared by threads.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4.2), dpi=100, layout="constrained")
    figure.set_facecolor("white")
    bars, steps = figure.subplots(1, 2, width_ratios=(3, 2))
    labels = [month[2:] for month in months]  # "26-01": twelve of them fit
    bars.bar(labels, list(months.values()), color="#3b7dd8")
    bars.set_title(text.months_title, fontfamily=font)
    bars.tick_params(axis="x", labelrotation=45, labelsize=8)
    bars.yaxis.get_major_locator().set_params(integer=True)
    values = list(funnel.values())
    positions = range(len(values))
    steps.barh(positions, values, color="#2e9e6b")
    steps.set_yticks(list(positions), text.stages, fontfamily=font)
    steps.invert_yaxis()  # the funnel reads top-down, from submitted to rated
    steps.set_title(text.funnel_title, fontfamily=font)
    steps.xaxis.get_major_locator().set_params(integer=True)
    for position, value in zip(positions, values, strict=True):
        steps.annotate(str(value), (value, position), xytext=(3, 0), textcoords="offset points")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def render(
    months: dict[str, int], funnel: dict[str, int], text: ChartText, fallback: ChartText
) -> bytes:
    """The chart as PNG bytes, drawn off the event loop; `fallback` (English) without CJK."""
    font = await asyncio.to_thread(cjk_font)
    if font is None:
        return await asyncio.to_thread(_draw, months, funnel, fallback, "DejaVu Sans")
    return await asyncio.to_thread(_draw, months, funnel, text, font)
