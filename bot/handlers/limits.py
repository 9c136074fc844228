"""Per-user and per-dossier limits, counted in the database so every process shares them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from bot.ports import RateLimitRepository


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `allowed` events per `window_seconds` for one key."""

    key: str
    allowed: int
    window_seconds: int


def seconds_until_window_ends(now: datetime, window_seconds: int) -> int:
    """Seconds until the fixed window that contains `now` ends (at least 1)."""
    elapsed = now.timestamp() % window_seconds
    return max(1, math.ceil(window_seconds - elapsed))


async def take(repo: RateLimitRepository, limits: list[Limit], now: datetime) -> int | None:
    """Count one event against every limit; None if all allow it, else seconds to wait."""
    counts = await repo.hit_many([(lim.key, lim.window_seconds) for lim in limits], now=now)
    wait = 0
    for limit, count in zip(limits, counts, strict=True):
        if count > limit.allowed:
            wait = max(wait, seconds_until_window_ends(now, limit.window_seconds))
    return wait or None


async def blocked_for(repo: RateLimitRepository, limits: list[Limit], now: datetime) -> int | None:
    """Seconds to wait if any limit is already used up, without counting an event."""
    wait = 0
    for limit in limits:
        count = await repo.count(limit.key, window_seconds=limit.window_seconds, now=now)
        if count >= limit.allowed:
            wait = max(wait, seconds_until_window_ends(now, limit.window_seconds))
    return wait or None


def minutes_text(seconds: int) -> int:
    """Whole minutes to tell a citizen (rounded up, at least 1)."""
    return max(1, math.ceil(seconds / 60))
