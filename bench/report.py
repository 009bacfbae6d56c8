"""Medians, ratios against the echo bot of the same repetition, targets, and a Markdown page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench import report_workers
from bench.stats import median

FLOWS = ("registration", "demand")
DATABASES = ("sqlite", "postgres")
Row = dict[str, Any]


def _med(values: Iterable[float | None], digits: int = 1) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), digits) if present else None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def throughput(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Echo medians, and per database and flow: medians and the median of per-run ratios."""
    echoes = [run["echo"] for run in runs]
    summary: dict[str, Any] = {
        "runs": len(runs),
        "echo": {
            key: _med(e[key] for e in echoes)
            for key in (
                "updates_per_s",
                "p50_ms",
                "p99_ms",
                "bot_cpu_ms_per_update",
                "api_calls_per_update",
            )
        },
    }
    bots = [key for key in runs[0] if key != "echo"] if runs else []
    for database in bots:
        for flow in FLOWS:
            pairs = [(run["echo"], run[database][flow]) for run in runs if database in run]
            if not pairs:
                continue
            figures = [f for _, f in pairs]
            summary[f"{database}/{flow}"] = {
                **{
                    key: _med(f[key] for f in figures)
                    for key in (
                        "updates_per_s",
                        "p50_ms",
                        "p99_ms",
                        "bot_cpu_ms_per_update",
                        "api_calls_per_update",
                    )
                },
                "rate_ratio": _med(
                    (_ratio(f["updates_per_s"], e["updates_per_s"]) for e, f in pairs), 2
                ),
                "p99_ratio": _med((_ratio(f["p99_ms"], e["p99_ms"]) for e, f in pairs), 2),
                "cpu_ratio": _med(
                    (
                        _ratio(f["bot_cpu_ms_per_update"], e["bot_cpu_ms_per_update"])
                        for e, f in pairs
                    ),
                    2,
                ),
                "failures": sum(f["failures"] for f in figures),
            }
    return summary


def tick(entries: dict[str, Any]) -> dict[str, Any]:
    """Per database and scenario: median seconds of each part, peak RSS."""
    summary: dict[str, Any] = {}
    for database, entry in entries.items():
        for scenario in ("meeting", "annual", "meeting_before"):
            if scenario not in entry:
                continue
            runs = [r for r in entry.get(scenario, []) if "error" not in r]
            errors = [r["error"] for r in entry.get(scenario, []) if "error" in r]
            if not runs:
                summary[f"{database}/{scenario}"] = {"errors": errors}
                continue
            row: Row = {"runs": len(runs), "due": runs[0]["first"]["due"], "errors": errors}
            for which in ("first", "second"):
                for part in ("due_s", "record_s", "settle_s", "total_s"):
                    row[f"{which}_{part}"] = _med((r[which][part] for r in runs), 2)
            row["rss_before_mb"] = _med(r["rss_before_mb"] for r in runs)
            row["peak_rss_mb"] = _med(r["peak_rss_mb"] for r in runs)
            summary[f"{database}/{scenario}"] = row
    return summary


def startup(entries: dict[str, Any]) -> dict[str, Any]:
    """Median first-poll times and idle RSS."""
    summary: dict[str, Any] = {
        "echo": {
            "first_poll_s": _med((r["first_poll_s"] for r in entries.get("echo", [])), 2),
            "rss_mb": _med(r["rss_at_first_poll_mb"] for r in entries.get("echo", [])),
        }
    }
    for database in DATABASES:
        if database not in entries:
            continue
        runs = entries[database]
        summary[database] = {
            "fresh_first_poll_s": _med((r["first_poll_s"] for r in runs["fresh"]), 2),
            "migrated_first_poll_s": _med((r["first_poll_s"] for r in runs["migrated"]), 2),
            "idle_rss_mb": _med(r["idle_rss_mb"] for r in runs["migrated"]),
            "fresh_idle_rss_mb": _med(r.get("idle_rss_mb") for r in runs["fresh"]),
            "runs": len(runs["migrated"]),
        }
    return summary


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def targets(summary: dict[str, Any]) -> list[Row]:
    """Each target of issue #8 against the figure that decides it."""
    rows: list[Row] = []
    a = summary.get("a") or {}
    for key, row in a.items():
        if "/" not in key or "+" in key:  # "+": a fix undone (the baseline), not the product
            continue
        rate, p99 = row["rate_ratio"], row["p99_ratio"]
        rows.append(
            {
                "target": f"{key}: updates/s ≥ 0.7× echo",
                "figure": f"{rate}×",
                "verdict": _verdict(rate >= 0.7 if rate is not None else None),
            }
        )
        rows.append(
            {
                "target": f"{key}: p99 ≤ 2× echo",
                "figure": f"{p99}×",
                "verdict": _verdict(p99 <= 2 if p99 is not None else None),
            }
        )
    c = summary.get("c")
    if c:
        ok = c["pct_of_configured"] >= 95 and c["http_429"] == 0
        rows.append(
            {
                "target": f"fan-out of {c['count']}: ≥ 95 % of {c['configured_rate']}/s, no 429",
                "figure": f"{c['send_rate']}/s ({c['pct_of_configured']} %; after the first "
                f"2 s {c['steady_rate']}/s), {c['http_429']} × 429",
                "verdict": _verdict(ok),
            }
        )
    for key, row in (summary.get("b") or {}).items():
        if key.endswith("_before"):  # the code before the fix, not the product
            continue
        if "first_total_s" not in row:
            rows.append(
                {
                    "target": f"tick {key}",
                    "figure": "; ".join(row["errors"]),
                    "verdict": "**failed**",
                }
            )
            continue
        rows.append(
            {
                "target": f"tick {key} ({row['due']} due): ≤ 1 s",
                "figure": f"{row['first_total_s']} s",
                "verdict": _verdict(row["first_total_s"] <= 1),
            }
        )
        rows.append(
            {
                "target": f"tick {key}: peak RSS ≤ 200 MB",
                "figure": f"{row['peak_rss_mb']} MB",
                "verdict": _verdict(row["peak_rss_mb"] <= 200),
            }
        )
    for database, row in (summary.get("e") or {}).items():
        if database == "echo":
            continue
        rows.append(
            {
                "target": f"{database}: idle RSS ≤ 120 MB",
                "figure": f"{row['idle_rss_mb']} MB",
                "verdict": _verdict(row["idle_rss_mb"] is not None and row["idle_rss_mb"] <= 120),
            }
        )
        first = row["migrated_first_poll_s"]
        rows.append(
            {
                "target": f"{database}: first poll ≤ 2 s",
                "figure": f"{first} s (fresh database {row['fresh_first_poll_s']} s)",
                "verdict": _verdict(first is not None and first <= 2),
            }
        )
    if "f" in summary:
        rows += report_workers.targets(summary["f"])
    return rows


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, reduced to medians and ratios."""
    summary: dict[str, Any] = {}
    if "a" in results:
        summary["a"] = throughput(results["a"]["runs"])
        if results["a"]["shipped"]:
            summary["a_shipped"] = throughput(results["a"]["shipped"])
    if "b" in results:
        summary["b"] = tick(results["b"])
    if "c" in results:
        summary["c"] = results["c"]
    if "d" in results:
        summary["d"] = results["d"]
    if "e" in results:
        summary["e"] = startup(results["e"])
    if results.get("f", {}).get("runs"):
        cores = results.get("machine", {}).get("cores") or 2
        summary["f"] = report_workers.summarise(results["f"], cores)
    summary["targets"] = targets(summary)
    return summary


def _table(rows: list[Row], columns: list[tuple[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(title for title, _ in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(key, "")) for _, key in columns) + " |")
    return lines


def _keyed(table: dict[str, Any], first: str) -> list[Row]:
    return [{first: key, **value} for key, value in table.items() if isinstance(value, dict)]


def markdown(results: dict[str, Any], summary: dict[str, Any]) -> str:
    """The result page (bench writes it beside the JSON)."""
    machine = results.get("machine", {})
    options = results.get("options", {})
    out = ["# Benchmark results", ""]
    out.append(
        f"{machine.get('started')}; {machine.get('cpu')}, {machine.get('cores')} cores; "
        f"Python {machine.get('python')}; SQLite {machine.get('sqlite')}; PostgreSQL "
        f"{machine.get('postgresql')}; load average {machine.get('load_average_at_start')} at "
        f"start, {machine.get('load_average_at_end')} at end. Options: {options}."
    )
    sections: list[tuple[str, list[Row], list[tuple[str, str]]]] = []
    rate_columns = [
        ("bot / flow", "bot"),
        ("updates/s", "updates_per_s"),
        ("p50 ms", "p50_ms"),
        ("p99 ms", "p99_ms"),
        ("bot CPU ms/update", "bot_cpu_ms_per_update"),
        ("API calls/update", "api_calls_per_update"),
        ("× echo updates/s", "rate_ratio"),
        ("× echo p99", "p99_ratio"),
        ("× echo CPU", "cpu_ratio"),
        ("failures", "failures"),
    ]
    for key, title in (
        ("a", "(a) throughput, limiter lifted"),
        ("a_shipped", "(a) limiter as shipped (28/s)"),
    ):
        if key in summary:
            rows = _keyed({k: v for k, v in summary[key].items() if k != "runs"}, "bot")
            sections.append(
                (f"{title}, medians of {summary[key]['runs']} runs", rows, rate_columns)
            )
    if "b" in summary:
        columns: list[tuple[str, str]] = [("database / scenario", "key"), ("due", "due")]
        columns += [
            (f"{w} {p}", f"{w}_{p}")
            for w in ("first", "second")
            for p in ("due_s", "record_s", "settle_s", "total_s")
        ]
        columns += [
            ("RSS before MB", "rss_before_mb"),
            ("peak RSS MB", "peak_rss_mb"),
            ("errors", "errors"),
        ]
        sections.append(("(b) reminder tick", _keyed(summary["b"], "key"), columns))
    if "c" in summary:
        row = summary["c"]
        sections.append(("(c) fan-out", [row], [(k, k) for k in row]))
    if "d" in summary:
        rows = [
            {"database": k, **{n: v for n, v in d.items() if not isinstance(v, dict)}}
            for k, d in summary["d"].items()
        ]
        names = sorted({n for r in rows for n in r} - {"database"})
        sections.append(
            (
                "(d) memory with stored conversations",
                rows,
                [("database", "database")] + [(n, n) for n in names],
            )
        )
    if "e" in summary:
        rows = _keyed(summary["e"], "bot")
        names = sorted({n for r in rows for n in r} - {"bot"})
        sections.append(("(e) start-up", rows, [("bot", "bot")] + [(n, n) for n in names]))
    if "f" in summary:
        sections += report_workers.tables(summary["f"])
    sections.append(
        (
            "Targets",
            summary["targets"],
            [("target", "target"), ("figure", "figure"), ("verdict", "verdict")],
        )
    )
    for title, rows, columns in sections:
        out += ["", f"## {title}", ""] + _table(rows, columns)
    return "\n".join(out) + "\n"
