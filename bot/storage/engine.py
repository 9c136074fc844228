"""Database engines: URL normalisation, SQLite pragmas, explicit transaction control.

Two databases are supported: SQLite through aiosqlite (the default, one file, WAL) and
PostgreSQL through asyncpg. Sync-style URLs (``sqlite:///…``, ``postgresql://…``,
``postgres://…``) are mapped to the async drivers so operators can paste what they have.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from bot.storage import sqlite_driver
from bot.storage.sqlite_driver import TransactionMode

DatabaseEngine = AsyncEngine
"""The engine type, for the composition root (which passes it to storage adapters only)."""

DatabaseUrl = URL
"""A parsed database URL (`normalize_url`), for code that picks databases (the tests'
fixtures, the benchmarks) without importing the storage's library."""

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"

# PostgreSQL connections an engine keeps, and how many more it opens under load. A chat
# transaction holds its connection for a few round trips, but on a saturated event loop each
# round trip waits a whole turn of the loop: with SQLAlchemy's default (5 + 10) a burst of
# messages queued for connections rather than for the database (Telegram webhook burst on
# PostgreSQL, journal on its own connections: 304 updates/s with 5 + 10, 366 with 20 + 10).
# With the journal's 2 (`bot.composition`), a process opens at most 32 (docs/deploy.md).
POSTGRES_POOL_SIZE = 20
POSTGRES_POOL_OVERFLOW = 10

# How long SQLite waits for another connection's write lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 5000

_DRIVERS = {
    "sqlite": SQLITE_DRIVER,
    "sqlite+aiosqlite": SQLITE_DRIVER,
    "sqlite+pysqlite": SQLITE_DRIVER,
    "postgres": POSTGRES_DRIVER,
    "postgresql": POSTGRES_DRIVER,
    "postgresql+asyncpg": POSTGRES_DRIVER,
    "postgresql+psycopg2": POSTGRES_DRIVER,
    "postgresql+psycopg": POSTGRES_DRIVER,
}


def normalize_url(url: str) -> URL:
    """`url` with its driver replaced by the async one; ValueError for other databases."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL: {_redact(url)}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            "use sqlite:///path/to/file.db or postgresql://user@host/db"
        )
    return parsed.set(drivername=driver)


def create_engine(url: str, *, pool_size: int | None = None) -> AsyncEngine:
    """An async engine for `url` (SQLite or PostgreSQL), configured for motcua.

    SQLite connections make one trip to aiosqlite's thread per statement (see
    `bot.storage.sqlite_driver`) and get WAL, synchronous=NORMAL, foreign keys and a busy
    timeout; the parent directory of the database file is created. Transactions on SQLite
    are begun explicitly (see `use_transactions`), never by the sqlite3 module's heuristics.

    On PostgreSQL, `pool_size` bounds the engine's connections (none beyond it); by default
    it keeps `POSTGRES_POOL_SIZE` and opens `POSTGRES_POOL_OVERFLOW` more under load.
    """
    parsed = normalize_url(url)
    json_serializer = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
    if parsed.drivername == SQLITE_DRIVER:
        _create_parent_directory(parsed)
        # The "reset" hook below rolls back only what is open, saving a round trip per checkin.
        engine = create_async_engine(
            parsed,
            json_serializer=json_serializer,
            pool_reset_on_return=None,
            connect_args={
                "async_creator_fn": sqlite_driver.connect,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            },
        )
        _install_sqlite_hooks(engine)
        return engine
    if pool_size is not None:
        return create_async_engine(
            parsed, json_serializer=json_serializer, pool_size=pool_size, max_overflow=0
        )
    return create_async_engine(
        parsed,
        json_serializer=json_serializer,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_POOL_OVERFLOW,
    )


def is_sqlite(engine: AsyncEngine) -> bool:
    """Whether `engine` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def use_transactions(conn: AsyncConnection, mode: TransactionMode) -> None:
    """Have `conn`'s transactions begin in `mode` on SQLite until it goes back to the pool
    (PostgreSQL needs nothing: its transactions lock rows, not the database).

    The mode waits in the connection's `info` (SQLAlchemy's dictionary for the user's data,
    reached without a trip to the driver) until the "begin" hook hands it to the driver."""
    if conn.dialect.name == "sqlite":
        conn.info[_TRANSACTION_MODE] = mode


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that intends to write, committed if the block succeeds.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``, so it holds the write lock from
    the start: a transaction that reads and then writes cannot fail with SQLITE_BUSY when
    another connection wrote in between. Keep such transactions short.
    """
    async with engine.connect() as conn:
        use_transactions(conn, TransactionMode.IMMEDIATE)
        async with conn.begin():
            yield conn


async def ping(engine: AsyncEngine) -> None:
    """Ask the database a trivial question; raises when it does not answer (health checks)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def _create_parent_directory(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver opens connections with isolation_level=None: the sqlite3 module begins
        # no transaction of its own (it would begin lazily and commit before DDL); the
        # "begin" hook below does it.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] != "wal":
                _enable_wal(dbapi_connection, cursor)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: ConnectionPoolEntry, _state: Any) -> None:
        # Returned to the pool: end a transaction left open (normally there is none, because
        # SQLAlchemy ends its own); asking costs no round trip to the driver's thread. The
        # next checkout begins its transactions the default way unless it says otherwise.
        driver = record.driver_connection
        if driver is None or driver.in_transaction:
            dbapi_connection.rollback()
        record.info.pop(_TRANSACTION_MODE, None)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # No trip of its own: the BEGIN runs with the transaction's first statement.
        adapted = conn.connection.dbapi_connection
        if not isinstance(adapted, AdaptedConnection):
            raise TypeError("expected an asyncio driver connection")
        driver = _driver(adapted.driver_connection)
        driver.transaction_mode = conn.info.get(_TRANSACTION_MODE, TransactionMode.DEFERRED)
        driver.begin()


# The key in a connection's `info` under which `use_transactions` leaves the mode.
_TRANSACTION_MODE = "motcua.transaction_mode"


def _driver(connection: Any) -> sqlite_driver.Connection:
    if not isinstance(connection, sqlite_driver.Connection):
        raise TypeError(
            "expected a connection of motcua's SQLite driver (bot.storage.sqlite_driver)"
        )
    return connection


def _enable_wal(dbapi_connection: Any, cursor: Any) -> None:
    # WAL is a property of the file, set once. Switching needs an exclusive lock and SQLite
    # reports "locked" at once, without its busy handler, when processes race to create
    # a new database; so wait and retry here, without blocking the event loop.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            dbapi_connection.run_async(lambda _driver: asyncio.sleep(0.02))


def _redact(url: str) -> str:
    # Never echo a password back into an error message or log line.
    scheme, sep, _ = url.partition("://")
    if not sep:
        return "<unparseable>"
    return f"{scheme}://…"
