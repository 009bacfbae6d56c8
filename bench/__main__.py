"""`python -m bench` (what `make bench` runs): the benchmarks of issue #8.

Writes DIR/results.json (every repetition's figures, the medians, the ratios, the targets)
and DIR/results.md (the tables). See docs/PERFORMANCE.md for the method.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bench.machine import wait_quiet
from bench.report import markdown, summarise
from bench.suite import SECTIONS, Options, Suite

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "bench"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fan-out of 1,000, fewer people")
    parser.add_argument("--runs", type=int, help="repetitions of (a) and (f) (default 3)")
    parser.add_argument("--shipped-runs", type=int, help="runs of (a) with the limiter as shipped")
    parser.add_argument("--users", type=int, help="simulated people per run of (a)")
    parser.add_argument("--concurrency", type=int, help="people acting at once")
    parser.add_argument("--fanout", type=int, help="messages of the fan-out (c)")
    parser.add_argument("--tick-recipients", type=int, help="institutions of the tick (b)")
    parser.add_argument("--tick-runs", type=int, help="repetitions of the tick (b)")
    parser.add_argument("--conversations", type=int, help="stored conversations of (d)")
    parser.add_argument("--returning", type=int, help="people of (d) who come back")
    parser.add_argument("--startup-runs", type=int, help="repetitions of (e)")
    parser.add_argument(
        "--serial-delivery-only",
        action="store_true",
        help="(f) without the rows where the emulator delivers in parallel, as Telegram does",
    )
    parser.add_argument(
        "--experiments",
        default="",
        help="extra rows of (a) with fixes undone (bench/experiments.py): "
        "rows separated by ';', fixes of a row by ','",
    )
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help="any of a,b,c,d,e,f (default all)"
    )
    parser.add_argument(
        "--postgres-db",
        default="innobridge_bench",
        help="PostgreSQL database to (re)create for each run; 'none' for SQLite only",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results go")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for a load average below 1",
    )
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """The Options the command line asks for."""
    changes: dict[str, Any] = {}
    for name in (
        "runs",
        "shipped_runs",
        "users",
        "concurrency",
        "fanout",
        "tick_recipients",
        "tick_runs",
        "conversations",
        "returning",
        "startup_runs",
    ):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections: {sorted(unknown)}")
    changes["sections"] = sections
    if args.serial_delivery_only:
        changes["parallel_delivery"] = False
    changes["experiments"] = tuple(row for row in args.experiments.split(";") if row)
    changes["postgres_db"] = None if args.postgres_db == "none" else args.postgres_db
    return Options.quick_defaults(**changes) if args.quick else Options(**changes)


def write(out: Path, results: dict[str, Any]) -> dict[str, Any]:
    """results.json and results.md in `out`; returns the summary."""
    summary = summarise(results)
    out.mkdir(parents=True, exist_ok=True)
    document = {"summary": summary, "raw": results}
    (out / "results.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    (out / "results.md").write_text(markdown(results, summary), encoding="utf-8")
    return summary


async def _main(args: argparse.Namespace) -> int:
    if args.wait_quiet:
        await wait_quiet(1.0, args.wait_quiet)
    options = options_from(args)
    results = await Suite(options).run()
    summary = write(args.out, results)
    for row in summary["targets"]:
        print(f"{row['verdict']:>12}  {row['target']}: {row['figure']}")
    print(f"bench: results in {args.out}/results.md and results.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(_main(_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
