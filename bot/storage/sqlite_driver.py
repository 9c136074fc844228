"""motcua's asyncio driver for SQLite: the standard `sqlite3` module on one thread of its own.

SQLAlchemy's aiosqlite dialect takes any asyncio connection from ``async_creator_fn`` (a
documented argument); this module gives it one that the project owns whole, instead of an
aiosqlite connection with private parts replaced. Each connection has one worker thread that
runs every `sqlite3` call, so SQLite's waits (the busy timeout, disk) stay off the event loop.

Why not aiosqlite itself: SQLAlchemy's adapter makes four calls per statement (open a cursor,
execute, fetch, close), each a hand-off between the loop and the thread (about 40 µs idle,
far more on a busy loop), and since units of work on SQLite are serialised those hand-offs,
not SQLite, set the ceiling on transactions per second. Here a statement is one hand-off: the
cursor executes, fetches every row and closes in one trip, then serves the rows from memory.

A transaction's ``BEGIN`` rides along too: `Connection.begin_with_next_statement` keeps it
until the first statement, which runs it in the same trip; a transaction that ran no statement
commits or rolls back without a trip at all.

Inline transactions: once a ``BEGIN IMMEDIATE`` has run, the connection holds SQLite's write
lock, and in WAL mode nothing can make one of its statements (or its commit) wait for another
connection, so the thread only costs time. A transaction in `TransactionMode.IMMEDIATE_INLINE`
therefore runs its statements straight on the loop's thread (a few µs instead of a hand-off).
Only its BEGIN could wait, for another process holding the lock, up to the busy timeout: so it
is first tried on the loop with the busy timeout set to zero, and only if the lock is taken
does it go to the thread and wait there. Every statement of other transactions still goes
through the thread. Only short transactions ask for it (the chat's, one message each): while an
inline statement runs, nothing else on the loop does.

Every result is buffered, so server-side cursors (``stream()``) buffer too; motcua does not
stream from SQLite.

SQLAlchemy's adapter for aiosqlite (checked against SQLAlchemy 2.1, the minor version pinned
in pyproject.toml) uses, besides the DB-API-shaped async methods, one attribute of aiosqlite's:
``_connection``, to tell an open connection from a closed one before commit and rollback. It
is provided below; `tests/storage/test_sqlite_driver.py` fails loudly when SQLAlchemy's minor
version changes, so this contract is checked again before an upgrade.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = ["Connection", "Cursor", "TransactionMode", "connect"]

T = TypeVar("T")

#: sqlite3's own default busy timeout, in seconds.
DEFAULT_BUSY_TIMEOUT_S = 5.0

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None
_Outcome = tuple[_Description, list[Any], int, int | None]
# A job: the function, and the loop and future to answer on (None: nobody waits for it).
_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop | None, "asyncio.Future[Any] | None"]


def connect(database: str | Path, **kwargs: Any) -> Connection:
    """A connection to the SQLite file `database`; await it to open it.

    `kwargs` go to `sqlite3.connect` (SQLAlchemy passes what it would give aiosqlite); its
    ``timeout`` (seconds, 5 by default) is the busy timeout, which the driver owns: do not
    change it with ``PRAGMA busy_timeout``. Transactions are begun explicitly
    (``isolation_level=None``), never by the sqlite3 module.
    """
    location = str(database)
    kwargs.pop("iter_chunk_size", None)  # aiosqlite's, meaningless here
    kwargs["isolation_level"] = None
    # The loop's thread uses the connection too (inline transactions), never concurrently.
    kwargs["check_same_thread"] = False
    kwargs.setdefault("timeout", DEFAULT_BUSY_TIMEOUT_S)
    busy_timeout_ms = round(float(kwargs["timeout"]) * 1000)
    return Connection(functools.partial(sqlite3.connect, location, **kwargs), busy_timeout_ms)


class _Worker:
    """One thread that runs the jobs handed to it, in order, and answers on their loops."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="motcua-sqlite", daemon=True)
        self._thread.start()

    async def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the thread; its result or its exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((function, loop, future))
        return await future

    def post(self, function: Callable[[], object]) -> None:
        """Run `function` on the thread without waiting for it (its errors are dropped)."""
        self._jobs.put((function, None, None))

    def stop(self) -> None:
        """Let the thread end once the jobs already handed over are done."""
        self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            function, loop, future = job
            try:
                result = function()
            except BaseException as error:  # handed to the awaiting task, not lost
                if loop is not None and future is not None:
                    loop.call_soon_threadsafe(_settle, future, None, error)
            else:
                if loop is not None and future is not None:
                    loop.call_soon_threadsafe(_settle, future, result, None)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class TransactionMode(enum.Enum):
    """How a connection's transactions begin, until it goes back to the pool."""

    #: ``BEGIN DEFERRED``: the lock is taken by the first write (reads, one-off statements).
    DEFERRED = ("DEFERRED", False)
    #: ``BEGIN IMMEDIATE``: the write lock from the start, so a read-then-write transaction
    #: cannot fail because another connection wrote in between.
    IMMEDIATE = ("IMMEDIATE", False)
    #: ``BEGIN IMMEDIATE`` on the loop's thread if the lock is free (else waited for on the
    #: driver's thread), and every statement of the transaction on the loop's thread.
    IMMEDIATE_INLINE = ("IMMEDIATE", True)

    @property
    def statement(self) -> str:
        """The BEGIN statement."""
        return f"BEGIN {self.value[0]}"

    @property
    def inline(self) -> bool:
        """Whether the transaction runs on the loop's thread once it holds the lock."""
        return bool(self.value[1])


class _Begin(enum.Enum):
    """Where a connection's transaction stands, as far as this driver's BEGIN handling goes."""

    NONE = "none"  # no BEGIN pending, statements go to the thread
    PENDING = "pending"  # a BEGIN waits for the next statement
    PENDING_INLINE = "pending inline"  # the same, and the transaction then runs inline
    INLINE = "inline"  # the write lock is held: statements run on the loop's thread


class Connection:
    """An open SQLite connection served by a thread of its own (see the module's docstring)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout_ms: int) -> None:
        self._connector = connector
        self._busy_timeout_ms = busy_timeout_ms
        self._sqlite: sqlite3.Connection | None = None
        self._worker: _Worker | None = None
        self._state = _Begin.NONE
        self._pending_begin: str | None = None
        #: How the next transactions begin (`begin`); the engine sets it before each BEGIN.
        self.transaction_mode = TransactionMode.DEFERRED

    def __await__(self) -> Any:
        return self._open().__await__()

    async def _open(self) -> Self:
        if self._worker is None:
            self._worker = _Worker()
            self._sqlite = await self._worker.call(self._connector)
        return self

    # -- SQLAlchemy's adapter reads this to tell an open connection from a closed one.
    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._sqlite

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The underlying `sqlite3` connection (for this module and its tests)."""
        if self._sqlite is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return self._sqlite

    # -- transactions

    def begin(self) -> None:
        """Begin a transaction in `transaction_mode`: its BEGIN runs just before the next
        statement, in the same trip (a transaction that runs nothing costs no trip)."""
        mode = self.transaction_mode
        self._pending_begin = mode.statement
        self._state = _Begin.PENDING_INLINE if mode.inline else _Begin.PENDING

    @property
    def runs_inline(self) -> bool:
        """Whether statements now run on the caller's thread (the write lock is held)."""
        return self._state is _Begin.INLINE

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open, or begun and waiting for its first statement."""
        return self._pending_begin is not None or (
            self._sqlite is not None and self._sqlite.in_transaction
        )

    @property
    def isolation_level(self) -> str | None:
        """Always None: transactions are begun explicitly."""
        return None

    async def commit(self) -> None:
        """Commit; a transaction whose ``BEGIN`` never ran has nothing to commit."""
        await self._end(lambda sqlite: sqlite.commit())

    async def rollback(self) -> None:
        """Roll back; a transaction whose ``BEGIN`` never ran has nothing to undo."""
        await self._end(lambda sqlite: sqlite.rollback())

    async def _end(self, end: Callable[[sqlite3.Connection], None]) -> None:
        state, self._state = self._state, _Begin.NONE
        if self._pending_begin is not None:
            self._pending_begin = None
            return
        sqlite = self.sqlite
        if state is _Begin.INLINE:
            end(sqlite)
            return
        await self._call(functools.partial(end, sqlite))

    # -- statements

    def cursor(self) -> Cursor:
        """A cursor; making one costs no trip to the thread (``async with`` works too)."""
        return Cursor(self)

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], *, deterministic: bool = False
    ) -> None:
        """Make a Python function callable from SQL (see `sqlite3.Connection.create_function`)."""
        sqlite = self.sqlite
        await self._call(
            lambda: sqlite.create_function(name, num_params, func, deterministic=deterministic)
        )

    async def execute_statement(self, sql: str, parameters: Any, *, many: bool = False) -> _Outcome:
        """Run one statement in one trip (or inline), with a pending BEGIN before it."""
        sqlite = self.sqlite
        if self._state is _Begin.INLINE:
            if sqlite.in_transaction:
                return _run(sqlite, sql, parameters, many)
            self._state = _Begin.NONE  # a statement of its own ended it: the lock is gone
        begin, self._pending_begin = self._pending_begin, None
        if begin is None:
            return await self._call(lambda: _run(sqlite, sql, parameters, many))
        inline_after = self._state is _Begin.PENDING_INLINE
        self._state = _Begin.NONE
        if inline_after and _begin_without_waiting(sqlite, begin, self._busy_timeout_ms):
            self._state = _Begin.INLINE
            return _run(sqlite, sql, parameters, many)
        outcome = await self._call(lambda: _run(sqlite, sql, parameters, many, begin=begin))
        # Inline only once the trip that took the lock has succeeded.
        if inline_after:
            self._state = _Begin.INLINE
        return outcome

    async def execute_script(self, script: str) -> None:
        """Run several statements (no parameters, no rows), with a pending BEGIN first."""
        sqlite = self.sqlite
        begin, self._pending_begin = self._pending_begin, None
        self._state = _Begin.NONE
        if begin is not None:
            script = f"{begin};\n{script}"
        await self._call(lambda: sqlite.executescript(script))

    # -- closing

    async def close(self) -> None:
        """Close the connection (on its thread, after anything still queued) and end it."""
        self._state, self._pending_begin = _Begin.NONE, None
        worker, sqlite = self._worker, self._sqlite
        if worker is None:
            return
        self._sqlite = None
        try:
            if sqlite is not None:
                await worker.call(sqlite.close)
        finally:
            self._worker = None
            worker.stop()

    def stop(self) -> None:
        """End the connection without waiting (SQLAlchemy's terminate)."""
        self._state, self._pending_begin = _Begin.NONE, None
        worker, sqlite = self._worker, self._sqlite
        self._worker = self._sqlite = None
        if worker is not None:
            if sqlite is not None:
                worker.post(sqlite.close)
            worker.stop()

    async def _call(self, function: Callable[[], T]) -> T:
        if self._worker is None:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return await self._worker.call(function)


class Cursor:
    """Executes a statement, fetches all its rows and closes, in one trip; then reads memory."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self._description: _Description = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Self:
        """Run `sql` and keep its rows."""
        self._keep(await self._connection.execute_statement(sql, parameters or ()))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Self:
        """Run `sql` once per parameter set."""
        self._keep(await self._connection.execute_statement(sql, parameters, many=True))
        return self

    async def executescript(self, sql_script: str) -> Self:
        """Run several statements (no parameters, no rows)."""
        await self._connection.execute_script(sql_script)
        self._keep((None, [], -1, None))
        return self

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` (default `arraysize`) further rows."""
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        """Every remaining row."""
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        """Forget the rows (the sqlite3 cursor was closed after the statement)."""
        self._rows = []

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement (sqlite3's value)."""
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        """Row id of the last inserted row (sqlite3's value)."""
        return self._lastrowid

    @property
    def description(self) -> Any:
        """Column descriptions of the last statement, None if it returned no rows."""
        return self._description

    def _keep(self, outcome: _Outcome) -> None:
        self._description, self._rows, self._rowcount, self._lastrowid = outcome


def _begin_without_waiting(sqlite: sqlite3.Connection, begin: str, busy_timeout_ms: int) -> bool:
    """Run `begin` on the caller's thread if SQLite's lock is free now: True once it holds
    the lock, False (nothing begun) if another connection holds it. The connection's busy
    timeout is zero meanwhile (then `busy_timeout_ms` again), so this never waits."""
    sqlite.execute("PRAGMA busy_timeout=0")
    try:
        sqlite.execute(begin)
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY:
            return False
        raise
    finally:
        sqlite.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    return True


def _run(
    sqlite: sqlite3.Connection,
    sql: str,
    parameters: Any,
    many: bool,
    *,
    begin: str | None = None,
) -> _Outcome:
    if begin is not None:
        sqlite.execute(begin)
    cursor = sqlite.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows: Sequence[Any] = cursor.fetchall() if description is not None else []
        return description, list(rows), cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
