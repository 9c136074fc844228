"""Settings from the environment (prefix ``MOTCUA_``), with the documented defaults of design §8.

`load_settings()` turns every validation problem into one `SettingsError` line that names the
environment variable and says what is wrong, so start-up stops without a traceback.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "MOTCUA_"
DATABASE_SCHEMES = (
    "sqlite",
    "sqlite+aiosqlite",
    "postgresql",
    "postgresql+asyncpg",
    "postgres",
)


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line meant for an operator."""


def _check_http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value.rstrip("/")


def parse_quiet_hours(value: str) -> tuple[time, time] | None:
    """Parse ``HH:MM-HH:MM`` (local time); ``off`` or empty means no quiet hours."""
    text = value.strip().lower()
    if text in ("", "off", "none"):
        return None
    try:
        start_text, end_text = text.split("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise ValueError("must look like 21:00-07:00, or 'off'") from None
    if start == end:
        raise ValueError("start and end must differ (use 'off' for no quiet hours)")
    return start, end


class Settings(BaseSettings):
    """Every setting motcua reads; see docs/settings.md for the full table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", env_file=None, validate_default=True
    )

    data_dir: Path = Path("data")
    database_url: str = ""
    log_level: str = "INFO"

    case_api_url: str = "http://127.0.0.1:8700"
    case_api_token: SecretStr = SecretStr("dev-token")
    case_api_connect_timeout: float = Field(2.0, gt=0)
    case_api_timeout: float = Field(5.0, gt=0)
    case_api_chat_timeout: float = Field(2.5, gt=0)
    case_events_secret: SecretStr | None = None

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_bot_username: str | None = None
    # Pushes per second. Telegram allows a bot about 30 (more with paid broadcasts); Zalo
    # publishes no firm figure for an Official Account, and the Zalo client spaces all of a
    # process's calls (answers included) at 50/s at most.
    telegram_send_rate: float = Field(30.0, gt=0)
    zalo_send_rate: float = Field(10.0, gt=0, le=50)

    zalo_app_id: str | None = None
    zalo_app_secret: SecretStr | None = None
    zalo_oa_secret: SecretStr | None = None
    zalo_access_token: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zns_api_url: str = "https://business.openapi.zalo.me"
    zns_templates: dict[str, str] = Field(default_factory=dict)
    zalo_info_image_url: str | None = None
    # Seconds a signed Zalo event may be away from now (either way) and still be answered:
    # an older one is a replay, not a citizen waiting.
    zalo_event_max_age: float = Field(600.0, gt=0)

    poll_interval: float = Field(30.0, gt=0)
    quiet_hours: str = "21:00-07:00"
    timezone: str = "Asia/Ho_Chi_Minh"
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    deep_link_secret: SecretStr | None = None
    survey_delay: int = Field(1800, ge=0)
    survey_ttl: int = Field(7 * 24 * 3600, gt=0)
    reminder_days: str = "3,7"

    default_language: str = "vi"
    lookup_limit_per_minute: int = Field(10, gt=0)
    lookup_limit_per_hour: int = Field(60, gt=0)
    pin_attempts_per_dossier: int = Field(5, gt=0)
    pin_attempts_per_user: int = Field(10, gt=0)
    pin_lockout_minutes: int = Field(15, gt=0)

    @field_validator(
        "case_api_url", "telegram_api_url", "zalo_api_url", "zalo_oauth_url", "zns_api_url"
    )
    @classmethod
    def _required_url(cls, value: str) -> str:
        checked = _check_http_url(value)
        if checked is None:
            raise ValueError("must not be empty")
        return checked

    @field_validator("telegram_webhook_url", "zalo_info_image_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        return _check_http_url(value)

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if value == "":
            return value
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                f"unknown database scheme {scheme or value!r}; use sqlite:///path/file.db "
                "or postgresql://user@host/db"
            )
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("reminder_days")
    @classmethod
    def _reminder_days(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError("must be a comma-separated list of positive whole days, e.g. 3,7")
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("vi", "en"):
            raise ValueError("must be vi or en")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if self.database_url == "":
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'motcua.db'}"
        return self

    # ------------------------------------------------------------------ derived values

    @property
    def tz(self) -> ZoneInfo:
        """The local time zone citizens see."""
        return ZoneInfo(self.timezone)

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        """Quiet hours as (start, end) local times, or None."""
        return parse_quiet_hours(self.quiet_hours)

    @property
    def reminder_day_list(self) -> tuple[int, ...]:
        """Days after "ready" on which to remind a citizen who has not collected the result."""
        return tuple(sorted({int(p) for p in self.reminder_days.split(",") if p.strip()}))


def _zns_templates_from_env(environ: dict[str, str]) -> dict[str, str]:
    prefix = f"{ENV_PREFIX}ZNS_TEMPLATE_"
    return {
        key[len(prefix) :].lower(): value
        for key, value in environ.items()
        if key.startswith(prefix) and value
    }


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment; raise SettingsError with one readable line."""
    overrides.setdefault("zns_templates", _zns_templates_from_env(dict(os.environ)))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float) and given != "" else ""
        secretish = any(w in name for w in ("token", "secret"))
        problems.append(f"{ENV_PREFIX}{name.upper()}: {message}{'' if secretish else shown}")
    return "; ".join(problems)
