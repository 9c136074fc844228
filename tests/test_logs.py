"""No phone number, PIN, name or token reaches the log: not in exception text, not at DEBUG."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.logs import QUIET_LIBRARIES, RedactingFilter, configure_logging, redact
from bot.storage.engine import create_engine
from bot.web.serve import serve_in_loop
from tests.support.fake_telegram import FakeTelegram
from tests.telegram.conftest import running_channel

PHONE = "0912 345 678"
PIN = "482913"
NAME = "Nguyễn Thị Hoa"
ZALO_TOKEN = "zT0k3n-aaaaBBBBccccDDDDeeeeFFFF"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Where `configure_logging` writes for this test; the logging set-up is restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    libraries = {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    path = tmp_path / "motcua.log"
    yield path
    for handler in root.handlers:
        handler.close()
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, old in libraries.items():
        logging.getLogger(name).setLevel(old)


def _flushed(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def _without_times(written: str) -> str:
    """The log without its lines' timestamps, whose milliseconds may read ",345" (1 in 1000)."""
    return re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "", written, flags=re.MULTILINE)


async def test_a_phone_number_in_a_database_error_is_masked(log_file: Path, tmp_path: Path) -> None:
    configure_logging("INFO", file=log_file)
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            await conn.execute(
                text("SELECT * FROM no_such_table WHERE phone = :phone"), {"phone": PHONE}
            )
    except SQLAlchemyError:
        logging.getLogger("bot.test").exception("could not store the user's proof")
    finally:
        await engine.dispose()

    written = _flushed(log_file)
    assert "could not store the user's proof" in written
    assert "no_such_table" in written, "the traceback is still there"
    assert "Traceback" in written
    assert "<phone>" in written
    assert "345" not in _without_times(written)


async def test_debug_prints_no_pin_name_or_token(log_file: Path, tmp_path: Path) -> None:
    configure_logging("DEBUG", file=log_file)
    # SQL parameters: a Zalo token and a phone number written at DEBUG.
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (token TEXT, phone TEXT)"))
            await conn.execute(
                text("INSERT INTO t VALUES (:token, :phone)"), {"token": ZALO_TOKEN, "phone": PHONE}
            )
    finally:
        await engine.dispose()
    # A Telegram exchange: the citizen types their name and PIN; the answer repeats them.
    fake = FakeTelegram()
    async with fake.serve(), running_channel(fake, "polling"):
        await fake.send_text(7001, f"{NAME} {PIN}")
        await fake.wait_for_messages(7001, 1)
    logging.getLogger("bot.test").debug("debug lines of our own still appear")

    written = _flushed(log_file)
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

    written = _flushed(log_file)
    assert "RuntimeError" in written
    assert "345" not in _without_times(written)
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
