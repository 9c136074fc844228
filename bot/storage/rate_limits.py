"""Limits as reservations in `rate_limits`: token buckets (GCRA) with a growing back-off.

Each key is one row. GCRA keeps a bucket as one time, the "theoretical arrival time" (TAT): a
bucket of `capacity` attempts refilled one per `step` allows an attempt at `now` when
``max(TAT, now) - now <= step × (capacity - 1)``, and taking it moves TAT on by one step. So
at most `capacity` attempts pass at any instant, and then one per step: a fixed window's
"twice the limit across the window edge" cannot happen.

A growing back-off (`Bucket.max_backoff_seconds`): once `capacity` attempts were taken without
the bucket coming to rest, each attempt doubles the step the next one adds, up to the maximum;
the growth is forgotten once the bucket has been full for `rest` (the row then expires).

`reserve` takes an attempt from several buckets in ONE upsert, whose ``WHERE`` refuses a bucket
that has none left; the row lock (PostgreSQL) or the write lock (SQLite) makes it atomic
across processes. If one bucket refuses, the attempts the others gave are returned at once
(all or nothing). Times are integer milliseconds, so the arithmetic is the same SQL on both
databases. Keys are built by `bot.limits`; this module never sees who they belong to.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

from bot.ports import Bucket, Reservation
from bot.storage.tables import rate_limits

# Pieces of the upsert. In ON CONFLICT DO UPDATE, `rate_limits.x` is the stored row (before
# this update) and `excluded.x` the row proposed for insertion, which carries the policy.
_AT_REST = "rate_limits.expires_ms <= :now"
_START = "(CASE WHEN rate_limits.tat_ms > :now THEN rate_limits.tat_ms ELSE :now END)"
_STEP = f"(CASE WHEN {_AT_REST} THEN excluded.step_ms ELSE rate_limits.next_step_ms END)"
_LEVEL = f"(CASE WHEN {_AT_REST} THEN 1 ELSE rate_limits.level + 1 END)"
_GROWN = (
    f"(CASE WHEN excluded.max_step_ms > excluded.step_ms AND {_LEVEL} >= excluded.capacity "
    f"THEN (CASE WHEN 2 * {_STEP} > excluded.max_step_ms THEN excluded.max_step_ms "
    f"ELSE 2 * {_STEP} END) ELSE excluded.step_ms END)"
)
_HAS_ROOM = f"{_START} - :now <= excluded.step_ms * (excluded.capacity - 1)"
_COLUMNS = (
    '"key", tat_ms, expires_ms, level, next_step_ms, last_step_ms, '
    "capacity, step_ms, max_step_ms, rest_ms"
)


@dataclass(frozen=True, slots=True)
class _Policy:
    """What a bucket's row is created with, all integers (milliseconds and counts)."""

    step: int
    first_step: int
    capacity: int
    max_step: int
    rest: int

    @classmethod
    def of(cls, bucket: Bucket) -> _Policy:
        return cls(
            int(bucket.step_ms),
            int(first_step(bucket)),
            int(bucket.capacity),
            int(bucket.max_step_ms),
            int(bucket.rest_ms),
        )


@functools.lru_cache(maxsize=64)
def _reserve_statement(policies: tuple[_Policy, ...]) -> TextClause:
    """Take one attempt from one bucket per policy (parameters now and key_i); returns
    (key, last_step_ms) for each bucket that gave one.

    The policies (a handful, from the settings) are written into the statement as integer
    literals and the statement is kept per combination, so a lookup binds three values instead
    of nineteen (binding cost more than running it). Text because SQLAlchemy cannot cache a
    multi-row VALUES upsert; the syntax is the same on SQLite and PostgreSQL."""
    now = "CAST(:now AS BIGINT)"  # so PostgreSQL does not take it for a 32-bit integer
    rows = ", ".join(
        f"(:key_{i}, {now} + {p.step}, {now} + {p.step + p.rest}, 1, {p.first_step}, "
        f"{p.step}, {p.capacity}, {p.step}, {p.max_step}, {p.rest})"
        for i, p in enumerate(policies)
    )
    return text(
        f"INSERT INTO rate_limits ({_COLUMNS}) VALUES {rows} "  # noqa: S608 (no input is interpolated)
        'ON CONFLICT ("key") DO UPDATE SET '
        f"tat_ms = {_START} + {_STEP}, "
        f"expires_ms = {_START} + {_STEP} + excluded.rest_ms, "
        f"level = {_LEVEL}, "
        f"next_step_ms = {_GROWN}, "
        f"last_step_ms = {_STEP}, "
        "capacity = excluded.capacity, step_ms = excluded.step_ms, "
        "max_step_ms = excluded.max_step_ms, rest_ms = excluded.rest_ms "
        f"WHERE {_HAS_ROOM} "
        'RETURNING "key", last_step_ms'
    )


# Return one attempt: the bucket's TAT moves back by the step that attempt added, and a
# back-off that grew because of it shrinks back.
_GIVE_BACK = text(
    "UPDATE rate_limits SET tat_ms = tat_ms - :step, expires_ms = expires_ms - :step, "
    "level = CASE WHEN level > 0 THEN level - 1 ELSE 0 END, "
    "next_step_ms = CASE WHEN :step < next_step_ms THEN :step ELSE next_step_ms END "
    'WHERE "key" = :key'
)

_STATE = select(
    rate_limits.c.key, rate_limits.c.tat_ms, rate_limits.c.expires_ms, rate_limits.c.next_step_ms
).where(rate_limits.c.key.in_(bindparam("keys", expanding=True)))


def epoch_ms(moment: datetime) -> int:
    """`moment` as integer milliseconds since the epoch (it must be timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return round(moment.timestamp() * 1000)


def first_step(bucket: Bucket) -> int:
    """The step a new row's second attempt adds (a capacity-1 back-off grows at once)."""
    if bucket.max_step_ms > bucket.step_ms and bucket.capacity <= 1:
        return min(2 * bucket.step_ms, bucket.max_step_ms)
    return bucket.step_ms


def wait_ms(bucket: Bucket, *, tat_ms: int, expires_ms: int, now_ms: int) -> int:
    """Milliseconds until `bucket` (stored as tat/expires) has an attempt again; 0 if now."""
    if expires_ms <= now_ms:
        return 0
    return max(0, max(tat_ms, now_ms) - now_ms - bucket.step_ms * (bucket.capacity - 1))


class SqlRateLimitRepository:
    """Implements `bot.ports.RateLimitRepository` on `rate_limits`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def reserve(self, buckets: Sequence[Bucket], *, now: datetime) -> Reservation:
        """Take one attempt from every bucket, or from none: one upsert when all have room;
        when one has not, the attempts the others gave go back and its wait is read."""
        if not buckets:
            return Reservation()
        if len({bucket.key for bucket in buckets}) != len(buckets):
            raise ValueError("each key may be reserved once per call")
        now_ms = epoch_ms(now)
        params: dict[str, Any] = {"now": now_ms}
        for i, bucket in enumerate(buckets):
            params[f"key_{i}"] = bucket.key
        statement = _reserve_statement(tuple(_Policy.of(bucket) for bucket in buckets))
        result = await self._connection.execute(statement, params)
        steps = {str(key): int(step) for key, step in result}
        taken = tuple((bucket.key, steps[bucket.key]) for bucket in buckets if bucket.key in steps)
        if len(taken) == len(buckets):
            return Reservation(taken=taken)
        await self.give_back(Reservation(taken=taken))
        refused = [bucket for bucket in buckets if bucket.key not in steps]
        wait = await self._wait_ms(refused, now_ms)
        return Reservation(refused_key=refused[0].key, retry_after_seconds=max(wait, 1) / 1000)

    async def give_back(self, reservation: Reservation) -> None:
        """Return the attempts of a reservation (one statement per bucket; rare)."""
        for key, step in reservation.taken:
            await self._connection.execute(_GIVE_BACK, {"key": key, "step": step})

    async def retry_after(self, buckets: Sequence[Bucket], *, now: datetime) -> float | None:
        """Seconds until every bucket has an attempt, or None if they all have one now."""
        if not buckets:
            return None
        wait = await self._wait_ms(buckets, epoch_ms(now))
        return wait / 1000 if wait > 0 else None

    async def purge(self, now: datetime) -> int:
        """Delete the rows of buckets at rest, which limit nothing any more."""
        result: CursorResult[Any] = await self._connection.execute(
            delete(rate_limits).where(rate_limits.c.expires_ms <= epoch_ms(now))
        )
        return max(result.rowcount, 0)

    async def _wait_ms(self, buckets: Sequence[Bucket], now_ms: int) -> int:
        rows = await self._connection.execute(_STATE, {"keys": [bucket.key for bucket in buckets]})
        state = {row.key: row for row in rows}
        wait = 0
        for bucket in buckets:
            row = state.get(bucket.key)
            if row is not None:
                wait = max(
                    wait,
                    wait_ms(bucket, tat_ms=row.tat_ms, expires_ms=row.expires_ms, now_ms=now_ms),
                )
        return wait


class SqlSecretRepository:
    """Implements `bot.ports.SecretRepository` on `server_secrets`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def get_or_create(self, name: str, candidate: str) -> str:
        """The stored secret `name`, storing `candidate` first if there is none (two processes
        starting at once agree on the first one stored)."""
        await self._connection.execute(_INSERT_SECRET, {"name": name, "value": candidate})
        query = text("SELECT value FROM server_secrets WHERE name = :name")
        return str((await self._connection.execute(query, {"name": name})).scalar_one())


_INSERT_SECRET = text(
    "INSERT INTO server_secrets (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING"
)
