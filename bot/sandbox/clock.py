"""The sandbox's calendar: skip days ahead, so a visitor can see what time settles.

A public notice (公示) of a tier promotion or of the evaluation lasts days (Shenyang art. 7,
Shanghai art. 22); a demand expires after its wanted-by date. In production the daily jobs
(scheduler/daily.py) settle these after midnight. Here `POST /sandbox/clock` with
{"days": N} runs the same jobs as of N more days from now, through the same domain
functions and the same notifier, and answers what changed. Only the sandbox has this route.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.web import BOT_READY, SETTINGS
from scheduler import daily

MAX_DAYS = 60
SKIPPED = web.AppKey("sandbox_days_skipped", dict)


def add_clock_routes(app: web.Application) -> None:
    """POST /sandbox/clock {"days": N}: the daily jobs as of N more days ahead."""
    app[SKIPPED] = {"days": 0}
    app.router.add_post("/sandbox/clock", skip)


async def skip(request: web.Request) -> web.Response:
    """Advance the sandbox's calendar by 1 to 60 days and run the daily jobs on that day."""
    try:
        body: Any = await request.json(loads=json.loads)
        days = body.get("days") if isinstance(body, dict) else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        days = None
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        return web.json_response(
            {"error": f"days must be a whole number from 1 to {MAX_DAYS}"}, status=400
        )
    application = request.app[BOT_READY].get("application")
    if application is None:
        return web.json_response({"error": "the bot is not running yet"}, status=503)
    skipped = request.app[SKIPPED]
    skipped["days"] += days
    today = datetime.now(request.app[SETTINGS].tz).date() + timedelta(days=skipped["days"])
    changes = {job.name: await daily.run_on(application, job, today) for job in daily.JOBS}
    return web.json_response({"date": today.isoformat(), "changes": changes})
