"""Settings: documented defaults, and one clear line for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from bot.notify.throttle import ChannelLimit
from bot.runner import send_limits
from bot.settings import SettingsError, load_settings


def test_defaults_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("MOTCUA_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.quiet_hours == "21:00-07:00"
    assert settings.survey_delay == 1800
    assert settings.survey_ttl == 7 * 24 * 3600
    assert settings.reminder_day_list == (3, 7)
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert (settings.telegram_send_rate, settings.zalo_send_rate) == (30.0, 10.0)


def test_zns_templates_are_collected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_ZNS_TEMPLATE_READY", "240101")
    assert load_settings().zns_templates == {"ready": "240101"}


def test_send_rates_set_the_dispatchers_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_TELEGRAM_SEND_RATE", "100")
    monkeypatch.setenv("MOTCUA_ZALO_SEND_RATE", "2.5")
    limits = send_limits(load_settings())
    assert limits["telegram"] == ChannelLimit(per_second=100.0, per_chat_interval=1.0)
    assert limits["zalo"] == ChannelLimit(per_second=2.5, per_chat_interval=1.0)
    assert limits["telegram"].slot_interval == timedelta(seconds=1.04 / 100)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MOTCUA_POLL_INTERVAL", "-5", "MOTCUA_POLL_INTERVAL"),
        ("MOTCUA_CASE_API_URL", "htp//nowhere", "MOTCUA_CASE_API_URL"),
        ("MOTCUA_DATABASE_URL", "mysql://root@db/x", "unknown database scheme 'mysql'"),
        ("MOTCUA_QUIET_HOURS", "9pm", "21:00-07:00"),
        ("MOTCUA_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("MOTCUA_REMINDER_DAYS", "3,x", "comma-separated"),
        ("MOTCUA_HTTP_PORT", "99999", "MOTCUA_HTTP_PORT"),
        ("MOTCUA_TELEGRAM_SEND_RATE", "0", "MOTCUA_TELEGRAM_SEND_RATE"),
        ("MOTCUA_ZALO_SEND_RATE", "80", "MOTCUA_ZALO_SEND_RATE"),
    ],
)
def test_a_bad_setting_names_itself(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert expected in message and variable in message
    assert "\n" not in message


def test_the_command_line_stops_with_one_line_and_no_traceback(tmp_path: object) -> None:
    env = dict(os.environ, MOTCUA_DATABASE_URL="mysql://root@db/x")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "MOTCUA_DATABASE_URL" in lines[0]
