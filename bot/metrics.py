"""Prometheus metrics (issue #7 item 7), served at `GET /metrics` (bot/web.py).

Each web app and Application pair shares one `Metrics` with a registry of its own rather
than prometheus-client's global one, so that several bots in one process (the tests, two
workers in one test) never meet a "Duplicated timeseries" error.

Updates are measured by overriding `Application.process_update` in a subclass, installed
with `ApplicationBuilder.application_class` (PTB's documented way to customise the
Application). Every path goes through that method: long polling, the webhook inbox and the
tests' in-process delivery; it sees the whole of an update's processing, error handler
included. A pair of TypeHandlers in groups -1 and 99 would miss the time after a handler
raised and could not tell an update that failed from one that did not.
"""

from __future__ import annotations

import contextvars
import math
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram import Update
from telegram.ext import Application, Job

from bot.logs import bind, log_context, references_in
from bot.webhook import RETRY_UPDATES
from models import inbox
from models.errors import DomainError
from scheduler.engine import TickReport

KINDS = ("message", "callback_query", "other")
OUTCOMES = ("ok", "error")
REMINDER_OUTCOMES = ("sent", "failed", "retried", "skipped", "lost")
# Handlers wait on the database and the Bot API: from a few milliseconds to a slow upload.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The bot's metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "innobridge_updates",
            "Updates processed, by kind and outcome (error: a handler raised)",
            ["kind", "outcome"],
            registry=r,
        )
        self.handler_seconds = Histogram(
            "innobridge_handler_seconds",
            "Time to process one update, error handler included",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.reminders = Counter(
            "innobridge_reminders",
            "Reminder deliveries by outcome (lost: another sender claimed it meanwhile)",
            ["outcome"],
            registry=r,
        )
        self.reminder_ticks = Counter(
            "innobridge_reminder_ticks",
            "Ticks of the reminder engine (quiet: deferred by quiet hours)",
            ["quiet"],
            registry=r,
        )
        self.inbox_processed = Counter(
            "innobridge_inbox_processed",
            "Webhook updates taken from the inbox (done, or released for another try)",
            ["outcome"],
            registry=r,
        )
        self.inbox_depth = Gauge(
            "innobridge_inbox_depth",
            "Webhook updates stored and not yet processed, read at scrape time",
            registry=r,
        )
        self.database_up = Gauge(
            "innobridge_database_up", "1 if the database answered at the last scrape", registry=r
        )
        # Every series exists from the start, so that rate() sees the first increase.
        for kind in KINDS:
            self.handler_seconds.labels(kind)
            for outcome in OUTCOMES:
                self.updates.labels(kind, outcome)
        for outcome in REMINDER_OUTCOMES:
            self.reminders.labels(outcome)
        for quiet in ("true", "false"):
            self.reminder_ticks.labels(quiet)
        for outcome in ("done", "released"):
            self.inbox_processed.labels(outcome)
        self.inbox = False  # the runner sets it in webhook mode, where updates come from there

    def observe_tick(self, report: TickReport) -> None:
        """Count what one tick of the reminder engine did."""
        self.reminder_ticks.labels("true" if report.quiet else "false").inc()
        for outcome in REMINDER_OUTCOMES:
            self.reminders.labels(outcome).inc(getattr(report, outcome))

    async def exposition(self) -> bytes:
        """The text exposition, with the gauges that are read from the database now."""
        try:
            self.inbox_depth.set(await inbox.depth())
            self.database_up.set(1)
        except Exception:  # noqa: BLE001 — a scrape reports the outage, it does not fail
            self.inbox_depth.set(math.nan)
            self.database_up.set(0)
        return generate_latest(self.registry)


def kind_of(update: object) -> str:
    """The label of an update: message, callback_query or other."""
    if isinstance(update, Update):
        if update.message is not None:
            return "message"
        if update.callback_query is not None:
            return "callback_query"
    return "other"


@dataclass
class _Processing:
    update: object
    failed: bool = False


_CURRENT: contextvars.ContextVar[_Processing | None] = contextvars.ContextVar(
    "innobridge_update", default=None
)


class InstrumentedApplication(Application[Any, Any, Any, Any, Any, Any]):
    """The Application, measuring each update and giving its log lines their context."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    async def process_update(self, update: object) -> None:
        """Process as PTB does, inside a log context; count and time the update."""
        kind = kind_of(update)
        update_id = update.update_id if isinstance(update, Update) else None
        current = _Processing(update)
        token = _CURRENT.set(current)
        started = time.perf_counter()
        try:
            with log_context(update_id=update_id, kind=kind, ref=_reference(update)):
                await super().process_update(update)
        except BaseException:
            current.failed = True
            raise
        finally:
            _CURRENT.reset(token)
            m = self.metrics
            m.handler_seconds.labels(kind).observe(time.perf_counter() - started)
            m.updates.labels(kind, "error" if current.failed else "ok").inc()
            if m.inbox and update_id is not None:
                retry = update_id in self.bot_data.get(RETRY_UPDATES, ())
                m.inbox_processed.labels("released" if retry else "done").inc()

    async def process_error(
        self,
        update: object | None,
        error: Exception,
        job: Job[Any] | None = None,
        coroutine: Any = None,
    ) -> bool:
        """Mark the update as failed and name its record before the error handler logs."""
        current = _CURRENT.get()
        if current is not None and update is current.update:
            current.failed = True
        if isinstance(error, DomainError):
            bind(ref=error.params.get("reference"))
        return await super().process_error(update, error, job, coroutine)


def _reference(update: object) -> str | None:
    if not isinstance(update, Update):
        return None
    message = update.effective_message
    query = update.callback_query
    return references_in(
        message.text if message else None,
        message.caption if message else None,
        query.data if query and isinstance(query.data, str) else None,
    )


def metrics_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Metrics:
    """The metrics of an Application built by bot/app.py."""
    if not isinstance(application, InstrumentedApplication):
        raise TypeError("not built by bot.app.build_application")
    return application.metrics
