"""The sandbox's reminder engine is paced for a visitor: a broadcast or an evaluation's
results arrive within seconds, at any hour. Production keeps its own pace and quiet hours."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from bot.config import load_platform
from bot.sandbox import build_sandbox


def test_the_sandbox_engine_ticks_every_5_seconds_without_quiet_hours(tmp_path: Path) -> None:
    _, platform, _, _ = build_sandbox(tmp_path)
    assert platform.reminders.tick_seconds == 5
    for hour in (0, 7, 12, 21, 23):
        assert not platform.reminders.is_quiet(time(hour, 30))
    # An evaluation's results are told when published, not at 09:00 (test_sandbox_year).
    assert platform.reminders.evaluation.send_at == time(0, 0)
    production = load_platform(None).reminders
    assert production.evaluation.send_at == time(9, 0)
    assert production.tick_seconds == 60
    assert production.is_quiet(time(23, 30))
    # the rest of the platform is the configured one
    assert platform.evaluation == load_platform(None).evaluation
