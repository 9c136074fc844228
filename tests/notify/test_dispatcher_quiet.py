"""Quiet hours and the retry policy, on their own."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time

import pytest

from bot.notify.dispatcher import Backoff
from bot.notify.quiet import VIETNAM, QuietHours
from bot.settings import parse_quiet_hours


def local(hour: int, minute: int = 0, day: int = 14) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=VIETNAM)


def test_a_window_across_midnight() -> None:
    quiet = QuietHours.of(parse_quiet_hours("21:00-07:00"))
    assert quiet is not None
    inside = [local(21), local(23, 59), local(0), local(6, 59)]
    outside = [local(7), local(12), local(20, 59)]
    assert all(quiet.contains(t) for t in inside)
    assert not any(quiet.contains(t) for t in outside)
    assert quiet.contains(datetime(2025, 3, 14, 14, 30, tzinfo=UTC))  # 21:30 local
    assert quiet.ends_after(local(22)) == local(7, day=15)
    assert quiet.ends_after(local(3)) == local(7)
    assert quiet.ends_after(local(9)) == local(9)


def test_a_window_within_one_day_and_none() -> None:
    quiet = QuietHours(time(12, 0), time(13, 30))
    assert quiet.contains(local(12, 45))
    assert not quiet.contains(local(13, 30))
    assert QuietHours.of(parse_quiet_hours("off")) is None
    with pytest.raises(ValueError, match="differ"):
        QuietHours(time(1), time(1))


def test_backoff_grows_with_jitter_up_to_the_cap() -> None:
    policy = Backoff(max_attempts=8, base=5, cap=60)
    rng = random.Random(4)
    for attempts, full in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (8, 60)]:
        delays = [policy.delay(attempts, rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 4  # really jittered
