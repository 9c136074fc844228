"""The one-trip SQLite cursor keeps every DB-API answer SQLAlchemy relies on."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import sqlite_driver
from bot.storage.engine import create_engine
from bot.storage.sqlite_driver import TransactionMode
from bot.storage.uow import SqlUnitOfWorkFactory

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_rows_rowcount_and_primary_keys(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await conn.execute(sa.insert(items).values(name="a"))
        assert first.inserted_primary_key == (1,)
        await conn.execute(sa.insert(items), [{"name": "b"}, {"name": "c"}])  # executemany
        returned = await conn.execute(
            sa.insert(items).values(name="d").returning(items.c.id, items.c.name)
        )
        assert returned.all() == [(4, "d")]
        updated = await conn.execute(
            sa.update(items).where(items.c.id > 2).values(name=items.c.name + "!")
        )
        assert updated.rowcount == 2
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(items.c.name).order_by(items.c.id))).scalars().all()
        assert rows == ["a", "b", "c!", "d!"]
        partial = await conn.execute(sa.select(items.c.id).order_by(items.c.id))
        assert partial.fetchmany(3) == [(1,), (2,), (3,)]
        assert partial.fetchone() == (4,)
        assert partial.fetchone() is None


async def test_errors_reach_the_caller_and_the_transaction_rolls_back(engine: AsyncEngine) -> None:
    async def insert_twice() -> None:
        async with engine.begin() as conn:
            await conn.execute(sa.insert(items).values(name="x"))
            await conn.execute(sa.insert(items).values(name="x"))

    with pytest.raises(sa.exc.IntegrityError):
        await insert_twice()
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(items))).scalar() == 0


async def test_statements_under_a_held_write_lock_run_on_the_loop_thread(tmp_path: Path) -> None:
    """Only when asked, and after BEGIN IMMEDIATE has run (the lock is held), do statements
    skip the thread."""
    connection = await sqlite_driver.connect(tmp_path / "inline.db")
    try:
        await connection.create_function("thread_id", 0, threading.get_ident)
        loop_thread = threading.get_ident()

        async def runs_on() -> int:
            async with connection.cursor() as cursor:
                await cursor.execute("SELECT thread_id()")
                (row,) = await cursor.fetchall()
                return int(row[0])

        assert await runs_on() != loop_thread  # no transaction: the driver's thread
        connection.transaction_mode = TransactionMode.DEFERRED
        connection.begin()
        assert await runs_on() != loop_thread  # a read transaction holds no write lock
        assert await runs_on() != loop_thread
        await connection.commit()

        connection.transaction_mode = TransactionMode.IMMEDIATE
        connection.begin()
        assert await runs_on() != loop_thread
        assert await runs_on() != loop_thread  # not asked for: the thread throughout
        await connection.commit()

        connection.transaction_mode = TransactionMode.IMMEDIATE_INLINE
        connection.begin()
        assert await runs_on() == loop_thread  # the lock was free: BEGIN and all inline
        assert connection.in_transaction
        assert await runs_on() == loop_thread
        await connection.commit()
        assert not connection.in_transaction
        assert await runs_on() != loop_thread  # lock released: the thread again
    finally:
        await connection.close()


async def test_an_inline_begin_waits_for_another_writer_off_the_loop(tmp_path: Path) -> None:
    """When another connection (another process) holds the write lock, an inline
    transaction's BEGIN waits for it on the driver's thread, up to the busy timeout, while the
    loop goes on; then the transaction runs inline, and the busy timeout is as it was."""
    path = tmp_path / "contended.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE t (x INTEGER)")
    connection = await sqlite_driver.connect(path, timeout=7.5)
    try:
        await connection.create_function("thread_id", 0, threading.get_ident)
        loop_thread = threading.get_ident()
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t VALUES (1)")

        async def first_statement() -> int:
            connection.transaction_mode = TransactionMode.IMMEDIATE_INLINE
            connection.begin()
            async with connection.cursor() as cursor:
                await cursor.execute("SELECT thread_id(), count(*) FROM t")
                (row,) = await cursor.fetchall()
                return int(row[0])

        waiting = asyncio.create_task(first_statement())
        for _ in range(20):  # the loop is free while the BEGIN waits
            await asyncio.sleep(0.005)
        assert not waiting.done()
        other.execute("COMMIT")
        assert await waiting != loop_thread  # it waited on the driver's thread
        assert connection.runs_inline
        async with connection.cursor() as cursor:
            await cursor.execute("SELECT thread_id(), count(*) FROM t")
            (row,) = await cursor.fetchall()
        assert (int(row[0]), row[1]) == (loop_thread, 1)  # then inline, seeing the commit
        await connection.commit()
        async with connection.cursor() as cursor:
            await cursor.execute("PRAGMA busy_timeout")
            assert await cursor.fetchall() == [(7500,)]
    finally:
        other.close()
        await connection.close()


async def test_the_engines_connections_wait_five_seconds_for_a_busy_database(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        assert (await conn.execute(sa.text("PRAGMA busy_timeout"))).scalar() == 5000


async def test_a_transaction_that_ran_nothing_ends_without_touching_sqlite(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(tmp_path / "idle.db")
    try:
        connection.transaction_mode = TransactionMode.IMMEDIATE
        connection.begin()
        assert connection.in_transaction
        await connection.rollback()
        assert not connection.in_transaction
        assert not connection.sqlite.in_transaction
    finally:
        await connection.close()


async def test_a_closed_connection_answers_with_sqlite3s_own_error(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(tmp_path / "closed.db")
    await connection.close()
    await connection.close()  # twice is fine
    with pytest.raises(sqlite3.ProgrammingError):
        await connection.cursor().execute("SELECT 1")


def test_checked_against_this_minor_version_of_sqlalchemy() -> None:
    # The driver gives SQLAlchemy's aiosqlite adapter what that adapter uses (its docstring
    # lists it); the adapter is SQLAlchemy's own code and may change between minor versions.
    checked = "2.1"
    found = ".".join(sqlalchemy.__version__.split(".")[:2])
    assert found == checked, (
        f"SQLAlchemy {sqlalchemy.__version__} is installed, but bot/storage/sqlite_driver.py was "
        f"checked against SQLAlchemy {checked}'s aiosqlite adapter "
        "(sqlalchemy/dialects/sqlite/aiosqlite.py and sqlalchemy/connectors/asyncio.py): read "
        "what the new adapter calls on the driver connection, adapt the driver, then update "
        "this test and the pin in pyproject.toml"
    )


@pytest.mark.parametrize("inline", [True, False])
async def test_only_the_chats_units_of_work_run_on_the_loop_thread(
    engine: AsyncEngine, inline: bool
) -> None:
    factory = (SqlUnitOfWorkFactory.for_chat if inline else SqlUnitOfWorkFactory.for_batches)(
        engine
    )
    async with factory() as uow:
        # The driver under test sits behind the unit of work, which offers no connection.
        conn = uow._connection
        assert conn is not None
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, sqlite_driver.Connection)
        await conn.execute(sa.insert(items).values(name="first"))  # takes the lock
        assert driver.runs_inline is inline
        await conn.execute(sa.insert(items).values(name="second"))
        await uow.commit()
        assert not driver.runs_inline
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(items))).scalar() == 2
