"""Periodic jobs, wired in the composition root: APScheduler 3's asyncio scheduler underneath.

Each job runs at most once at a time and never beside another job of the same schedule (they
share one lock: the watcher's poll and sweep must not interleave), a missed run is not made
up, and a failure is logged and retried at the next run: nothing is lost, because the jobs
keep their state in the database. `stop` lets a running job finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    seconds: float
    job: Job
    first_now: bool


class JobSchedule:
    """A set of periodic jobs: ``every(…)`` them, then `start` and, at the end, `stop`."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._scheduler: AsyncIOScheduler | None = None
        self._busy = asyncio.Lock()

    def every(self, seconds: float, job: Job, *, name: str, first_now: bool = False) -> None:
        """Run `job` every `seconds` (the first time at once with `first_now`)."""
        if self._scheduler is not None:
            raise RuntimeError("add jobs before the schedule starts")
        self._entries.append(_Entry(name, seconds, job, first_now))

    async def start(self) -> None:
        """Start running the jobs; returns at once."""
        if self._scheduler is not None:
            raise RuntimeError("the schedule is already running")
        scheduler = AsyncIOScheduler(timezone="UTC")
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        for entry in self._entries:
            if entry.first_now:
                common["next_run_time"] = datetime.now().astimezone()
            else:
                common.pop("next_run_time", None)
            scheduler.add_job(
                self._guarded(entry), "interval", seconds=entry.seconds, id=entry.name, **common
            )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop scheduling and wait for a running job to finish."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        async with self._busy:
            pass

    def _guarded(self, entry: _Entry) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async with self._busy:
                if self._scheduler is None:
                    return
                try:
                    await entry.job()
                except Exception:
                    # The next run retries; nothing is lost (the state is in the database).
                    log.exception("%s: run failed", entry.name)

        return run
