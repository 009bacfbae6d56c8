"""Fixtures for the browser tests: `innobridge sandbox` on a free port, headless Chromium.

The sandbox runs as its own process, exactly as `make demo` starts it, with its data in the
test's tmp dir; the browser is Debian's /usr/bin/chromium (`.ci/chromium.sh` installs it),
driven by Playwright. Without Chromium the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]  # the checkout under test
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 30
STEP_MS = 10_000  # the longest a user waits for one reaction before the test gives up


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    """`innobridge sandbox` on a free port with a fresh database in tmp_path; its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNOBRIDGE_")}
    env |= {
        "INNOBRIDGE_HTTP_HOST": "127.0.0.1",
        "INNOBRIDGE_HTTP_PORT": str(port),
        "INNOBRIDGE_SANDBOX_DIR": str(tmp_path / "sandbox-data"),
        # this checkout's code, as in the test process: an editable install maps only the
        # packages that existed when it was made
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "PTB_TIMEDELTA": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "sandbox.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        # cwd=tmp_path: a developer's .env in the checkout must not reach the sandbox
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "sandbox"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _ready(f"{base}/readyz"):
            if process.poll() is not None:
                pytest.fail(f"the sandbox exited with {process.returncode}:\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the sandbox was not ready in {STARTUP_SECONDS} s:\n{_log_tail(log)}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)  # the runner stops the bot and the server cleanly
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium; skipped without it, except under CI=true."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing: `bash .ci/chromium.sh` installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Browser, sandbox: str, tmp_path: Path) -> AsyncIterator[Page]:
    """A fresh browser profile on the sandbox page; fails the test on any script error.

    What the page last showed is kept as tmp_path/last-screen.png, to look at after a failure.
    """
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(STEP_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text} {message.location}")
            if message.type == "error"
            else None
        ),
    )
    await page.goto(f"{sandbox}/sandbox")
    yield page
    await page.screenshot(path=tmp_path / "last-screen.png")
    await context.close()
    assert problems == [], "the page reported errors"
