"""The machine and software a run was measured on, and waiting for it to be quiet."""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
import subprocess
import sys
import time
from importlib import metadata
from typing import Any

from bench.stats import load_average

PACKAGES = ("python-telegram-bot", "tortoise-orm", "aiohttp", "aiosqlite", "asyncpg", "httpx")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgres_version(url: str | None) -> str | None:
    if not url:
        return None
    done = subprocess.run(
        ["psql", url, "-tAc", "SHOW server_version"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def describe(postgres_url: str | None) -> dict[str, Any]:
    """CPU, cores, memory, Python and library versions."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(pages / 2**30, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(postgres_url),
        "packages": versions,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_at_start": round(load_average(), 2),
    }


async def wait_quiet(threshold: float, longest: float) -> float:
    """Wait (at most `longest` seconds) for the 1-minute load average to drop below
    `threshold`; returns the load average when done waiting."""
    deadline = time.monotonic() + longest
    while load_average() >= threshold and time.monotonic() < deadline:
        print(f"bench: load average {load_average():.2f}, waiting for < {threshold}", flush=True)
        await asyncio.sleep(min(30.0, max(deadline - time.monotonic(), 0.1)))
    return load_average()
