"""Rules of the domain without Telegram: credit codes, phones, names, configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_platform, load_settings
from models.credit_code import normalise_credit_code
from models.errors import ValidationFailed
from models.phone import mask_phone, normalise_phone
from models.registration import check_org_name, check_real_name
from tests.factories import VALID_CODE, WRONG_CHECK


def test_credit_code_checksum() -> None:
    assert normalise_credit_code("91350100M000100Y43") == "91350100M000100Y43"  # a published code
    assert normalise_credit_code(f" {VALID_CODE.lower()} ") == VALID_CODE
    for bad, reason in (
        (WRONG_CHECK, "credit_code.checksum"),
        ("123", "credit_code.length"),
        ("91350100M000100YI3", "credit_code.character"),
        ("91AB0100M000100Y43", "credit_code.division"),
    ):
        with pytest.raises(ValidationFailed) as problem:
            normalise_credit_code(bad)
        assert problem.value.message_id == reason


def test_phone_normalised_and_masked() -> None:
    assert normalise_phone("138 0013 8000") == "+8613800138000"
    assert normalise_phone("+86-138-0013-8000") == "+8613800138000"
    assert mask_phone("+8613800138000") == "138****8000"
    with pytest.raises(ValidationFailed):
        normalise_phone("12345")


def test_names() -> None:
    assert check_real_name("  欧阳·娜娜 ") == "欧阳·娜娜"
    assert check_real_name("Mary-Jane O'Neil") == "Mary-Jane O'Neil"
    for bad in ("张", "张三3", "<b>x</b>", "张" * 41):
        with pytest.raises(ValidationFailed):
            check_real_name(bad)
    with pytest.raises(ValidationFailed):
        check_org_name("12")


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INNOBRIDGE_ADMIN_IDS", "12, x")
    with pytest.raises(ConfigError, match="INNOBRIDGE_ADMIN_IDS"):
        load_settings(_env_file=None)
    monkeypatch.setenv("INNOBRIDGE_ADMIN_IDS", "12, 34")
    monkeypatch.setenv("INNOBRIDGE_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError, match="INNOBRIDGE_TIMEZONE"):
        load_settings(_env_file=None)
    monkeypatch.delenv("INNOBRIDGE_TIMEZONE")
    assert load_settings(_env_file=None).admin_ids == [12, 34]


def test_platform_file_errors_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "platform.toml"
    bad.write_text('[review]\nregistration_stages = ["reviewer", "boss"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"review\.registration_stages.*boss"):
        load_platform(bad)
    bad.write_text("townships = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_platform(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_platform(tmp_path / "missing.toml")
    good = tmp_path / "good.toml"
    good.write_text(
        '[review]\nregistration_stages = ["reviewer", "publisher"]\n', encoding="utf-8"
    )
    assert load_platform(good).review.registration_stages == ["reviewer", "publisher"]
