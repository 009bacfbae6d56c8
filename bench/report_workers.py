"""(f) in the results: medians per setup and flow, the worker ratios, the 1.6× target."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.stats import median

FLOWS = ("registration", "demand")
SETUPS = ("polling", "webhook1", "webhook2", "webhook1p", "webhook2p")
TITLES = {
    "polling": "PostgreSQL, long polling, 1 process",
    "webhook1": "PostgreSQL webhook, 1 worker",
    "webhook2": "PostgreSQL webhook, 2 workers",
    "webhook1p": "PostgreSQL webhook, 1 worker, parallel delivery",
    "webhook2p": "PostgreSQL webhook, 2 workers, parallel delivery",
}
# The target's pairs: the emulator's own one-at-a-time delivery, and Telegram-like parallel.
PAIRS = (("webhook2", "webhook1", ""), ("webhook2p", "webhook1p", ", parallel delivery"))
TARGET = 1.6  # issue #8: 2 PostgreSQL workers ≥ 1.6× one
FIGURES = (
    "updates_per_s",
    "p50_ms",
    "p99_ms",
    "bot_cpu_ms_per_update",
    "api_calls_per_update",
    "postgres_cpu_ms_per_update",
    "proxy_cpu_ms_per_update",
    "driver_cpu_ms_per_update",
    "machine_busy_pct",
    "delivery_busy_pct",
    "delivery_p50_ms",
    "delivery_p99_ms",
)
# Ratios of updates/s (and p99) within one repetition: (name, numerator, denominator).
RATIOS = (
    ("webhook2_vs_webhook1", "webhook2", "webhook1"),
    ("webhook1_vs_polling", "webhook1", "polling"),
    ("webhook2_vs_polling", "webhook2", "polling"),
    ("webhook2p_vs_webhook1p", "webhook2p", "webhook1p"),
    ("webhook1p_vs_polling", "webhook1p", "polling"),
    ("webhook2p_vs_polling", "webhook2p", "polling"),
)
_PARTS = ("bot", "proxy", "postgres", "driver")


def _med(values: Iterable[float | None], digits: int = 1) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), digits) if present else None


def _all_cpu(figures: dict[str, Any]) -> float:
    """CPU ms per update of every process measured: workers, proxy, PostgreSQL, bench."""
    return sum(figures.get(f"{part}_cpu_ms_per_update", 0.0) for part in _PARTS)


def _elsewhere(figures: dict[str, Any], cores: int) -> float:
    """Cores busy outside the processes measured (other work on the machine, the kernel)."""
    ours = _all_cpu(figures) * figures["updates_per_s"] / 1000
    return figures["machine_busy_pct"] / 100 * cores - ours


def summarise(section: dict[str, Any], cores: int = 2) -> dict[str, Any]:
    """Medians per setup and flow, and the median of each per-repetition ratio."""
    runs = section.get("runs", [])
    summary: dict[str, Any] = {"runs": len(runs), "target": TARGET, "rows": {}, "ratios": {}}
    for setup in SETUPS:
        for flow in FLOWS:
            figures = [run[setup][flow] for run in runs if setup in run]
            if not figures:
                continue
            row: dict[str, Any] = {key: _med(f.get(key) for f in figures) for key in FIGURES}
            row["all_cpu_ms_per_update"] = _med(_all_cpu(f) for f in figures)
            row["elsewhere_cores"] = _med((_elsewhere(f, cores) for f in figures), 2)
            workers = sorted(k for k in figures[0] if k.startswith("worker"))
            row["worker_cpu_ms_per_update"] = [_med(f[k] for f in figures) for k in workers]
            shares = [f["deliveries_per_worker"] for f in figures if "deliveries_per_worker" in f]
            row["deliveries_per_worker"] = shares[0] if shares else None
            row["failures"] = sum(f["failures"] for f in figures)
            summary["rows"][f"{setup}/{flow}"] = row
    for flow in FLOWS:
        found: dict[str, float | None] = {}
        for name, top, bottom in RATIOS:
            pairs = [
                (run[top][flow], run[bottom][flow]) for run in runs if top in run and bottom in run
            ]
            if not pairs:
                continue
            found[name] = _med((t["updates_per_s"] / b["updates_per_s"] for t, b in pairs), 2)
            found[f"{name}_p99"] = _med((t["p99_ms"] / b["p99_ms"] for t, b in pairs), 2)
        summary["ratios"][flow] = found
    return summary


def targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """2 webhook workers against 1, per flow and delivery."""
    rows = []
    for flow, ratios in summary.get("ratios", {}).items():
        for top, bottom, how in PAIRS:
            ratio = ratios.get(f"{top}_vs_{bottom}")
            if ratio is None:
                continue
            rows.append(
                {
                    "target": f"postgres/{flow}{how}: 2 webhook workers ≥ {TARGET}× one",
                    "figure": f"{ratio}× updates/s (1 webhook worker ÷ polling: "
                    f"{ratios.get(f'{bottom}_vs_polling')}×)",
                    "verdict": "met" if ratio >= TARGET else "**missed**",
                }
            )
    return rows


Table = tuple[str, list[dict[str, Any]], list[tuple[str, str]]]


def _shown(value: Any) -> Any:
    return "—" if value is None or value == [] else value


def tables(summary: dict[str, Any]) -> list[Table]:
    """(title, rows, columns) of the figures and of the ratios."""
    rows = [
        {
            "setup": f"{TITLES[key.split('/')[0]]}, {key.split('/')[1]}",
            **{name: _shown(value) for name, value in row.items()},
        }
        for key, row in summary["rows"].items()
    ]
    columns = [
        ("setup / flow", "setup"),
        ("updates/s", "updates_per_s"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("bot CPU ms/update (workers summed)", "bot_cpu_ms_per_update"),
        ("per worker", "worker_cpu_ms_per_update"),
        ("API calls/update", "api_calls_per_update"),
        ("PostgreSQL CPU ms/update", "postgres_cpu_ms_per_update"),
        ("proxy CPU ms/update", "proxy_cpu_ms_per_update"),
        ("bench CPU ms/update", "driver_cpu_ms_per_update"),
        ("all CPU ms/update", "all_cpu_ms_per_update"),
        ("machine busy %", "machine_busy_pct"),
        ("cores busy elsewhere", "elsewhere_cores"),
        ("deliveries in hand, % of the time", "delivery_busy_pct"),
        ("delivery p50/p99 ms", "delivery"),
        ("deliveries per worker (run 1)", "deliveries_per_worker"),
        ("failures", "failures"),
    ]
    for row in rows:
        if row.get("delivery_p50_ms") != "—":
            row["delivery"] = f"{row['delivery_p50_ms']} / {row['delivery_p99_ms']}"
    ratio_rows = [
        {"flow": flow, **{k: f"{v}×" for k, v in found.items()}}
        for flow, found in summary["ratios"].items()
    ]
    ratio_columns = [("flow", "flow")]
    present = {name for found in summary["ratios"].values() for name in found}
    for name, top, bottom in RATIOS:
        if name not in present:
            continue
        ratio_columns += [
            (f"{top} ÷ {bottom} updates/s", name),
            (f"{top} ÷ {bottom} p99", f"{name}_p99"),
        ]
    runs = summary["runs"]
    return [
        (
            f"(f) PostgreSQL worker processes, limiter lifted, medians of {runs} runs",
            rows,
            columns,
        ),
        (
            f"(f) ratios within each run, medians (target: 2 workers ÷ 1 worker ≥ {TARGET})",
            ratio_rows,
            ratio_columns,
        ),
    ]
