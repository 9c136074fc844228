"""Quiet hours: a nightly window of local time in which nothing is pushed to citizens.

Pushes that fall due inside the window wait until it ends; the dispatcher then sends the
urgent ones (a supplement request, a fee to pay) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """The window from `start` to `end` (local times in `tz`); it may span midnight."""

    start: time
    end: time
    tz: ZoneInfo = VIETNAM

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours need different start and end times")

    @classmethod
    def of(cls, window: tuple[time, time] | None, tz: ZoneInfo = VIETNAM) -> QuietHours | None:
        """From `bot.settings.parse_quiet_hours`'s result (None: no quiet hours)."""
        return None if window is None else cls(window[0], window[1], tz)

    def contains(self, moment: datetime) -> bool:
        """Whether the aware time `moment` falls inside the window."""
        local = moment.astimezone(self.tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, moment: datetime) -> datetime:
        """When the window containing `moment` ends (as an aware time in `tz`); `moment`
        itself when it is outside the window."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.tz)
        end = datetime.combine(local.date(), self.end, tzinfo=self.tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.tz)
        return end
