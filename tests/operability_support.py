"""Helpers of the operability tests: reading /metrics, running the `innobridge` command."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
# Generous bounds on how long a process may take; reaching one is a failure, not a wait.
PROCESS_TIMEOUT = 90.0


async def scrape(url: str) -> Samples:
    """GET /metrics as Prometheus does, parsed with prometheus-client's own parser."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value."""
    return samples[(name, tuple(sorted(labels.items())))]


def environment(**values: str) -> dict[str, str]:
    """This process's environment without any INNOBRIDGE_ variable, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNOBRIDGE_")}
    env.update(PTB_TIMEDELTA="1", **values)
    return env


async def innobridge(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` to the end: (exit status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,  # no developer's .env
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), PROCESS_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
