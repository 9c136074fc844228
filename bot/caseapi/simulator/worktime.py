"""Office working time: 7h30–11h30 and 13h30–17h00, Monday to Friday, Vietnam time.

Durations in the simulator are counted in *working seconds*: an integer scale on which
weekends, nights and the lunch break do not exist, so "three working days later" is plain
addition. `to_ws` and `from_ws` convert between that scale and aware datetimes. Public
holidays are not modelled (a deliberate simplification).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")
"""Asia/Ho_Chi_Minh has had no daylight saving time since 1975: a fixed +07:00 is exact."""

MORNING = 4 * 3600
"""Working seconds in the morning session (7h30–11h30)."""
AFTERNOON = 3 * 3600 + 1800
"""Working seconds in the afternoon session (13h30–17h00)."""
DAY = MORNING + AFTERNOON
"""Working seconds in one working day."""

_MORNING_START = 7 * 3600 + 1800
_AFTERNOON_START = 13 * 3600 + 1800
_DAY_END = 17 * 3600
_EPOCH = datetime(2000, 1, 3, tzinfo=VN_TZ)  # a Monday


def day_start(day: int) -> datetime:
    """The datetime at 7h30 of working day number `day`."""
    weeks, weekday = divmod(day, 5)
    return _EPOCH + timedelta(weeks * 7 + weekday, _MORNING_START)


def day_end(day: int) -> datetime:
    """The datetime at 17h00 of working day number `day` (an appointment's time)."""
    weeks, weekday = divmod(day, 5)
    return _EPOCH + timedelta(weeks * 7 + weekday, _DAY_END)


def from_ws(ws: int) -> datetime:
    """The datetime (Vietnam time) of working second `ws`."""
    day, second = divmod(ws, DAY)
    weeks, weekday = divmod(day, 5)
    clock = _MORNING_START + second if second < MORNING else _AFTERNOON_START + second - MORNING
    return _EPOCH + timedelta(weeks * 7 + weekday, clock)  # (days, seconds)


def to_ws(moment: datetime) -> int:
    """The first working second at or after `moment` (rounding up out of off-hours).

    Something scheduled at working second `w` has happened at `moment` iff `w < to_ws(moment)`.
    """
    local = moment.astimezone(VN_TZ)
    days = (local.date() - _EPOCH.date()).days
    weeks, weekday = divmod(days, 7)
    if weekday >= 5:
        return (weeks * 5 + 5) * DAY
    day = weeks * 5 + weekday
    clock = local.hour * 3600 + local.minute * 60 + local.second + (1 if local.microsecond else 0)
    if clock <= _MORNING_START:
        return day * DAY
    if clock <= _MORNING_START + MORNING:
        return day * DAY + clock - _MORNING_START
    if clock <= _AFTERNOON_START:
        return day * DAY + MORNING
    if clock < _DAY_END:
        return day * DAY + MORNING + clock - _AFTERNOON_START
    return (day + 1) * DAY


def due_after(moment: datetime, working_days: int) -> datetime:
    """The appointment for a procedure of `working_days` received at `moment`.

    The appointment is 17h00 of the working day `working_days` after the day of receipt
    (the same day for same-day procedures); off-hours receipt counts from the next opening.
    """
    return day_end(to_ws(moment) // DAY + working_days)


def local_now(moment: datetime) -> datetime:
    """`moment` in Vietnam time, to the second (the case API's resolution)."""
    return moment.astimezone(VN_TZ).replace(microsecond=0)


__all__ = [
    "AFTERNOON",
    "DAY",
    "MORNING",
    "VN_TZ",
    "day_end",
    "day_start",
    "due_after",
    "from_ws",
    "local_now",
    "to_ws",
]
