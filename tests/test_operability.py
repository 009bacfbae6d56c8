"""Operability (issue #7 item 7): /metrics and structured logs, as an operator sees them.

Metrics are read the way Prometheus reads them: GET /metrics on the web app that shares its
registry with the bot, parsed with prometheus-client's own parser. Logs are read as the
service writes them: JSON lines through bot/logs.py's handler. Backup and doctor:
tests/test_operability_tools.py; `innobridge run` as a process: tests/test_operability_run.py.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from telegram import Update
from telegram.ext import Application
from tortoise import Tortoise

from bot import logs
from bot.config import ConfigError, Settings
from bot.emulator import BotAPIEmulator
from bot.metrics import metrics_of
from bot.runner import start_webhook
from bot.web import create_web_app
from bot.webhook import WEBHOOK_PATH
from models import deliveries, inbox, reminders
from scheduler.engine import ENGINE, ReminderEngine
from tests.conftest import TOKEN, Harness, start_bot, stop_bot
from tests.delivery_support import ZONE, Clock, institutions, local, platform_with
from tests.demand_support import matched_demand
from tests.lifecycle_support import cast
from tests.operability_support import Samples, value
from tests.operability_support import scrape as scrape_url


def _settings(api: TestServer, database: str, **more: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_url=str(api.make_url("")),
        database_url=database,
        **more,
    )


@pytest.fixture
async def scrape(
    harness: Harness, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> AsyncIterator[Any]:
    """GET /metrics of a web app sharing the harness bot's metrics, parsed."""
    _, api = emulator_server
    web_app = create_web_app(_settings(api, "sqlite://unused"), metrics_of(harness.application))
    server = TestServer(web_app)
    await server.start_server()

    async def get() -> Samples:
        return await scrape_url(str(server.make_url("/metrics")))

    yield get
    await server.close()


@pytest.fixture
def service_log() -> Iterator[io.StringIO]:
    """What `innobridge run` writes: JSON lines at INFO, httpx at WARNING."""
    buffer = io.StringIO()
    root, httpx = logging.getLogger(), logging.getLogger("httpx")
    before = root.level, httpx.level
    installed = logs.handler("json", buffer)
    root.addHandler(installed)
    root.setLevel(logging.INFO)
    httpx.setLevel(logging.WARNING)
    yield buffer
    root.removeHandler(installed)
    root.setLevel(before[0])
    httpx.setLevel(before[1])


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def last_update_id(harness: Harness) -> int:
    return harness.emulator.bot(TOKEN).updates.last_id


# --- metrics ------------------------------------------------------------------------------


async def test_each_update_is_counted_by_kind_and_timed(harness: Harness, scrape: Any) -> None:
    before = await scrape()
    assert value(before, "innobridge_updates_total", kind="message", outcome="ok") == 0
    zhang = harness.person(101, "张伟")
    await zhang.send("/start")
    await zhang.press("企业用户")
    assert "第 2 步，共 6 步" in zhang.last.text
    # An edited message, as Telegram sends when someone corrects a typo: kind "other".
    edited = {
        "update_id": 90_001,
        "edited_message": {
            "message_id": 1,
            "date": int(datetime.now(UTC).timestamp()),
            "edit_date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": 101, "type": "private", "first_name": "张伟"},
            "from": {"id": 101, "is_bot": False, "first_name": "张伟"},
            "text": "/start",
        },
    }
    await harness.application.process_update(Update.de_json(edited, harness.application.bot))

    after = await scrape()
    for kind in ("message", "callback_query", "other"):
        assert value(after, "innobridge_updates_total", kind=kind, outcome="ok") == 1
        assert value(after, "innobridge_updates_total", kind=kind, outcome="error") == 0
        assert value(after, "innobridge_handler_seconds_count", kind=kind) == 1
        assert value(after, "innobridge_handler_seconds_bucket", kind=kind, le="+Inf") == 1
    assert value(after, "innobridge_handler_seconds_sum", kind="message") > 0
    assert value(after, "innobridge_database_up") == 1
    assert value(after, "innobridge_inbox_depth") == 0


async def test_inbox_depth_is_read_from_the_database_at_each_scrape(
    harness: Harness, scrape: Any
) -> None:
    for update_id, chat in ((70, 7), (71, 7), (72, 8)):
        await inbox.store({"update_id": update_id, "message": {"chat": {"id": chat}}})
    assert value(await scrape(), "innobridge_inbox_depth") == 3
    now = datetime.now(UTC)
    for row in await inbox.claim("worker", now, timedelta(minutes=5), limit=10):
        await inbox.finish(row.update_id, "worker", now)
    assert value(await scrape(), "innobridge_inbox_depth") == 1  # chat 7's second waits


async def test_a_failing_update_counts_as_an_error_is_logged_with_its_id_and_apologised_for(
    harness: Harness, scrape: Any, service_log: io.StringIO
) -> None:
    connection = Tortoise.get_connection("default")
    # The conversation store is gone (a botched manual change): /start cannot work.
    await connection.execute_script('ALTER TABLE "conversations" RENAME TO "conversations_away"')
    try:
        zhang = harness.person(101, "张伟")
        await zhang.send("/start")
    finally:
        await connection.execute_script(
            'ALTER TABLE "conversations_away" RENAME TO "conversations"'
        )
    assert zhang.last.text == "抱歉，处理时出错了。您已填写的内容都已保存，请稍后再试。"
    samples = await scrape()
    assert value(samples, "innobridge_updates_total", kind="message", outcome="error") == 1
    assert value(samples, "innobridge_updates_total", kind="message", outcome="ok") == 0

    [failure] = [line for line in lines(service_log) if line["msg"] == "update failed"]
    assert failure["level"] == "ERROR"
    assert failure["update_id"] == last_update_id(harness)
    assert failure["kind"] == "message"
    assert "conversations" in failure["exc"]  # the traceback names what broke

    await zhang.send("/start")  # repaired: the same person carries on
    assert "请选择您的身份" in zhang.last.text


async def test_reminder_ticks_are_counted_by_outcome(harness: Harness, scrape: Any) -> None:
    people = await institutions(3)
    for person in people:
        await harness.person(person.id, person.real_name or "").send("/start")
    # The bot's own engine, told to run only the annual report, on the test's clock.
    sender: ReminderEngine = harness.application.bot_data[ENGINE]
    sender.config = platform_with().reminders
    clock = Clock(local(3, 24, 22, 30))  # quiet hours
    sender.clock = clock
    await sender.tick()
    # The 7-days notice was claimed by a sender that died; the platform was down two days.
    due = local(3, 24, 9, 0, 30)
    grace = timedelta(hours=sender.config.grace_hours)
    ids = await deliveries.record(
        await reminders.due_between(sender.config, ZONE, due - grace, due), due, grace
    )
    await deliveries.claim(ids, "dead-sender", due, timedelta(minutes=5))
    clock.set(due + timedelta(hours=47))
    await sender.tick()
    clock.set(local(3, 30, 9, 0, 30))  # the 1-day notice goes out
    await sender.tick()

    samples = await scrape()
    assert value(samples, "innobridge_reminder_ticks_total", quiet="true") == 1
    assert value(samples, "innobridge_reminder_ticks_total", quiet="false") == 2
    assert value(samples, "innobridge_reminders_total", outcome="skipped") == 3
    assert value(samples, "innobridge_reminders_total", outcome="sent") == 3
    assert value(samples, "innobridge_reminders_total", outcome="failed") == 0
    assert value(samples, "innobridge_reminders_total", outcome="retried") == 0


async def test_a_webhook_worker_counts_what_it_takes_from_the_inbox(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    emulator, api = emulator_server
    application: Application = await start_bot(emulator, api, database)  # type: ignore[type-arg]
    emulator.deliver = None  # through the webhook
    settings = _settings(api, database, webhook_secret="metrics-test-secret")
    web_app = create_web_app(settings, metrics_of(application))
    server = TestServer(web_app)
    await server.start_server()
    await application.start()
    settings.webhook_url = server.make_url(WEBHOOK_PATH)  # type: ignore[assignment]
    processor = await start_webhook(settings, application, web_app)
    try:
        emma = emulator.user(502, first_name="Emma", language_code="en")
        await emma.send("/start")
        await emma.press("Enterprise")
        assert "Step 2 of" in emma.last.text
        samples = await scrape_url(str(server.make_url("/metrics")))
    finally:
        await processor.stop()
        await application.stop()
        await stop_bot(application)
        await server.close()
    assert value(samples, "innobridge_inbox_processed_total", outcome="done") == 2
    assert value(samples, "innobridge_inbox_processed_total", outcome="released") == 0
    assert value(samples, "innobridge_updates_total", kind="callback_query", outcome="ok") == 1
    assert value(samples, "innobridge_inbox_depth") == 0
    assert emulator.errors() == []


# --- structured logs ----------------------------------------------------------------------


async def test_a_refusal_is_logged_with_the_update_and_the_demands_reference(
    harness: Harness, service_log: io.StringIO
) -> None:
    c = await cast()
    demand = await matched_demand(c.owner, c.reviewer, c.inst)
    rival = harness.person(c.rival.id, "赵工")
    await rival.send("/start")
    # The rival's old recommendation card: "I can help" on a demand matched meanwhile.
    await rival.press_data(f"mk:h:{demand.id}", message_id=rival.last.message_id)
    assert demand.reference in rival.callback_answers[-1]["text"]

    [refusal] = [line for line in lines(service_log) if line["msg"].startswith("refused")]
    assert refusal == {
        "ts": refusal["ts"],
        "level": "INFO",
        "logger": "handlers.context",
        "msg": "refused: intent.not_open",
        "update_id": last_update_id(harness),
        "kind": "callback_query",
        "ref": demand.reference,
    }


async def test_a_reference_typed_by_the_user_names_the_line(
    harness: Harness, service_log: io.StringIO
) -> None:
    stranger = harness.person(401, "陈总")
    await stranger.send("/start")
    await stranger.send("/demand D2026-000777")
    [refusal] = [line for line in lines(service_log) if line["msg"].startswith("refused")]
    assert refusal["msg"] == "refused: demand.not_found"
    assert refusal["ref"] == "D2026-000777"
    assert refusal["update_id"] == last_update_id(harness)


async def test_no_token_and_no_phone_number_in_anything_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    everything = io.StringIO()
    installed = logs.handler("json", everything)
    logging.getLogger().addHandler(installed)
    try:
        with caplog.at_level(logging.DEBUG):  # every library's every line, httpx included
            zhang = harness.person(101, "张伟")  # phone +86 138 0000 0101
            await zhang.send("/start")
            await zhang.press("企业用户")
            await zhang.send("张伟")
            await zhang.share_contact()
            await zhang.send("13912345678 是我的另一个号码")
            await zhang.send("如皋市星火科技有限公司")
    finally:
        logging.getLogger().removeHandler(installed)
    assert "统一社会信用代码" in zhang.last.text  # the flow went through the phone step
    raw = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert TOKEN in raw  # httpx names the token in each request URL: the danger is real
    written = everything.getvalue()
    assert all(json.loads(line) for line in written.splitlines())
    for secret in (TOKEN, TOKEN.split(":")[1], "13800000101", "13912345678"):
        assert secret not in written
    assert "[token]" in written


async def test_at_the_service_level_no_line_carries_the_token_or_a_phone_number(
    harness: Harness, caplog: pytest.LogCaptureFixture, service_log: io.StringIO
) -> None:
    with caplog.at_level(logging.INFO):
        zhang = harness.person(101, "张伟")
        await zhang.send("/start")
        await zhang.press("企业用户")
        await zhang.send("张伟")
        await zhang.share_contact()
        await zhang.send("如皋市星火科技有限公司")
    # At the source, before any masking: nothing at INFO or above names them.
    for record in caplog.records:
        text = f"{record.getMessage()} {record.exc_text or ''}"
        assert TOKEN.split(":")[1] not in text
        assert "13800000101" not in text


def test_masking_keeps_ids_and_dates_and_hides_tokens_and_phones() -> None:
    masked = logs.redact(
        f"POST http://x/bot{TOKEN}/sendMessage update 123456789 on 2026-03-31 "
        "tel +8613800000101, 139 1234 5678, 139-1234-5678, +44 7700 900123"
    )
    assert masked == (
        "POST http://x/bot[token]/sendMessage update 123456789 on 2026-03-31 "
        "tel [phone], [phone], [phone], [phone]"
    )


def test_the_log_format_is_chosen_by_the_environment_and_text_lines_carry_the_context(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("httpx").level
    try:
        monkeypatch.setenv("INNOBRIDGE_LOG_FORMAT", "text")
        buffer = io.StringIO()
        logs.configure("json", stream=buffer)  # `innobridge run`'s default, overridden
        with logs.log_context(update_id=41, kind="message"):
            logs.bind(ref="D2026-000041")
            logging.getLogger("handlers.market").info("offer by +8613800000101 refused")
        logging.getLogger("bot.runner").info("outside any update")
        first, second = buffer.getvalue().splitlines()
        assert first.endswith(
            "INFO handlers.market: offer by [phone] refused "
            "[update_id=41 kind=message ref=D2026-000041]"
        )
        assert second.endswith("INFO bot.runner: outside any update")

        monkeypatch.setenv("INNOBRIDGE_LOG_FORMAT", "xml")
        with pytest.raises(ConfigError, match="INNOBRIDGE_LOG_FORMAT: expected text or json"):
            logs.configure("json", stream=buffer)
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(saved[2])
