"""What the database library logs is masked too: a phone number in a database error's
traceback, and the SQL parameters it echoes at DEBUG (a token, a phone number)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.logs import configure_logging
from bot.storage.engine import create_engine
from tests.support.logfile import flushed, log_file_in, without_times

PHONE = "0912 345 678"
ZALO_TOKEN = "zT0k3n-aaaaBBBBccccDDDDeeeeFFFF"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Where `configure_logging` writes for this test; the logging set-up is restored after."""
    with log_file_in(tmp_path) as path:
        yield path


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

    written = flushed(log_file)
    assert "could not store the user's proof" in written
    assert "no_such_table" in written, "the traceback is still there"
    assert "Traceback" in written
    assert "<phone>" in written
    assert "345" not in without_times(written)


async def test_debug_prints_no_sql_parameter(log_file: Path, tmp_path: Path) -> None:
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
    logging.getLogger("bot.test").debug("debug lines of our own still appear")

    written = flushed(log_file)
    assert "debug lines of our own still appear" in written
    for secret in (ZALO_TOKEN, "345 678"):
        assert secret not in written
