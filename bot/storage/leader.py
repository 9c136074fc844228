"""Leadership on PostgreSQL: a session advisory lock held on a dedicated connection.

Databases without advisory locks (SQLite) use the lease of the watch repository instead
(`bot.notify.leader.LeaseLeaderLock`); `advisory_lock_for` says which one an engine gets.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# Any constant will do; it names the PostgreSQL advisory lock the polling leader holds.
WATCHER_LOCK_ID = 0x6D637761  # "mcwa"


class AdvisoryLeaderLock:
    """PostgreSQL session advisory lock held on a dedicated connection (`bot.ports.LeaderLock`).

    The lock lives as long as that connection: if the process dies, PostgreSQL ends the
    session and another process's next `acquire` gets it.
    """

    def __init__(self, engine: AsyncEngine, key: int = WATCHER_LOCK_ID) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        """Whether this process holds the lock (taking it if free)."""
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                return True
            except (DBAPIError, OSError):
                log.warning("watcher: lost the leader connection; leadership given up")
                await self._drop()
        conn = await self._engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            ).scalar()
        except BaseException:
            await conn.close()
            raise
        if got:
            self._connection = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        """Give leadership up."""
        if self._connection is None:
            return
        with contextlib.suppress(DBAPIError, OSError):
            await self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
            )
        await self._drop()

    async def _drop(self) -> None:
        conn, self._connection = self._connection, None
        if conn is not None:
            # The connection may already be dead (that is often why we drop it).
            with contextlib.suppress(Exception):
                await conn.close()


def advisory_lock_for(engine: AsyncEngine) -> AdvisoryLeaderLock | None:
    """The advisory leader lock on PostgreSQL; None where there are no advisory locks."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLeaderLock(engine)
    return None
