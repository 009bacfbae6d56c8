"""Configuration: environment variables (DESIGN §6) and the platform's TOML file.

Nothing here runs at import time; `load_settings()` is called by the CLI, which turns
`ConfigError` into a message naming the key and the reason.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.crypto import fernet_for
from models.platform import PlatformConfig

DEFAULT_PLATFORM_FILE = Path(__file__).with_name("default_platform.toml")


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the key and the reason."""


def _split_ids(value: Any) -> Any:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        return [p for p in parts if p]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    """Environment variables of DESIGN §6 (prefix INNOBRIDGE_), also read from `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="INNOBRIDGE_", env_file=".env", extra="ignore", validate_default=True
    )

    bot_token: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    database_url: str = "sqlite://innobridge.sqlite3"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    config: Path | None = None
    timezone: str = "Asia/Shanghai"
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    # Where browsers reach this server (the dashboard's login links); default: http_host:port.
    public_url: AnyHttpUrl | None = None
    # Phone numbers are encrypted at rest with it (models/crypto.py); keep it with the backups.
    secret_key: SecretStr | None = None

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_ids(value)

    @field_validator("admin_ids")
    @classmethod
    def _positive_ids(cls, ids: list[int]) -> list[int]:
        if any(i <= 0 for i in ids):
            raise ValueError("Telegram user ids are positive integers")
        return ids

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None:
            bot_id, _, secret = token.get_secret_value().partition(":")
            if not bot_id.isdigit() or len(secret) < 20:
                raise ValueError("expected the form 123456789:AA... given by @BotFather")
        return token

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        if not url.startswith(("sqlite://", "postgres://", "asyncpg://", "psycopg://")):
            raise ValueError("use sqlite://PATH or postgres://USER@HOST:PORT/DB")
        return url

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, secret: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - (setWebhook).
        if secret is not None:
            raw = secret.get_secret_value()
            if not (1 <= len(raw) <= 256) or not all(c.isalnum() or c in "_-" for c in raw):
                raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and -")
        return secret

    @field_validator("secret_key")
    @classmethod
    def _usable_key(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None:
            fernet_for(secret.get_secret_value())  # ValueError says what a key must be
        return secret

    @property
    def secret(self) -> str | None:
        """The encryption secret, or None (personal data then stays as it is)."""
        return self.secret_key.get_secret_value() if self.secret_key else None

    @property
    def bot_api_base_url(self) -> str:
        """The URL prefix python-telegram-bot puts in front of `{token}/{method}`."""
        return f"{str(self.telegram_api_url).rstrip('/')}/bot"

    @property
    def bot_file_base_url(self) -> str:
        """The URL prefix for file downloads."""
        return f"{str(self.telegram_api_url).rstrip('/')}/file/bot"

    @property
    def public_base_url(self) -> str:
        """The origin the dashboard's login links point at."""
        if self.public_url is not None:
            return str(self.public_url).rstrip("/")
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def tz(self) -> ZoneInfo:
        """The platform's time zone."""
        return ZoneInfo(self.timezone)


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(file)"
        if source == "environment":
            key = f"INNOBRIDGE_{key.upper()}"
        lines.append(f"{source}: {key}: {item['msg']}")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and `.env`); raise ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_describe(error, "environment")) from None


def load_platform(path: Path | None) -> PlatformConfig:
    """Read the TOML platform file, or the built-in defaults when no file is given."""
    source = path or DEFAULT_PLATFORM_FILE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"INNOBRIDGE_CONFIG: file {source} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"INNOBRIDGE_CONFIG: cannot read {source}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"INNOBRIDGE_CONFIG: {source} is not valid TOML: {error}") from None
    if path is not None:
        # A platform file may override just some sections; the rest keep their defaults.
        defaults = tomllib.loads(DEFAULT_PLATFORM_FILE.read_text(encoding="utf-8"))
        data = {**defaults, **data}
    try:
        return PlatformConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, f"INNOBRIDGE_CONFIG ({source})")) from None
