"""Settings from the environment (prefix ``MOTCUA_``), with the documented defaults of design §8.

`load_settings()` turns every validation problem into one `SettingsError` line that names the
environment variable and says what is wrong, so start-up stops without a traceback.
"""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.messages import Channel
from bot.wording import DEFAULT_OFFICE_NAME

ENV_PREFIX = "MOTCUA_"
DATABASE_SCHEMES = (
    "sqlite",
    "sqlite+aiosqlite",
    "postgresql",
    "postgresql+asyncpg",
    "postgres",
)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
TELEGRAM_CLOUD_API = "https://api.telegram.org"
# What Telegram accepts as `secret_token` of setWebhook.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

# Settings that hold a secret: each may instead be read from a file named by `<NAME>_FILE`
# (Docker and systemd credentials), so the secret never sits in the environment.
SECRET_SETTINGS = (
    "database_url",
    "case_api_token",
    "case_events_secret",
    "telegram_token",
    "telegram_webhook_secret",
    "zalo_app_secret",
    "zalo_oa_secret",
    "zalo_access_token",
    "zalo_refresh_token",
    "deep_link_secret",
)

# The settings that turn a chat channel on, all together or none.
TELEGRAM_SETTINGS = ("telegram_token",)
ZALO_SETTINGS = ("zalo_app_id", "zalo_app_secret", "zalo_oa_secret")


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line meant for an operator."""


def default_data_dir() -> Path:
    """Where motcua keeps its files unless MOTCUA_DATA_DIR says otherwise: an absolute
    folder, so a command run from another directory finds the same database.

    ``$XDG_DATA_HOME/motcua`` (``~/.local/share/motcua``); the container and the systemd
    unit set MOTCUA_DATA_DIR=/var/lib/motcua.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().resolve() / "motcua"


def env_name(field: str) -> str:
    """The environment variable of a setting, e.g. ``MOTCUA_TELEGRAM_TOKEN``."""
    return f"{ENV_PREFIX}{field.upper()}"


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

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    log_level: str = "INFO"
    log_format: str = "text"
    # /readyz fails while the case API's circuit breaker is open (off: only reported).
    ready_requires_case_api: bool = False

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

    # Seconds an unfinished chat update stays with the process that received it (renewed
    # while it works on it) before another process, or the restarted one, takes it up.
    inbound_lease: float = Field(60.0, gt=0)

    poll_interval: float = Field(30.0, gt=0)
    quiet_hours: str = "21:00-07:00"
    timezone: str = "Asia/Ho_Chi_Minh"
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    deep_link_secret: SecretStr | None = None
    server_secret: SecretStr | None = None
    survey_delay: int = Field(1800, ge=0)
    survey_ttl: int = Field(7 * 24 * 3600, gt=0)
    reminder_days: str = "3,7"

    default_language: str = "vi"
    # A folder with the office's own phrases (vi.toml / en.toml, as bot/understanding/phrases).
    phrases_dir: Path | None = None
    office_name: str = Field(DEFAULT_OFFICE_NAME, min_length=1, max_length=120)
    lookup_limit_per_minute: int = Field(10, gt=0)
    lookup_limit_per_hour: int = Field(60, gt=0)
    pin_attempts_per_dossier: int = Field(5, gt=0)
    pin_attempts_per_user: int = Field(10, gt=0)
    pin_lockout_minutes: int = Field(15, gt=0)
    pin_backoff_max_minutes: int = Field(360, gt=0)

    # The officials' web workspace (bot.office).
    office_session_secret: SecretStr | None = None
    office_session_hours: int = Field(12, gt=0, le=24 * 30)
    office_cookie_secure: bool = False
    office_login_attempts_per_account: int = Field(5, gt=0)
    office_login_attempts_per_address: int = Field(30, gt=0)
    office_login_window_minutes: int = Field(15, gt=0)

    # Seconds the dossier last looked up stays "the dossier we are talking about" (a PIN typed
    # after a lookup proves it; "how much is the fee?" refers to it).
    context_ttl: int = Field(1800, gt=0)
    # The office's contact details, for answers without a dossier in context.
    office_address: str = Field("", max_length=300)
    office_phone: str = Field("", max_length=50)
    office_hours: str = Field("", max_length=200)

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

    @field_validator(
        "case_events_secret",
        "telegram_token",
        "telegram_webhook_secret",
        "zalo_app_secret",
        "zalo_oa_secret",
        "zalo_access_token",
        "zalo_refresh_token",
        "deep_link_secret",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        if value == "" or (isinstance(value, SecretStr) and value.get_secret_value() == ""):
            return None
        return value

    @field_validator("zalo_app_id", "telegram_webhook_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("phrases_dir")
    @classmethod
    def _phrases_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder (it holds vi.toml and/or en.toml)")
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        fmt = value.strip().lower()
        if fmt not in LOG_FORMATS:
            raise ValueError("must be text or json")
        return fmt

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram's rule)")
        return value

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

    @model_validator(mode="after")
    def _telegram_group(self) -> Settings:
        webhook = self.telegram_webhook_url
        if self.telegram_token is None:
            for name in ("telegram_webhook_url", "telegram_webhook_secret"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{env_name(name)} is set but {env_name('telegram_token')} is not: "
                        "set both, or neither"
                    )
            return self
        if webhook is None:
            if self.telegram_webhook_secret is not None:
                raise ValueError(
                    f"{env_name('telegram_webhook_secret')} is set but "
                    f"{env_name('telegram_webhook_url')} is not (long polling needs no secret)"
                )
            return self
        if self.telegram_webhook_secret is None:
            raise ValueError(
                f"{env_name('telegram_webhook_url')} needs "
                f"{env_name('telegram_webhook_secret')} too, or anyone could post updates"
            )
        local_bot_api = self.telegram_api_url != TELEGRAM_CLOUD_API
        if not webhook.startswith("https://") and not local_bot_api:
            raise ValueError(
                f"{env_name('telegram_webhook_url')}: Telegram only calls https:// webhooks "
                f"(plain http:// works only with a local Bot API server in "
                f"{env_name('telegram_api_url')})"
            )
        return self

    @model_validator(mode="after")
    def _zalo_group(self) -> Settings:
        # The token pair alone is fine: `motcua zalo install-tokens` reads it without the rest.
        given = [name for name in ZALO_SETTINGS if getattr(self, name) is not None]
        if given and len(given) < len(ZALO_SETTINGS):
            missing = [env_name(n) for n in ZALO_SETTINGS if n not in given]
            raise ValueError(
                f"Zalo is half configured: {', '.join(missing)} missing "
                f"(set {', '.join(env_name(n) for n in ZALO_SETTINGS)}, or none of them)"
            )
        return self

    @property
    def channels(self) -> tuple[str, ...]:
        """The chat channels these settings turn on."""
        on = []
        if self.telegram_token is not None:
            on.append(Channel.TELEGRAM.value)
        if all(getattr(self, name) is not None for name in ZALO_SETTINGS):
            on.append(Channel.ZALO.value)
        return tuple(on)

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


def secrets_from_files(environ: dict[str, str]) -> dict[str, str]:
    """The secrets given as ``MOTCUA_<NAME>_FILE``: each file's text, without the final
    line break. Giving a secret both ways, or a file that cannot be read, is an error."""
    found: dict[str, str] = {}
    for name in SECRET_SETTINGS:
        variable = env_name(name)
        path = environ.get(f"{variable}_FILE")
        if not path:
            continue
        if environ.get(variable):
            raise SettingsError(f"{variable} and {variable}_FILE are both set: keep one")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SettingsError(f"{variable}_FILE: cannot read {path}: {reason}") from None
        value = text.rstrip("\r\n")
        if not value:
            raise SettingsError(f"{variable}_FILE: {path} is empty")
        found[name] = value
    return found


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment; raise SettingsError with one readable line."""
    environ = dict(os.environ)
    overrides.setdefault("zns_templates", _zns_templates_from_env(environ))
    for name, value in secrets_from_files(environ).items():
        overrides.setdefault(name, value)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if not name:  # a rule across several settings names them itself
            problems.append(message)
            continue
        given = error.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float) and given != "" else ""
        secretish = name in SECRET_SETTINGS or any(w in name for w in ("token", "secret"))
        problems.append(f"{ENV_PREFIX}{name.upper()}: {message}{'' if secretish else shown}")
    return "; ".join(problems)
