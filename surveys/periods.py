"""Reporting periods: a month (``2026-10``), a quarter (``2026-Q3``) or a year (``2026``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, slots=True)
class Period:
    """A span of whole local months, first to last inclusive, each as YYYYMM."""

    label: str
    first_month: int
    last_month: int

    @property
    def first_day(self) -> date:
        """The first local day of the period."""
        return date(self.first_month // 100, self.first_month % 100, 1)

    @property
    def end_day(self) -> date:
        """The first local day after the period."""
        year, month = divmod(self.last_month, 100)
        return date(year + month // 12, month % 12 + 1, 1)

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as [start, end) instants, from local midnight to local midnight."""
        start = datetime.combine(self.first_day, datetime.min.time(), tzinfo=tz)
        end = datetime.combine(self.end_day, datetime.min.time(), tzinfo=tz)
        return start, end

    def months(self) -> list[int]:
        """Every month of the period, as YYYYMM."""
        result, day = [], self.first_day
        while day < self.end_day:
            result.append(day.year * 100 + day.month)
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        return result


def parse_period(text: str) -> Period:
    """Parse ``2026-10``, ``2026-Q3`` or ``2026``; ValueError with a readable message."""
    value = text.strip()
    if match := _MONTH.match(value):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"no month {month} in {text!r}")
        return Period(f"{year}-{month:02d}", year * 100 + month, year * 100 + month)
    if match := _QUARTER.match(value):
        year, quarter = int(match.group(1)), int(match.group(2))
        first = (quarter - 1) * 3 + 1
        return Period(f"{year}-Q{quarter}", year * 100 + first, year * 100 + first + 2)
    if match := _YEAR.match(value):
        year = int(match.group(1))
        return Period(str(year), year * 100 + 1, year * 100 + 12)
    raise ValueError(f"not a period: {text!r} (use 2026-10, 2026-Q3 or 2026)")


def current_year(now: datetime, tz: ZoneInfo) -> Period:
    """The local calendar year of `now`."""
    return parse_period(str(now.astimezone(tz).year))
