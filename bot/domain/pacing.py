"""Pacing arithmetic: a channel's sending limits and the send slots handed out under them.

Pure values and arithmetic, no I/O: the dispatcher passes the limits to the delivery queue's
claim, whose storage adapter hands out the slots with `SlotCursor` inside the claim
transaction (see `bot.notify.throttle` for the scheme across processes).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ChannelLimit:
    """The sending limits of one channel.

    `per_second` is the channel's overall rate; `per_chat_interval` the least time between two
    messages to one chat (0 for none). `safety` widens the channel's slot interval by that
    fraction, `chat_safety` the chat's interval.
    """

    per_second: float
    per_chat_interval: float = 1.0
    safety: float = 0.04
    chat_safety: float = 0.1

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("per_second must be positive")
        if self.per_chat_interval < 0 or self.safety < 0 or self.chat_safety < 0:
            raise ValueError("per_chat_interval and the safety margins must not be negative")

    @property
    def slot_interval(self) -> timedelta:
        """The time between two consecutive send slots of the channel."""
        return timedelta(seconds=(1.0 + self.safety) / self.per_second)

    @property
    def chat_interval(self) -> timedelta:
        """The least time between two sends to one chat."""
        return timedelta(seconds=self.per_chat_interval * (1.0 + self.chat_safety))


@dataclass(slots=True)
class SlotCursor:
    """Hands out one channel's send slots during a claim (see the module docstring)."""

    limit: ChannelLimit
    next_slot: datetime
    last_slot: datetime  # the latest slot that may be handed out (now + horizon)
    taken: int = 0

    @classmethod
    def open(
        cls,
        limit: ChannelLimit,
        next_slot_at: datetime | None,
        *,
        now: datetime,
        horizon: float,
        lead: float = 0.0,
    ) -> SlotCursor:
        """A cursor starting at the channel's next free slot, or `lead` seconds from now if
        that is later (time for the claim to commit and the send to start)."""
        earliest = now + timedelta(seconds=lead)
        start = earliest if next_slot_at is None or next_slot_at < earliest else next_slot_at
        return cls(limit, start, now + timedelta(seconds=horizon))

    @property
    def exhausted(self) -> bool:
        """Whether every slot up to the horizon has been handed out."""
        return self.next_slot > self.last_slot

    @property
    def capacity(self) -> int:
        """How many slots are left up to the horizon."""
        if self.exhausted:
            return 0
        return int((self.last_slot - self.next_slot) / self.limit.slot_interval) + 1

    def take(self, user_next_send_at: datetime | None) -> datetime | None:
        """The next slot for a user allowed to receive from `user_next_send_at` on, or None
        when that user must wait past it (the slot stays free for another user)."""
        if self.exhausted:
            return None
        slot = self.next_slot
        if user_next_send_at is not None and user_next_send_at > slot:
            return None
        self.next_slot = slot + self.limit.slot_interval
        self.taken += 1
        return slot


@dataclass(frozen=True, slots=True)
class ClaimCandidate:
    """A notice a claim may take, as the slot planning needs it; `payload` is the adapter's."""

    id: int
    user_id: int
    channel: str
    blocked: bool
    expires_at: datetime | None
    next_send_at: datetime | None  # the user's pacing: no send to them before this
    payload: object = None


@dataclass(slots=True)
class ClaimPlan:
    """What a claim does with its candidates: the taken ones with their slots, the expired
    and the blocked ones to settle at once, and each taken user's next allowed send."""

    claimed: list[tuple[ClaimCandidate, datetime]] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    user_next: dict[int, datetime] = field(default_factory=dict)


def plan_claim(
    candidates: Iterable[ClaimCandidate],
    cursors: Mapping[str, SlotCursor],
    *,
    now: datetime,
    budget: int,
) -> ClaimPlan:
    """Hand out send slots to `candidates` (in priority order): at most `budget` notices and
    one per user, each in its channel's next free slot that the user's pacing allows.
    Candidates found expired or of users who blocked the bot are set aside whatever the
    budget. The storage adapters run this inside the claim's transaction."""
    plan = ClaimPlan()
    users_seen: set[int] = set()
    for candidate in candidates:
        if candidate.expires_at is not None and candidate.expires_at <= now:
            plan.expired.append(candidate.id)
            continue
        if candidate.blocked:
            plan.blocked.append(candidate.id)
            continue
        if len(plan.claimed) >= budget or candidate.user_id in users_seen:
            continue
        users_seen.add(candidate.user_id)
        cursor = cursors[candidate.channel]
        slot = cursor.take(candidate.next_send_at)
        if slot is None:
            continue
        plan.claimed.append((candidate, slot))
        plan.user_next[candidate.user_id] = slot + cursor.limit.chat_interval
    return plan


@dataclass(slots=True)
class SendWindow:
    """At most `limit` send starts in any window of `window` seconds (one process, one
    channel). `reserve` hands out start times atomically: there is no await between the check
    and the record, so concurrent sends of one event loop cannot both take the last place."""

    limit: int
    window: float
    _starts: deque[float] = field(default_factory=deque)

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError("a send window needs a positive limit and length")

    @classmethod
    def of(cls, limit: ChannelLimit) -> SendWindow:
        """The window for `limit`: its rate (whole messages) per second, widened by its
        safety margin — exactly the spacing of its slots, so on-time sends pass freely."""
        count = max(1, math.floor(limit.per_second))
        return cls(count, count * (1.0 + limit.safety) / limit.per_second)

    def reserve(self, now: float) -> float:
        """The earliest start at or after `now` that keeps the limit; it is recorded as taken.

        Starts are handed out in order, so a caller sleeps until its start and then sends.
        """
        start = now
        if self._starts:
            start = max(start, self._starts[-1])
        if len(self._starts) >= self.limit:
            start = max(start, self._starts[-self.limit] + self.window)
        self._starts.append(start)
        while len(self._starts) > self.limit:
            self._starts.popleft()
        return start


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most of `times` (seconds, in any order) inside any half-open window ``[t, t +
    window)``: what a platform counting messages per second would see at worst."""
    ordered = sorted(times)
    most = 0
    first = 0
    for last, moment in enumerate(ordered):
        while ordered[first] <= moment - window:
            first += 1
        most = max(most, last - first + 1)
    return most
