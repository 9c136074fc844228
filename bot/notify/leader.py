"""Leader election: only one process among those sharing the database polls the case API.

`LeaseLeaderLock` works on any database through the watch repository's lease: the holder
renews it on every `acquire`, it lapses `ttl` after the last renewal, and then any process
may take it. On PostgreSQL the composition root prefers an advisory lock
(`bot.storage.leader.AdvisoryLeaderLock`), which PostgreSQL frees the moment its holder dies.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from bot.ports import Clock, UnitOfWorkFactory


def default_holder() -> str:
    """A name for this process, unique across hosts and restarts."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLeaderLock:
    """A renewable lease in the watch repository (`bot.ports.LeaderLock`)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        ttl: timedelta,
        holder: str | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._ttl = ttl
        self.holder = holder or default_holder()

    async def acquire(self) -> bool:
        """Take or renew the lease; whether this process holds it."""
        async with self._uow_factory() as uow:
            held = await uow.watch.take_lease(self.holder, ttl=self._ttl, now=self._clock.now())
            await uow.commit()
        return held

    async def release(self) -> None:
        """Give the lease up at once (a stand-by need not wait for it to lapse)."""
        async with self._uow_factory() as uow:
            await uow.watch.release_lease(self.holder, now=self._clock.now())
            await uow.commit()


def lease_for(poll_interval: float) -> timedelta:
    """How long a lease lasts without renewal: three poll cycles, at least 15 seconds."""
    return timedelta(seconds=max(3 * poll_interval, 15.0))
