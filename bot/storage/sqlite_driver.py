"""aiosqlite connections that run each statement in one trip to the database thread.

aiosqlite runs every sqlite3 call on the connection's own thread, and SQLAlchemy's adapter
makes four such calls per statement: open a cursor, execute, fetch the rows, close the
cursor. Each is a hand-off between the event loop and that thread (about 40 µs on an idle
loop, much more on a busy one), and since units of work on SQLite are serialised, those
hand-offs, not SQLite, set the ceiling on transactions per second. The cursor here executes,
fetches every row and closes in a single hand-off, then serves the rows from memory.

A transaction's ``BEGIN`` rides along too: `OneTripConnection.begin_with_next_statement`
keeps it until the first statement, which runs it in the same hand-off; a transaction that
ran no statement commits or rolls back without a trip at all.

Once a ``BEGIN IMMEDIATE`` has run, the connection holds SQLite's write lock, and in WAL mode
nothing can then make one of its statements (or its commit) wait for another connection:
the thread is only there to keep such waits off the event loop. So the rest of a transaction
begun with ``inline_after`` runs straight on the loop's thread — a few microseconds of SQLite
instead of a hand-off of tens. The ``BEGIN`` itself, which may wait up to the busy timeout
for another process, and every statement of other transactions still go through the thread.
Only short transactions ask for it (the chat's units of work, one message each): while an
inline statement runs, nothing else on the loop does; a checkpoint of the WAL at commit,
every thousand pages or so, runs there too.

Plugged in with ``connect_args={"async_creator_fn": connect}``: SQLAlchemy's aiosqlite
dialect then calls `connect` with the arguments it would have given ``aiosqlite.connect``.
Every result is buffered, so server-side cursors (``stream()``) buffer too; motcua does not
stream from SQLite.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, cast

import aiosqlite
from aiosqlite.context import contextmanager

__all__ = ["OneTripConnection", "connect"]

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None
_Outcome = tuple[_Description, list[Any], int, int | None]


def connect(database: str | Path, *, iter_chunk_size: int = 64, **kwargs: Any) -> OneTripConnection:
    """Like ``aiosqlite.connect``, for a connection whose cursors make one trip per statement."""
    location = str(database)

    def connector() -> sqlite3.Connection:
        # Used from the loop's thread while a write lock is held, never concurrently.
        kwargs.setdefault("check_same_thread", False)
        connection: sqlite3.Connection = sqlite3.connect(location, **kwargs)
        return connection

    return OneTripConnection(connector, iter_chunk_size)


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors are `OneTripCursor`s."""

    _pending_begin: str | None = None
    _inline_after = False
    # The transaction holds the write lock: its statements run on the loop's thread.
    _inline = False

    def begin_with_next_statement(self, statement: str, *, inline_after: bool = False) -> None:
        """Run `statement` (``BEGIN …``) just before the next one, in the same trip; with
        `inline_after` (for ``BEGIN IMMEDIATE`` only) the transaction's later statements run
        on the caller's thread."""
        self._pending_begin = statement
        self._inline_after = inline_after

    @property
    def runs_inline(self) -> bool:
        """Whether statements now run on the caller's thread (a write lock is held)."""
        return self._inline

    def begun(self, statement: str, *, error: bool) -> None:
        """Note that `statement` (``BEGIN …``) was handed to SQLite with the next statement."""
        # Inline only when the lock is surely held: the trip that took it succeeded.
        inline, self._inline_after = self._inline_after, False
        self._inline = inline and not error and statement.upper().endswith("IMMEDIATE")

    def take_pending_begin(self) -> str | None:
        """The ``BEGIN`` still waiting for a statement, forgotten as it is handed over."""
        statement, self._pending_begin = self._pending_begin, None
        return statement

    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        """A cursor; making it costs no trip to the database thread."""
        return OneTripCursor(self)

    async def commit(self) -> None:
        """Commit; a transaction whose ``BEGIN`` never ran has nothing to commit."""
        await self._end(self._conn.commit, super().commit)

    async def rollback(self) -> None:
        """Roll back; a transaction whose ``BEGIN`` never ran has nothing to undo."""
        await self._end(self._conn.rollback, super().rollback)

    async def _end(
        self, inline: Callable[[], None], in_thread: Callable[[], Awaitable[None]]
    ) -> None:
        if self.take_pending_begin() is not None:
            return
        if self._inline:
            self._inline = False
            inline()
            return
        await in_thread()

    async def close(self) -> None:
        """Close the connection (on its thread, after anything still queued)."""
        self._inline = False
        self._pending_begin = None
        await super().close()

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open, or begun and waiting for its first statement."""
        return self._pending_begin is not None or super().in_transaction


class OneTripCursor(aiosqlite.Cursor):
    """Executes a statement, fetches all its rows and closes, in one trip; then reads memory."""

    def __init__(self, conn: OneTripConnection) -> None:
        self.iter_chunk_size = conn._iter_chunk_size
        self._conn = conn
        self._connection = conn
        self._rows: list[Any] = []
        self._description: _Description = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        """Run `sql` and keep its rows."""
        await self._statement(functools.partial(_run, sql=sql, parameters=parameters or ()))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        """Run `sql` once per parameter set."""
        await self._statement(functools.partial(_run, sql=sql, parameters=parameters, many=True))
        return self

    async def executescript(self, sql_script: str) -> OneTripCursor:
        """Run several statements (no parameters, no rows)."""
        begin = self._connection.take_pending_begin()
        if begin is not None:
            sql_script = f"{begin};\n{sql_script}"
        await self._trip(self._conn._conn.executescript, sql_script)
        self._keep((None, [], -1, None))
        return self

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` (default `arraysize`) further rows."""
        count = self._arraysize if size is None else size
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
    def arraysize(self) -> int:
        """Rows `fetchmany` returns by default."""
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def description(self) -> Any:
        """Column descriptions of the last statement, None if it returned no rows."""
        return self._description

    async def _statement(self, run: Callable[..., _Outcome]) -> None:
        """Run a statement: inline under a held write lock, else in one trip with any BEGIN."""
        connection = self._connection
        if connection.runs_inline:
            if connection._conn.in_transaction:
                self._keep(run(connection._conn))
                return
            connection.begun("", error=True)  # ended by a statement of its own: lock gone
        begin = connection.take_pending_begin()
        if begin is None:
            self._keep(await self._trip(run, connection._conn))
            return
        try:
            outcome = await self._trip(functools.partial(run, begin=begin), connection._conn)
        except BaseException:
            connection.begun(begin, error=True)
            raise
        connection.begun(begin, error=False)
        self._keep(outcome)

    async def _trip(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` on the connection's thread (aiosqlite's queue)."""
        execute = cast(Callable[..., Awaitable[Any]], self._conn._execute)
        return await execute(function, *args)

    def _keep(self, outcome: _Outcome) -> None:
        self._description, self._rows, self._rowcount, self._lastrowid = outcome


def _run(
    conn: sqlite3.Connection,
    *,
    sql: str,
    parameters: Any,
    many: bool = False,
    begin: str | None = None,
) -> _Outcome:
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description is not None else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
