"""Fresh databases for each measured run, and the child processes that fill them."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from bench.processes import ROOT

_serial = itertools.count(1)


def fresh_sqlite(workdir: Path) -> str:
    """A new, empty SQLite file (the bot migrates it)."""
    return f"sqlite://{workdir / f'bench-{next(_serial)}.sqlite3'}"


def fresh_postgres(database: str) -> str | None:
    """Drop and create the PostgreSQL database (starting the server if needed), or None."""
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "postgres.sh"), database],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    url = done.stdout.strip()
    if done.returncode != 0 or not url:
        print(f"bench: no PostgreSQL ({done.stderr.strip()})", file=sys.stderr)
        return None
    return url


def _sink(log: Path | None) -> IO[bytes]:
    return open(log or os.devnull, "ab")  # noqa: SIM115 — closed by the caller's with


def tail_of(log: Path) -> str:
    """The end of a log, for an error message."""
    return log.read_text(errors="replace")[-3000:]


async def child(module: str, *args: str | int, log: Path | None = None) -> dict[str, Any]:
    """Run `python -m module args...` and return the JSON object of its last stdout line.

    Its log (stderr) goes to `log`, or is dropped: a tick may log a line per recipient.
    """
    with _sink(log) as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *(str(a) for a in args),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=sink,
        )
        out, _ = await process.communicate()
    if process.returncode != 0:
        tail = tail_of(log) if log else "(no log kept)"
        raise RuntimeError(f"{module} {args} failed ({process.returncode}):\n{tail}")
    lines = out.decode().strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1])
    return result


async def seed(
    database_url: str, what: str, first: int, count: int, log: Path | None = None
) -> dict[str, Any]:
    """bench/seed.py in a child process."""
    return await child("bench.seed", database_url, what, first, count, log=log)
