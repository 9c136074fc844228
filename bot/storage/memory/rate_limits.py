"""Rate limits and server secrets in memory: the twins of `bot.storage.rate_limits`.

The limits are the GCRA buckets of the SQL statement, step for step (including how a refused
reservation first takes and then gives back the other buckets' attempts). Both repositories
work on a plain dict, a unit of work's table or a test's own, so a test can use one alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from bot.ports import Bucket, Reservation
from bot.storage.memory.database import BucketRow
from bot.storage.rate_limits import epoch_ms, first_step, wait_ms


def _taken(row: BucketRow | None, bucket: Bucket, now_ms: int) -> BucketRow | None:
    """The row after one attempt is taken from it, or None when it has no room (the upsert)."""
    if row is None:
        return BucketRow(
            tat_ms=now_ms + bucket.step_ms,
            expires_ms=now_ms + bucket.step_ms + bucket.rest_ms,
            level=1,
            next_step_ms=first_step(bucket),
            last_step_ms=bucket.step_ms,
            capacity=bucket.capacity,
            step_ms=bucket.step_ms,
            max_step_ms=bucket.max_step_ms,
            rest_ms=bucket.rest_ms,
        )
    at_rest = row.expires_ms <= now_ms
    start = max(row.tat_ms, now_ms)
    if start - now_ms > bucket.step_ms * (bucket.capacity - 1):
        return None
    step = bucket.step_ms if at_rest else row.next_step_ms
    level = 1 if at_rest else row.level + 1
    grows = bucket.max_step_ms > bucket.step_ms and level >= bucket.capacity
    return BucketRow(
        tat_ms=start + step,
        expires_ms=start + step + bucket.rest_ms,
        level=level,
        next_step_ms=min(2 * step, bucket.max_step_ms) if grows else bucket.step_ms,
        last_step_ms=step,
        capacity=bucket.capacity,
        step_ms=bucket.step_ms,
        max_step_ms=bucket.max_step_ms,
        rest_ms=bucket.rest_ms,
    )


class MemoryRateLimitRepository:
    """`bot.ports.RateLimitRepository` in memory: the GCRA buckets of
    `bot.storage.rate_limits`, step for step (including how a refused reservation first takes
    and then gives back the other buckets' attempts)."""

    def __init__(self, rows: dict[str, BucketRow] | None = None) -> None:
        self.rows: dict[str, BucketRow] = {} if rows is None else rows

    async def reserve(self, buckets: Sequence[Bucket], *, now: datetime) -> Reservation:
        """Take one attempt from every bucket, or from none."""
        if not buckets:
            return Reservation()
        if len({bucket.key for bucket in buckets}) != len(buckets):
            raise ValueError("each key may be reserved once per call")
        now_ms = epoch_ms(now)
        taken: list[tuple[str, int]] = []
        refused: list[Bucket] = []
        for bucket in buckets:
            after = _taken(self.rows.get(bucket.key), bucket, now_ms)
            if after is None:
                refused.append(bucket)
            else:
                self.rows[bucket.key] = after
                taken.append((bucket.key, after.last_step_ms))
        if not refused:
            return Reservation(taken=tuple(taken))
        await self.give_back(Reservation(taken=tuple(taken)))
        wait = self._wait_ms(refused, now_ms)
        return Reservation(refused_key=refused[0].key, retry_after_seconds=max(wait, 1) / 1000)

    async def give_back(self, reservation: Reservation) -> None:
        """Return the attempts of a reservation."""
        for key, step in reservation.taken:
            row = self.rows.get(key)
            if row is None:
                continue
            self.rows[key] = dataclasses.replace(
                row,
                tat_ms=row.tat_ms - step,
                expires_ms=row.expires_ms - step,
                level=max(row.level - 1, 0),
                next_step_ms=min(step, row.next_step_ms),
            )

    async def retry_after(self, buckets: Sequence[Bucket], *, now: datetime) -> float | None:
        """Seconds until every bucket has an attempt, or None if they all have one now."""
        wait = self._wait_ms(buckets, epoch_ms(now))
        return wait / 1000 if wait > 0 else None

    async def purge(self, now: datetime) -> int:
        """Delete the rows of buckets at rest."""
        now_ms = epoch_ms(now)
        gone = [key for key, row in self.rows.items() if row.expires_ms <= now_ms]
        for key in gone:
            del self.rows[key]
        return len(gone)

    def _wait_ms(self, buckets: Sequence[Bucket], now_ms: int) -> int:
        wait = 0
        for bucket in buckets:
            row = self.rows.get(bucket.key)
            if row is not None:
                wait = max(
                    wait,
                    wait_ms(bucket, tat_ms=row.tat_ms, expires_ms=row.expires_ms, now_ms=now_ms),
                )
        return wait


class MemorySecretRepository:
    """`bot.ports.SecretRepository` in memory."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets: dict[str, str] = {} if secrets is None else secrets

    async def get_or_create(self, name: str, candidate: str) -> str:
        """The stored secret `name`, storing `candidate` first if there is none."""
        return self.secrets.setdefault(name, candidate)
