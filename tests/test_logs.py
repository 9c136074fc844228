"""No phone number, PIN, name or token reaches the log: not in exception text, not at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.logs import RedactingFilter, configure_logging, redact
from bot.web.serve import serve_in_loop
from tests.support.fake_telegram import FakeTelegram
from tests.support.logfile import flushed, log_file_in, without_times
from tests.telegram.conftest import running_channel

PHONE = "0912 345 678"
PIN = "482913"
NAME = "Nguyễn Thị Hoa"
ZALO_TOKEN = "zT0k3n-aaaaBBBBccccDDDDeeeeFFFF"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Where `configure_logging` writes for this test; the logging set-up is restored after."""
    with log_file_in(tmp_path) as path:
        yield path


async def test_debug_prints_no_pin_name_or_token(log_file: Path) -> None:
    """(The database's DEBUG lines: tests/storage/test_log_masking.py.)"""
    configure_logging("DEBUG", file=log_file)
    # A Telegram exchange: the citizen types their name and PIN; the answer repeats them.
    fake = FakeTelegram()
    async with fake.serve(), running_channel(fake, "polling"):
        await fake.send_text(7001, f"{NAME} {PIN}")
        await fake.wait_for_messages(7001, 1)
    logging.getLogger("bot.test").debug("debug lines of our own still appear")

    written = flushed(log_file)
    assert "debug lines of our own still appear" in written
    for secret in (PIN, NAME, ZALO_TOKEN, "345 678", fake.token):
        assert secret not in written


async def test_an_unhandled_error_in_a_web_route_is_logged_masked(log_file: Path) -> None:
    configure_logging("INFO", file=log_file)

    async def broken(_request: Request) -> Response:
        raise RuntimeError(f"lookup for {PHONE} with access_token={ZALO_TOKEN} failed")

    app = Starlette(routes=[Route("/broken", broken)])
    async with serve_in_loop(app) as server, httpx.AsyncClient() as client:
        answer = await client.get(f"{server.url}/broken")
    assert answer.status_code == 500

    written = flushed(log_file)
    assert "RuntimeError" in written
    assert "345" not in without_times(written)
    assert ZALO_TOKEN not in written


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ('POST /oa/message {"access_token": "abcDEF123456"}', "abcDEF123456"),
        ("access_token: abcDEF123456", "abcDEF123456"),
        ("refresh_token=xyz987654321&app_id=1", "xyz987654321"),
        ("verify {'pin': '482913'}", "482913"),
        ("Authorization: Bearer sim-token-123", "sim-token-123"),
        ("https://api.telegram.org/bot123456:AAAAbbbbCCCCddddEEEEffffGGGGhhhh/getMe", "AAAAbbbb"),
        ("gọi +84 912 345 678 hoặc 0912.345.678", "345"),
    ],
)
def test_redact_masks_secrets_in_any_text(line: str, hidden: str) -> None:
    assert hidden not in redact(line)


def test_the_filter_masks_the_exception_for_any_formatter() -> None:
    try:
        raise ValueError(f"bad number {PHONE}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    assert record.exc_info is None
    assert record.exc_text is not None
    assert "<phone>" in record.exc_text
    assert "345" not in logging.Formatter().format(record)
