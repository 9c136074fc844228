"""Channel limits: the intervals the claim hands out slots by."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.notify.throttle import (
    DEFAULT_LIMITS,
    ChannelLimit,
    SendWindow,
    SlotCursor,
    max_in_window,
)


def test_the_chat_interval_has_the_wider_margin() -> None:
    telegram = DEFAULT_LIMITS["telegram"]
    # 30 messages/s overall keeps a 4 % margin; a chat's one message a second keeps 10 %.
    assert telegram.slot_interval == timedelta(seconds=1.04 / 30)
    assert telegram.chat_interval == timedelta(seconds=1.1)


def test_each_margin_widens_its_own_interval() -> None:
    limit = ChannelLimit(per_second=10, per_chat_interval=2.0, safety=0.05, chat_safety=0.25)
    assert limit.slot_interval == timedelta(seconds=0.105)
    assert limit.chat_interval == timedelta(seconds=2.5)


@pytest.mark.parametrize(
    "arguments",
    [{"per_second": 0}, {"per_second": 5, "safety": -0.1}, {"per_second": 5, "chat_safety": -1}],
)
def test_impossible_limits_are_refused(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ChannelLimit(**arguments)


# --------------------------------------------------------------------------- every 1-s window
# The pacing arithmetic on a fake clock: numbers in, numbers out, no waiting.


def test_max_in_window_counts_the_worst_sliding_second() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.999, 1.0, 1.5]) == 3
    assert max_in_window([0.0, 1.0, 2.0]) == 1
    assert max_in_window([3.0, 0.1, 0.2]) == 2  # any order


def test_the_send_window_holds_a_burst_to_the_rate_in_every_second() -> None:
    window = SendWindow.of(DEFAULT_LIMITS["telegram"])
    starts = [window.reserve(0.0) for _ in range(95)]  # all due at once

    assert starts == sorted(starts)
    assert max_in_window(starts, 1.0) == 30
    assert starts[29] == 0.0 and starts[30] == pytest.approx(1.04)


def test_the_send_window_never_holds_sends_on_their_slots() -> None:
    limit = DEFAULT_LIMITS["telegram"]
    window = SendWindow.of(limit)
    step = limit.slot_interval.total_seconds()
    slots = [n * step for n in range(300)]

    starts = [window.reserve(slot) for slot in slots]

    # At most a rounding error later: the slots are spaced exactly as the window wants.
    assert max(start - slot for start, slot in zip(starts, slots, strict=True)) < 1e-6


def _claimed_slots(limit: ChannelLimit, rows: int, rng: random.Random) -> list[float]:
    """Slots handed out by successive claims, as the dispatcher's claims do, with the claims
    starting at irregular moments (seconds from 0)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    next_slot: datetime | None = None
    now = start
    slots: list[datetime] = []
    while len(slots) < rows:
        cursor = SlotCursor.open(limit, next_slot, now=now, horizon=1.0, lead=0.1)
        while not cursor.exhausted and len(slots) < rows:
            slot = cursor.take(None)
            assert slot is not None
            slots.append(slot)
        next_slot = cursor.next_slot
        now += timedelta(seconds=rng.uniform(0.05, 0.9))
    return [(slot - start).total_seconds() for slot in slots]


@pytest.mark.parametrize("seed", range(5))
def test_slots_and_late_sends_keep_every_second_within_the_rate(seed: int) -> None:
    rng = random.Random(seed)
    limit = DEFAULT_LIMITS["telegram"]
    slots = _claimed_slots(limit, 2000, rng)
    assert max_in_window(slots, 1.0) <= 29  # on their slots: 29 a second at most

    # Sends that wake up late (up to 80 ms, twice the margin) bunch up; the window spreads
    # them out again before they leave.
    window = SendWindow.of(limit)
    woken = [slot + rng.choice((0.0, 0.0, 0.0, rng.uniform(0, 0.08))) for slot in slots]
    starts = [window.reserve(moment) for moment in sorted(woken)]
    assert max_in_window(sorted(woken), 1.0) > 30  # what would have left without it
    assert max_in_window(starts, 1.0) <= 30

    # And the rate is kept: at least 95 % of the configured one.
    achieved = (len(starts) - 1) / (starts[-1] - starts[0])
    assert achieved >= 0.95 * limit.per_second


def test_a_send_window_for_a_slow_channel() -> None:
    window = SendWindow.of(ChannelLimit(per_second=0.5))
    starts = [window.reserve(0.0) for _ in range(3)]
    assert starts == [0.0, pytest.approx(2.08), pytest.approx(4.16)]
    with pytest.raises(ValueError):
        SendWindow(0, 1.0)
