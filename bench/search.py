"""`python -m bench.search`: catalogue search latency over 100k listings on both databases.

Fills a fresh database with N published listings (Chinese and English text drawn from a
vocabulary of instruments, services and achievements), then times the real
`models.catalog_search.search` for a few queries: common and rare, Chinese and English, one
and two terms. On PostgreSQL it measures again with a pg_trgm GIN index when the extension
can be created. Each database runs in its own process (Tortoise caches SQL per dialect).
Results: printed and written to docs/bench/search.json; docs/CATALOG_SEARCH.md discusses them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "bench" / "search.json"
QUERIES = ("光谱", "红外光谱仪", "spectrometer", "电镜 sem", "石墨烯", "钛合金疲劳", "zzqx")
NOUNS = (
    "红外光谱仪",
    "拉曼光谱仪",
    "紫外可见分光光度计",
    "扫描电子显微镜",
    "透射电镜",
    "X射线衍射仪",
    "液相色谱仪",
    "气相色谱质谱联用仪",
    "核磁共振波谱仪",
    "热重分析仪",
    "万能材料试验机",
    "盐雾试验箱",
    "三坐标测量机",
    "激光粒度仪",
    "原子吸收光谱仪",
    "电感耦合等离子体质谱",
)
TOPICS = (
    "高分子材料",
    "锂电池隔膜",
    "石墨烯导热膜",
    "钛合金疲劳",
    "纺织品色牢度",
    "食品添加剂",
    "涂层附着力",
    "精密轴承",
    "中药有效成分",
    "光伏组件",
    "工业机器人减速器",
    "环境水质",
)
ENGLISH = (
    "FTIR spectrometer",
    "Raman spectrometer",
    "SEM scanning electron microscope",
    "XRD",
    "HPLC",
    "GC-MS",
    "NMR",
    "TGA",
    "universal testing machine",
    "salt spray chamber",
    "CMM",
    "laser particle sizer",
    "ICP-MS",
    "fatigue test",
    "thin film",
    "battery separator",
)
TOWNS = ("chengnan", "chengbei", "jiuhua", "dongchen", "baipu", "hi_tech_zone")


def _text(rng: random.Random) -> tuple[str, str]:
    noun = rng.choice(NOUNS)
    title = f"{rng.choice(TOPICS)}{noun}"[:60]
    body = "，".join(rng.sample(TOPICS, 3)) + "。" + " ".join(rng.sample(ENGLISH, 3))
    return title, f"{body} {rng.choice(NOUNS)}检测服务，出具报告。"


async def _fill(count: int) -> None:
    from models.catalog_search import normalise
    from models.entities import InstitutionTier, Organization, OrgKind, OrgStatus
    from models.listing_entities import Listing, ListingKind, ListingStatus

    org = await Organization.create(
        name="南通检测中心",
        kind=OrgKind.INSTITUTION,
        tier=InstitutionTier.SERVICE,
        status=OrgStatus.ACTIVE,
        township="chengnan",
    )
    rng = random.Random(9)
    kinds = list(ListingKind)
    batch: list[Listing] = []
    for n in range(count):
        title, body = _text(rng)
        batch.append(
            Listing(
                kind=kinds[n % 3],
                owner_id=org.id,
                status=ListingStatus.PUBLISHED,
                title=title,
                category="testing",
                township=rng.choice(TOWNS),
                details={"description": body},
                search_text=normalise(f"{title} 检验检测 testing {org.name} {body}"),
            )
        )
        if len(batch) == 5000:
            await Listing.bulk_create(batch)
            batch = []
    if batch:
        await Listing.bulk_create(batch)


async def _time(query: str, runs: int) -> dict[str, Any]:
    from models.catalog_search import search

    times, total = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        _, total = await search(query, offset=0, limit=5)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "query": query,
        "matches": total,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
    }


async def _measure(url: str, count: int, runs: int) -> dict[str, Any]:
    from tortoise import Tortoise

    from models.db import close_database, migrate, open_database

    await migrate(url)
    await open_database(url)
    try:
        connection = Tortoise.get_connection("default")
        if not url.startswith("sqlite"):
            # Measured first without the trigram index that migration 0008 makes when it can.
            await connection.execute_script("DROP INDEX IF EXISTS listings_search_trgm")
        started = time.perf_counter()
        await _fill(count)
        result: dict[str, Any] = {
            "listings": count,
            "fill_s": round(time.perf_counter() - started, 1),
            "like": [await _time(q, runs) for q in QUERIES],
        }
        if url.startswith("sqlite"):
            result["sqlite_version"] = sqlite3.sqlite_version
        else:
            result["pg_trgm"] = await _with_trigrams(connection, runs)
        return result
    finally:
        await close_database()


async def _with_trigrams(connection: Any, runs: int) -> dict[str, Any]:
    try:
        await connection.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        await connection.execute_script(
            "CREATE INDEX IF NOT EXISTS listings_search_trgm"
            " ON listings USING gin (search_text gin_trgm_ops)"
        )
        await connection.execute_script("ANALYZE listings")
    except Exception as error:  # noqa: BLE001 - the bench reports what the server refused
        return {"available": False, "error": str(error)}
    _, plan = await connection.execute_query(
        "EXPLAIN SELECT id FROM listings WHERE CAST(search_text AS VARCHAR) LIKE '%光谱%'"
    )
    return {
        "available": True,
        "plan_uses_index": any("trgm" in str(row) for row in plan),
        "like": [await _time(q, runs) for q in QUERIES],
    }


def _child(url: str, count: int, runs: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.search",
            "--one",
            url,
            "--listings",
            str(count),
            "--runs",
            str(runs),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Both databases, each in a child process; print and save the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(_measure(args.one, args.listings, args.runs))))
        return
    from bench.databases import fresh_postgres

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        results["sqlite"] = _child(f"sqlite://{work}/search.sqlite3", args.listings, args.runs)
    pg = fresh_postgres("innobridge_bench_search")
    if pg:
        results["postgres"] = _child(pg, args.listings, args.runs)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
