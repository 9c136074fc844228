"""PostgreSQL's leader lock (`bot.storage.leader`): a session-level advisory lock, which passes
to a stand-by when the leader's connection dies."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.storage.engine import create_engine
from bot.storage.leader import WATCHER_LOCK_ID, AdvisoryLeaderLock, advisory_lock_for


@pytest.mark.postgres
async def test_the_advisory_lock_passes_on_when_the_leader_connection_dies(
    database_url: str, database_backend: str
) -> None:
    if database_backend != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    one, two = create_engine(database_url), create_engine(database_url)
    try:
        assert isinstance(advisory_lock_for(one), AdvisoryLeaderLock)
        leader, stand_by = AdvisoryLeaderLock(one), AdvisoryLeaderLock(two)
        assert await leader.acquire()
        assert await leader.acquire()
        assert not await stand_by.acquire()
        async with one.connect() as conn:
            pids = await conn.execute(
                # pg_locks covers the whole server: other databases may use the same key.
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :key "
                    "AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"key": WATCHER_LOCK_ID},
            )
            (pid,) = pids.scalars()
        async with two.connect() as conn:  # the leader's process dies: its session ends
            # With a timeout (ms) the call waits until the backend has exited, and with it
            # the lock; without one it only signals, and the stand-by could look too early.
            await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        assert await stand_by.acquire()
        assert not await leader.acquire()  # notices it lost the lock, and stands by
        await stand_by.release()
        assert await leader.acquire()
        await leader.release()
    finally:
        await one.dispose()
        await two.dispose()
