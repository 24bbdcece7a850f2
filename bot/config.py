"""Settings from the environment and an optional `.env` (pydantic-settings).

A bad or missing value stops start-up with one line naming the variable and what is
wrong (see `load_settings`), never a traceback.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import programs

TELEGRAM_API = "https://api.telegram.org"


class SettingsError(Exception):
    """One line for the operator: which variable and what is wrong."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///loyalty.db"
    telegram_api_url: str = TELEGRAM_API
    owner_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    staff_chat_id: int | None = None
    program_file: Path = Field(default_factory=programs.default_path)  # a file, or a shipped program's name
    timezone: str = "Europe/Moscow"
    redis_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port (tests)
    partner_api_base: str = Field(default="/partner/v2", pattern=r"^/[A-Za-z0-9_/.-]*$")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    send_rate: float = Field(default=25.0, gt=0, le=30)  # messages per second overall
    group_messages_per_minute: int = Field(default=20, ge=1, le=60)  # to one group (the staff group)
    # How long a notification is retried through a Telegram outage before it is `failed`.
    outbox_retry_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    log_level: str = "INFO"
    # The personal-data policy linked at registration; overrides the program's business.policy_url.
    privacy_policy_url: str | None = Field(default=None, pattern=r"^https?://[^\s<>\"]{3,490}$")
    phone_region: str = "RU"  # how numbers typed without "+" are read (models/kernel/phone.py)
    phone_hash_key: SecretStr | None = None  # keys the fingerprints kept after erasure (models/kernel/phone_key.py)
    phone_hash_key_file: Path | None = None  # default: next to the SQLite file, or ./phone-hash.key

    def policy_url(self, program_url: str) -> str:
        """The privacy-policy link customers see: PRIVACY_POLICY_URL, else the program's."""
        return self.privacy_policy_url or program_url

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            # [0-9] only: int() would also read "١٢٣" as an id.
            if not all(re.fullmatch(r"-?[0-9]{1,19}", p) for p in parts):
                raise ValueError("must be Telegram user ids separated by commas")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use a name like Europe/Moscow)") from exc
        return value

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            token = value.get_secret_value()
            head, _, tail = token.partition(":")
            if not re.fullmatch(r"[0-9]{1,20}", head) or len(tail) < 10:
                raise ValueError("does not look like a bot token from @BotFather (123456:ABC...)")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite+aiosqlite:/// or postgresql+asyncpg:// URL")
        try:
            make_url(value)
        except (ArgumentError, ValueError):  # never repeat the value: it may hold a password
            raise ValueError("is not a valid URL (sqlite+aiosqlite:///FILE or "
                             "postgresql+asyncpg://user:password@host[:port]/db)") from None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https://[^/?#\s]+", value):
            raise ValueError("must be an https:// URL (Telegram calls webhooks only over HTTPS)")
        return value or None

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
                raise ValueError("must be 1-256 characters of A-Z a-z 0-9 _ -")
            return value
        return None

    @field_validator("phone_region")
    @classmethod
    def _phone_region(cls, value: str) -> str:
        from models.kernel import valid_region

        region = valid_region(value)
        if region is None:
            raise ValueError(f"unknown country {value!r} (a two-letter code like RU, KZ, BY)")
        return region

    @field_validator("phone_hash_key")
    @classmethod
    def _phone_hash_key(cls, value: SecretStr | None) -> SecretStr | None:
        from models.kernel import MIN_KEY_LENGTH

        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < MIN_KEY_LENGTH:  # never repeat the value
            raise ValueError(f"must be at least {MIN_KEY_LENGTH} characters "
                             "(or leave it unset: `loyalty-bot migrate` creates a key file)")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("program_file")
    @classmethod
    def _program(cls, value: Path) -> Path:
        path = programs.resolve(value)
        if not path.is_file():
            raise ValueError(f"no such file: {value} (shipped programs: {', '.join(programs.names())})")
        return path

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def phone_key_path(self) -> Path:
        from models.kernel import default_key_path

        return self.phone_hash_key_file or default_key_path(self.database_url)

    @property
    def is_real_telegram(self) -> bool:
        return self.telegram_api_url.rstrip("/") == TELEGRAM_API


def load_settings(**overrides: object) -> Settings:
    """Read the settings; raise SettingsError with one line per bad variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "settings"
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("; ".join(lines)) from None
    logging.getLogger().setLevel(settings.log_level)  # LOG_LEVEL, for every command that reads the settings
    return settings


def configure_phones(settings: Settings, *, create: bool = False) -> None:
    """Set PHONE_REGION and the phone hash key once at start (models/kernel/phone.py, models/kernel/phone_key.py).

    Only `migrate`, `run` and the sandbox pass `create`: they write a missing key file (mode
    0600); any other command without a key stops with one line saying how to get one.
    """
    from models.kernel import PhoneKeyError, configure, load_key, set_region

    set_region(settings.phone_region)
    secret = settings.phone_hash_key.get_secret_value() if settings.phone_hash_key else None
    try:
        key = load_key(settings.database_url, key=secret, key_file=settings.phone_key_path,
                                 create=create)
    except PhoneKeyError as exc:
        raise SettingsError(str(exc)) from None
    configure(key)
