"""`python -m bench.export_rows`: a large export (issue #5 item 6, "100k rows, streamed").

Seeds a fresh SQLite database with N demands (bulk_create), then runs the real command,
`innobridge export demands --format F`, in a child process for each size, and reports its
wall time and peak RSS (getrusage of the children). Streaming shows as a peak RSS that does
not grow with N. Run by hand; the tests check the batching itself (tests/test_exports.py).

Measured here (2 shared cores, SQLite, 2026-11): 10k demands, CSV 4.6 s / XLSX 7.5 s;
100k demands, CSV 29.8 s (15.7 MB) / XLSX 46.3 s (3.9 MB); peak RSS 130 MB in all four,
most of it the interpreter with telegram and matplotlib imported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from models.db import close_database, migrate, open_database
from models.demand_entities import Demand
from models.entities import Organization, OrgKind, Role, User, UserStatus


async def seed(url: str, rows: int) -> None:
    """One enterprise, one user, `rows` demands."""
    await migrate(url)
    await open_database(url)
    try:
        org = await Organization.create(name="如皋精密机械有限公司", kind=OrgKind.ENTERPRISE)
        user = await User.create(
            id=101, real_name="王经理", role=Role.ENTERPRISE, status=UserStatus.ACTIVE
        )
        common = {
            "owner_id": org.id,
            "submitted_by_id": user.id,
            "category": "testing",
            "description": "需要对三批高分子材料样品做红外光谱分析，出具检测报告。" * 3,
            "budget": "under_50k",
            "wanted_by": date(2026, 12, 31),
            "township": "chengnan",
        }
        for start in range(0, rows, 10_000):
            batch = [
                Demand(title=f"红外光谱检测 {i}", **common)
                for i in range(start, min(rows, start + 10_000))
            ]
            await Demand.bulk_create(batch, batch_size=1000)
    finally:
        await close_database()


# The child reports its own peak RSS (ru_maxrss of the children would keep the largest).
_CHILD = (
    "import resource, sys\n"
    "from bot.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def export(url: str, fmt: str, out: Path) -> dict[str, float]:
    """Run `innobridge export` in a child; its wall time and peak RSS (MB)."""
    env = {**os.environ, "INNOBRIDGE_DATABASE_URL": url}
    command = [sys.executable, "-c", _CHILD, "export", "demands", "--format", fmt]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--out", str(out)], env=env, check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return {"seconds": round(wall, 1), "peak_rss_mb": round(peak_kb / 1000, 1)}


def main() -> None:
    """Seed and export each size, print one JSON line per run."""
    parser = argparse.ArgumentParser(prog="python -m bench.export_rows", description=__doc__)
    parser.add_argument("--rows", default="10000,100000", help="sizes, comma-separated")
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="innobridge-bench-export-") as folder:
        for rows in (int(n) for n in args.rows.split(",")):
            url = f"sqlite://{Path(folder) / f'{rows}.sqlite3'}"
            asyncio.run(seed(url, rows))
            for fmt in args.formats.split(","):
                out = Path(folder) / f"demands-{rows}.{fmt}"
                figures = export(url, fmt, out)
                size = round(out.stat().st_size / 1e6, 1)
                print(json.dumps({"rows": rows, "format": fmt, "file_mb": size, **figures}))


if __name__ == "__main__":
    main()
