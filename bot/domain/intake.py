"""One item from the case system, checked on its own (design §4, issue 12 finding 5).

A changes page or a batch of pushed case events holds many dossiers. Each is checked here
by itself, so that one item off the contract (a negative fee, a missing field, a code the
database cannot key on) is set aside as a `RejectedItem` — kept with its reason and a
bounded copy of what was sent — while the others go through.

`settle` then makes the times of an accepted dossier safe to compare: a `status_changed_at`
(or `received_at`, `returned_at`) more than `FUTURE_SKEW` ahead of our clock is taken as
"now", so one dossier stamped in the year 2099 cannot mute every later real change of it.

`stored_text` fits the contract's plain strings (any length) to what the bot keeps of them,
cut with "…", identically whatever the database.

Pure functions, no I/O. Reasons name field locations and error kinds only, never values:
the values may be an applicant's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from bot.domain.dossier import Dossier
from bot.domain.status import Status

FUTURE_SKEW = timedelta(minutes=5)
"""How far ahead of our clock a case-system time may be before it is taken as "now"."""

MAX_CODE_CHARS = 64
"""The longest dossier code the database keys on (the format's codes have 25 or so)."""

MAX_RAW_CHARS = 8000
"""How much of a rejected item's JSON is kept for the operator."""

MAX_REASON_CHARS = 300
MAX_EVENT_ID_CHARS = 128

CUT_MARK = "…"
"""Marks a text that was cut short."""

CODE_CHARS = 64
"""The longest agency or procedure code kept (the contract's are far shorter)."""
NAME_CHARS = 255
"""The longest agency name or field (lĩnh vực) kept."""
PROCEDURE_NAME_CHARS = 500
"""The longest procedure name kept."""

SETTLED_TIMES = ("status_changed_at", "received_at", "returned_at")
"""The past-tense times of a dossier; `due_at` and `original_due_at` may rightly be ahead."""


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """An item set aside: why, the dossier code if one could be read, and what was sent.

    `position` places it among the valid items of its page or batch: how many of them came
    before it (a valid version of the same dossier from that index on came later and
    supersedes it). `event_id` is the pushed event's id, if pushed.
    """

    reason: str
    raw: str
    code: str | None = None
    position: int = 0
    event_id: str | None = None


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with "…" when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(CUT_MARK), 0)] + CUT_MARK


def bounded(item: RejectedItem) -> RejectedItem:
    """`item` as the quarantine keeps it, whoever made it: reason, JSON and event id cut to
    their bounds, without NUL characters."""
    return replace(
        item,
        reason=stored_text(item.reason, MAX_REASON_CHARS),
        raw=stored_text(item.raw, MAX_RAW_CHARS),
        event_id=None if item.event_id is None else stored_text(item.event_id, MAX_EVENT_ID_CHARS),
    )


def stored_text(text: str, limit: int) -> str:
    """`text` as kept by the bot: without NUL characters (PostgreSQL's text types cannot hold
    them) and cut to `limit` characters with "…". Every storage adapter keeps the same value,
    so a long name is stored alike on SQLite, PostgreSQL and in memory."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return clip(text, limit)


def raw_json(raw: Any) -> str:
    """`raw` as JSON text, at most `MAX_RAW_CHARS` characters (cut with "…")."""
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(raw)
    return clip(text, MAX_RAW_CHARS)


def _readable_code(raw: Any) -> str | None:
    code = raw.get("code") if isinstance(raw, dict) else None
    if isinstance(code, str) and code.strip() and len(code) <= MAX_CODE_CHARS:
        return code
    return None


def _reason_of(error: ValidationError) -> str:
    """The fields that do not fit and how, without their values."""
    parts = sorted(
        {f"{'.'.join(str(p) for p in e['loc']) or '(item)'}: {e['type']}" for e in error.errors()}
    )
    shown = "; ".join(parts[:5]) + ("; …" if len(parts) > 5 else "")
    return clip(f"not a Dossier of the contract ({shown})", MAX_REASON_CHARS)


def parse_item(
    raw: Any, *, position: int = 0, event_id: str | None = None
) -> Dossier | RejectedItem:
    """One dossier of a changes page or a pushed event, or why it has to be set aside."""
    try:
        dossier = Dossier.model_validate(raw)
    except ValidationError as error:
        return RejectedItem(
            _reason_of(error), raw_json(raw), _readable_code(raw), position, event_id
        )
    code = dossier.code
    if not code.strip() or len(code) > MAX_CODE_CHARS or not code.isprintable():
        reason = (
            f"code: empty, longer than {MAX_CODE_CHARS} characters or with control characters "
            "(cannot be stored)"
        )
        return RejectedItem(reason, raw_json(raw), None, position, event_id)
    return dossier


def unstorable(dossier: Dossier, cause: str, *, index: int) -> RejectedItem:
    """A valid dossier the database refused (`cause` names the database's error); `index` is
    its own place among the valid items, so only a version after it supersedes it."""
    position = index + 1
    reason = clip(f"could not be stored ({cause})", MAX_REASON_CHARS)
    return RejectedItem(
        reason, clip(dossier.model_dump_json(), MAX_RAW_CHARS), dossier.code, position
    )


def future_times(dossier: Dossier, now: datetime, *, skew: timedelta = FUTURE_SKEW) -> list[str]:
    """The names of `dossier`'s past-tense times that lie more than `skew` ahead of `now`."""
    latest = now + skew
    return [
        name
        for name in SETTLED_TIMES
        if (moment := getattr(dossier, name)) is not None and moment > latest
    ]


def settle(
    dossier: Dossier,
    now: datetime,
    *,
    previous: tuple[Status, datetime] | None = None,
    skew: timedelta = FUTURE_SKEW,
) -> Dossier:
    """`dossier` with its past-tense times more than `skew` ahead of `now` taken as `now`.

    `previous` is the status and `status_changed_at` the bot already holds for the dossier.
    When a future-stamped change repeats that status, it keeps the time already held: "now"
    moves on, and seeing the same item again must not look like a new change of status.
    """
    late = future_times(dossier, now, skew=skew)
    if not late:
        return dossier
    moved: dict[str, datetime] = dict.fromkeys(late, now)
    if "status_changed_at" in moved and previous is not None and previous[0] is dossier.status:
        moved["status_changed_at"] = min(previous[1], now)
    return dossier.model_copy(update=moved)
