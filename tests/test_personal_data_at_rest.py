"""Phones encrypted at rest under INNOBRIDGE_SECRET_KEY, and logs without tokens or phones."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from cryptography.fernet import Fernet
from tortoise.connection import get_connection

from bot.config import ConfigError, load_settings
from bot.emulator import BotAPIEmulator
from bot.logs import TextFormatter
from models.crypto import KEYRING, PREFIX, SecretKeyError
from models.entities import Registration, Role, User
from tests.conftest import TOKEN, Harness, approved_enterprise, make_staff, start_bot, stop_bot
from tests.factories import register_enterprise

KEY = Fernet.generate_key().decode()
PHONE = "+8613800000201"


@pytest.fixture
async def keyed(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> AsyncIterator[Harness]:
    """The bot started with INNOBRIDGE_SECRET_KEY set."""
    emulator, server = emulator_server
    harness = Harness(await start_bot(emulator, server, database, secret_key=KEY), emulator)
    yield harness
    await stop_bot(harness.application)
    KEYRING.use(None)
    assert emulator.errors() == []


async def _stored(sql: str) -> list[str]:
    rows = await get_connection("default").execute_query_dict(sql)
    return [str(row["phone"]) for row in rows]


async def test_phones_are_ciphertext_in_the_database_and_phones_in_the_chat(
    keyed: Harness,
) -> None:
    zhang, wang = await approved_enterprise(keyed)
    assert "138****0201" in wang.messages[-1].text  # the card still reads (and masks) it
    for raw in [
        *await _stored("SELECT phone FROM registrations"),
        *await _stored("SELECT phone FROM users WHERE id = 201"),
    ]:
        assert raw.startswith(PREFIX)
        assert "0201" not in raw
    assert (await Registration.get(user_id=201)).phone == PHONE
    assert (await User.get(id=201)).phone == PHONE
    await zhang.send("/mydata")
    assert zhang.last.document is not None
    assert PHONE.encode() in zhang.download(zhang.last.document["file_id"])


async def test_without_a_key_phones_stay_as_they_are(harness: Harness) -> None:
    await approved_enterprise(harness)
    assert await _stored("SELECT phone FROM users WHERE id = 201") == [PHONE]
    assert await _stored("SELECT phone FROM registrations") == [PHONE]


async def test_plain_phones_are_read_and_encrypted_when_saved_again(database: str) -> None:
    # Written before the platform had a key (the migration path).
    await User.create(id=77, first_name="老用户", phone="+8613900139000")
    KEYRING.use(KEY)
    try:
        user = await User.get(id=77)
        assert user.phone == "+8613900139000"
        assert await _stored("SELECT phone FROM users") == ["+8613900139000"]
        await user.save()
        [raw] = await _stored("SELECT phone FROM users")
        assert raw.startswith(PREFIX)
        assert (await User.get(id=77)).phone == "+8613900139000"
        # Read without the key, or with another one: a clear error, never ciphertext shown.
        KEYRING.use(None)
        with pytest.raises(SecretKeyError, match="INNOBRIDGE_SECRET_KEY"):
            await User.get(id=77)
        KEYRING.use("another secret that is long enough to be a key")
        with pytest.raises(SecretKeyError, match="another INNOBRIDGE_SECRET_KEY"):
            await User.get(id=77)
    finally:
        KEYRING.use(None)


def test_the_key_is_checked_when_settings_load() -> None:
    with pytest.raises(ConfigError, match="INNOBRIDGE_SECRET_KEY: .*at least 32 bytes"):
        load_settings(_env_file=None, secret_key="too short")
    fernet = load_settings(_env_file=None, secret_key=KEY)
    passphrase = load_settings(_env_file=None, secret_key="x" * 32)
    assert fernet.secret == KEY and passphrase.secret == "x" * 32
    assert load_settings(_env_file=None).secret is None


async def test_logs_of_a_registration_hold_no_token_phone_or_name(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx at WARNING as bot/logs.configure sets it (first: the last call sets the
    # capturing handler's level too).
    caplog.set_level(logging.WARNING, logger="httpx")
    caplog.set_level(logging.INFO)
    await make_staff(301, Role.REVIEWER, "王审核")
    await make_staff(302, Role.REVIEWER, "李审核")
    wang, li = harness.person(301, "王审核"), harness.person(302, "李审核")
    await wang.send("/start")
    await li.send("/start")
    harness.emulator.block(302)  # deliveries that fail are logged
    zhang = harness.person(201, "张伟")
    await register_enterprise(zhang)
    await zhang.press("✅ 确认提交")
    harness.emulator.block(201)
    await wang.press("✅ 批准")
    await zhang.send("/mydata")
    await zhang.send("/forget")
    await zhang.press("🗑 确认删除")
    logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert any("not delivered to 302" in line for line in logged)
    assert any("applicant 201 not told" in line for line in logged)
    for line in logged:
        assert TOKEN not in line and "0201" not in line and "张伟" not in line, line
    # The two refusals this test arranged (the harness checks that nothing else was refused).
    errors = harness.emulator.error_log
    assert {description for _, _, description in errors} == {
        "Forbidden: bot was blocked by the user"
    }
    errors.clear()


async def test_the_formatter_hides_tokens_and_phones_whatever_logs_them(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # httpx left at INFO: it logs every URL, token included
    person = harness.person(202, "李四")
    await person.send("/start")
    raw = [r.getMessage() for r in caplog.records]
    assert any(TOKEN in line for line in raw)
    formatter = TextFormatter()
    assert not any(TOKEN in formatter.format(r) for r in caplog.records)
    try:
        raise ValueError(f"duplicate key (phone)=({PHONE}) for 13800138000")
    except ValueError:
        logging.getLogger("models").exception("insert failed for %s", PHONE)
    line = formatter.format(caplog.records[-1])
    assert "insert failed for [phone]" in line
    assert "0201" not in line and "13800138000" not in line


async def test_the_bot_does_not_start_without_the_key_of_its_data(
    database: str, emulator_server: tuple[BotAPIEmulator, TestServer]
) -> None:
    KEYRING.use(KEY)
    await User.create(id=78, first_name="x", phone="+8613900139000")
    with pytest.raises(ConfigError, match="INNOBRIDGE_SECRET_KEY: personal data is encrypted"):
        await start_bot(*emulator_server, database)
    application = await start_bot(*emulator_server, database, secret_key=KEY)
    await stop_bot(application)
    KEYRING.use(None)
