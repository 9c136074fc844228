"""Engines: URL mapping, SQLite pragmas, timezone-aware times on both databases."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import create_engine, normalize_url, use_transactions, write_transaction
from bot.storage.sqlite_driver import TransactionMode
from bot.storage.tables import chat_users

HANOI = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/motcua.db", "sqlite+aiosqlite:///data/motcua.db"),
        ("sqlite+aiosqlite:////var/lib/motcua.db", "sqlite+aiosqlite:////var/lib/motcua.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://bot@db:5432/motcua", "postgresql+asyncpg://bot@db:5432/motcua"),
        ("postgres://bot@db/motcua", "postgresql+asyncpg://bot@db/motcua"),
        ("postgresql+asyncpg://bot@db/motcua", "postgresql+asyncpg://bot@db/motcua"),
    ],
)
def test_urls_are_mapped_to_the_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string() == expected


@pytest.mark.parametrize(
    "url", ["mysql://root:hunter2@db/motcua", "oracle://u:hunter2@h/x", "not a url at all"]
)
def test_unknown_schemes_are_refused_in_one_line_without_secrets(url: str) -> None:
    with pytest.raises(ValueError, match="URL") as raised:
        create_engine(url)
    message = str(raised.value)
    assert "\n" not in message
    assert "hunter2" not in message


async def test_sqlite_creates_the_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "motcua.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert path.exists()
    # synchronous: 1 is NORMAL.
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 5000,
    }


async def engine_with_table(path: Path) -> AsyncEngine:
    """A SQLite engine on `path` with an empty table ``t (x INTEGER)``."""
    engine = create_engine(f"sqlite:///{path}")
    async with write_transaction(engine) as conn:
        await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    return engine


async def test_sqlite_write_transaction_holds_the_lock_from_its_first_read(tmp_path: Path) -> None:
    path = tmp_path / "locks.db"
    engine = await engine_with_table(path)
    try:
        async with write_transaction(engine) as conn:
            # A read alone already holds the write lock (BEGIN IMMEDIATE ran with it), so a
            # write elsewhere cannot slip in between this transaction's read and its write.
            await conn.exec_driver_sql("SELECT count(*) FROM t")
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
            await conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("SELECT count(*) FROM t")).scalar() == 1
    finally:
        await engine.dispose()


async def test_sqlite_transaction_that_ran_nothing_takes_no_lock(tmp_path: Path) -> None:
    path = tmp_path / "idle.db"
    engine = await engine_with_table(path)
    try:
        async with engine.connect() as conn:
            use_transactions(conn, TransactionMode.IMMEDIATE)
            transaction = await conn.begin()
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("INSERT INTO t VALUES (2)")
                other.execute("COMMIT")
            finally:
                other.close()
            await transaction.commit()
            # The connection is usable afterwards and sees the other writer's row.
            assert (await conn.exec_driver_sql("SELECT x FROM t")).scalar() == 2
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_times_come_back_aware_in_utc(engine: AsyncEngine) -> None:
    created = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=HANOI)
    async with write_transaction(engine) as conn:
        await conn.execute(
            chat_users.insert().values(
                channel="telegram",
                channel_user_id="1",
                language="vi",
                created_at=created,
                last_seen_at=created,
            )
        )
    async with engine.connect() as conn:
        stored = (await conn.execute(select(chat_users.c.created_at))).scalar_one()
        # Comparisons in SQL see the same instant whatever offset the parameter had.
        same_instant = (
            await conn.execute(
                select(chat_users.c.id).where(chat_users.c.created_at == created.astimezone(UTC))
            )
        ).first()
    assert stored == created
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert (stored.hour, stored.microsecond) == (2, 123456)
    assert same_instant is not None


async def test_naive_times_are_refused(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(StatementError, match="naive datetime"):
            await conn.execute(
                chat_users.insert().values(
                    channel="telegram",
                    channel_user_id="1",
                    language="vi",
                    created_at=datetime(2025, 1, 1),
                    last_seen_at=datetime(2025, 1, 1),
                )
            )


async def test_sync_style_url_reaches_the_same_database(
    database_url: str, engine: AsyncEngine
) -> None:
    plain = make_url(database_url)
    plain = plain.set(drivername=plain.drivername.split("+")[0])
    other = create_engine(plain.render_as_string(hide_password=False))
    try:
        async with other.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM chat_users"))).scalar() == 0
        assert other.url.drivername in ("sqlite+aiosqlite", "postgresql+asyncpg")
    finally:
        await other.dispose()


async def test_sqlite_connection_returned_mid_transaction_is_rolled_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reset.db'}"
    engine, other_process = create_engine(url), create_engine(url)
    try:
        async with write_transaction(engine) as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        async with engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            # A transaction SQLAlchemy knows nothing about, holding the write lock.
            await driver.cursor().execute("BEGIN IMMEDIATE")
            await driver.cursor().execute("INSERT INTO t VALUES (1)")
        async with other_process.connect() as conn:
            await conn.exec_driver_sql("PRAGMA busy_timeout=0")
            await conn.exec_driver_sql("INSERT INTO t VALUES (2)")  # the lock is free
            await conn.commit()
            rows = (await conn.exec_driver_sql("SELECT x FROM t")).scalars().all()
        assert rows == [2]
    finally:
        await engine.dispose()
        await other_process.dispose()
