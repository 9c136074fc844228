"""Which dossier changes notify whom (design §5): pure functions, no I/O.

`apply_change` compares a dossier as the case API now describes it with the snapshot the bot
kept of it, and says what to do: the snapshot to store, the notices to queue for the
subscribers, whether the subscriptions end, which pending notices to cancel. `overdue_notices`
is the periodic "the appointment date has passed without a result" check.

Every notice has a deduplication key naming the user, the dossier and the event, so seeing
the same change twice (a crash mid-page, the poller and a pushed event both) queues it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.dossier import Dossier
from bot.domain.notice_kinds import NoticeKind
from bot.domain.snapshot import Recipient, Snapshot, mark_overdue_notified
from bot.domain.status import Status
from bot.ports import Notice

__all__ = [
    "ChangeOutcome",
    "Recipient",
    "RuleConfig",
    "Snapshot",
    "apply_change",
    "mark_overdue_notified",
    "overdue_notices",
]


# The case API stamps changes to the second (or coarser) while subscriptions are stamped to
# the microsecond; a citizen who subscribes in the same moment as a change must still be told
# (a repeated notice is harmless, a missed pickup notice or survey invitation is not).
SUBSCRIBED_BEFORE_GRACE = timedelta(seconds=5)

STATUS_NOTICES: frozenset[Status] = frozenset(
    {
        Status.RECEIVED,
        Status.NOT_ACCEPTED,
        Status.SUPPLEMENT_REQUIRED,
        Status.PAYMENT_REQUIRED,
        Status.WITHDRAWN,
        Status.STOPPED,
        Status.READY,
        Status.RETURNED,
    }
)
"""Statuses a subscriber is told about; the notice kind is the status value."""

URGENT: frozenset[Status] = frozenset({Status.SUPPLEMENT_REQUIRED, Status.PAYMENT_REQUIRED})
"""The citizen must act: these go first when quiet hours end."""

NOTICE_KINDS: frozenset[NoticeKind] = frozenset(
    {NoticeKind.of_status(status) for status in STATUS_NOTICES}
    | {NoticeKind.EXTENSION, NoticeKind.OVERDUE, NoticeKind.REMINDER}
)
"""Every kind the watcher queues, except the survey invitation (rendered by the survey)."""


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """The tunable parts of the rules (from settings)."""

    reminder_days: tuple[int, ...] = (3, 7)
    survey_delay: timedelta = timedelta(seconds=1800)
    survey_ttl: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    """What one change means.

    `snapshot` is None when the change is stale (older than what the bot has seen): then
    nothing at all happens. `end_reason` is set when the dossier's subscriptions end;
    `cancel_kinds` names pending notices about the dossier to cancel.
    """

    snapshot: Snapshot | None
    notices: list[Notice] = field(default_factory=list)
    end_reason: str | None = None
    cancel_kinds: tuple[str, ...] = ()


def apply_change(
    old: Snapshot | None,
    new: Dossier,
    recipients: Sequence[Recipient],
    now: datetime,
    config: RuleConfig,
) -> ChangeOutcome:
    """What to do about `new`, given the snapshot `old` (None: never seen) and its followers.

    - older `status_changed_at` than the snapshot: stale, nothing happens;
    - the same `status_changed_at`: no status notice (a repeat), but a later appointment date
      is an extension;
    - a newer one: the status notice of design §5, reminders when ready, the end of the
      subscriptions and the survey invitation on a final status.

    A dossier never seen before notifies only the subscribers who followed it before the
    change happened, give or take `SUBSCRIBED_BEFORE_GRACE` (the others saw its status when
    they subscribed). Blocked users get nothing.
    """
    if old is not None and new.status_changed_at < old.status_changed_at:
        return ChangeOutcome(snapshot=None)
    snapshot = Snapshot.of(new, overdue_notified_at=_overdue_mark(old, new))
    status_event = old is None or new.status_changed_at > old.status_changed_at
    audience = [
        r
        for r in recipients
        if not r.blocked
        and (old is not None or r.subscribed_at <= new.status_changed_at + SUBSCRIBED_BEFORE_GRACE)
    ]
    notices: list[Notice] = []
    if status_event and new.status in STATUS_NOTICES:
        notices += _status_notices(new, audience, now, config)
    if old is not None and _is_extension(old, new):
        notices += _extension_notices(old, new, audience)
    if not status_event or not new.status.is_final:
        return ChangeOutcome(snapshot, notices)
    return ChangeOutcome(
        snapshot, notices, end_reason=new.status.value, cancel_kinds=(NoticeKind.REMINDER,)
    )


def overdue_notices(
    snapshot: Snapshot, recipients: Sequence[Recipient], now: datetime
) -> list[Notice]:
    """The "appointment date passed without a result" notices, once per appointment date.

    Empty unless the snapshot is overdue at `now` and has not been reported yet.
    """
    if (
        snapshot.due_at is None
        or now <= snapshot.due_at
        or not snapshot.is_overdue_candidate
        or snapshot.overdue_notified_at is not None
    ):
        return []
    params = {
        **_base_params_of_snapshot(snapshot),
        "due_at": _stamp(snapshot.due_at),
    }
    return [
        Notice(
            user_id=r.user_id,
            kind=NoticeKind.OVERDUE,
            dedup_key=f"{r.user_id}:{snapshot.code}:{NoticeKind.OVERDUE}:{_stamp(snapshot.due_at)}",
            dossier_code=snapshot.code,
            params=params,
        )
        for r in recipients
        if not r.blocked
    ]


# --------------------------------------------------------------------------- internals


def _overdue_mark(old: Snapshot | None, new: Dossier) -> datetime | None:
    # "Overdue" was told for one appointment date; a new date may pass (and be told) again.
    if old is None or old.due_at != new.due_at:
        return None
    return old.overdue_notified_at


def _is_extension(old: Snapshot, new: Dossier) -> bool:
    """The appointment moved later by the agency (gia hạn), not by the legal clock restarting.

    Without a status change a later date can only be an extension. With a status change the
    date also moves when the legal time restarts (reception, a completed supplement), so it
    counts as an extension only when the case system recorded a new `original_due_at`.
    """
    if old.due_at is None or new.due_at is None or new.due_at <= old.due_at:
        return False
    if new.original_due_at is None or new.status.has_result or new.status.is_final:
        return False
    if new.status is old.status:
        return True
    return old.original_due_at != new.original_due_at


def _base_params(dossier: Dossier) -> dict[str, Any]:
    return {
        "code": dossier.code,
        "status": dossier.status.value,
        "procedure": dossier.procedure.name,
        "agency": dossier.agency.name,
    }


def _base_params_of_snapshot(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "code": snapshot.code,
        "status": snapshot.status.value,
        "procedure": snapshot.procedure_name,
        "agency": snapshot.agency_name,
    }


def _iso(moment: datetime | None) -> str | None:
    return _stamp(moment) if moment is not None else None


def _stamp(moment: datetime) -> str:
    """A time as ISO text in UTC: the same instant always gives the same key and param."""
    return moment.astimezone(UTC).isoformat()


def _status_params(dossier: Dossier) -> dict[str, Any]:
    params = _base_params(dossier)
    params["changed_at"] = _stamp(dossier.status_changed_at)
    status = dossier.status
    if status is Status.RECEIVED:
        params["received_at"] = _iso(dossier.received_at)
        params["due_at"] = _iso(dossier.due_at)
    elif status in (Status.NOT_ACCEPTED, Status.SUPPLEMENT_REQUIRED, Status.STOPPED):
        params["note"] = dossier.note
        if status is Status.SUPPLEMENT_REQUIRED:
            params["due_at"] = _iso(dossier.due_at)
    elif status is Status.PAYMENT_REQUIRED:
        params["note"] = dossier.note
        params["fee"] = dossier.fee.amount if dossier.fee is not None else None
        params["currency"] = dossier.fee.currency if dossier.fee is not None else None
    elif status in (Status.READY, Status.RETURNED):
        params.update(_pickup_params(dossier))
    return params


def _pickup_params(dossier: Dossier) -> dict[str, Any]:
    return {
        "delivery": dossier.delivery,
        "place": dossier.pickup.place if dossier.pickup is not None else None,
        "hours": dossier.pickup.hours if dossier.pickup is not None else None,
        "ready_at": _stamp(dossier.status_changed_at),
    }


def _status_notices(
    dossier: Dossier, audience: Sequence[Recipient], now: datetime, config: RuleConfig
) -> list[Notice]:
    status = dossier.status
    params = _status_params(dossier)
    event = f"{status.value}:{_stamp(dossier.status_changed_at)}"
    notices = [
        Notice(
            user_id=r.user_id,
            kind=NoticeKind.of_status(status),
            dedup_key=f"{r.user_id}:{dossier.code}:{event}",
            dossier_code=dossier.code,
            params=params,
            urgent=status in URGENT,
        )
        for r in audience
    ]
    if status is Status.READY and dossier.delivery == "counter":
        notices += _reminders(dossier, audience, now, config)
    if status is Status.RETURNED and audience:
        notices.append(_survey_invitation(dossier.code, audience[0].user_id, now, config))
    return notices


def _reminders(
    dossier: Dossier, audience: Sequence[Recipient], now: datetime, config: RuleConfig
) -> list[Notice]:
    ready_at = dossier.status_changed_at
    params = _base_params(dossier) | _pickup_params(dossier)
    notices = []
    for days in config.reminder_days:
        due = ready_at + timedelta(days=days)
        if due <= now:
            # Learnt late: the pickup notice going out now says the same thing.
            continue
        notices += [
            Notice(
                user_id=r.user_id,
                kind=NoticeKind.REMINDER,
                dedup_key=f"{r.user_id}:{dossier.code}:{NoticeKind.REMINDER}:{days}:{_stamp(ready_at)}",
                dossier_code=dossier.code,
                params={**params, "days": days},
                not_before=due,
            )
            for r in audience
        ]
    return notices


def _survey_invitation(code: str, user_id: int, now: datetime, config: RuleConfig) -> Notice:
    return Notice(
        user_id=user_id,
        kind=NoticeKind.SURVEY_INVITATION,
        dedup_key=f"survey:{code}",
        dossier_code=code,
        params={"code": code},
        not_before=now + config.survey_delay,
        expires_at=now + config.survey_ttl,
    )


def _extension_notices(old: Snapshot, new: Dossier, audience: Sequence[Recipient]) -> list[Notice]:
    assert new.due_at is not None
    assert old.due_at is not None
    params = {
        **_base_params(new),
        "due_at": _stamp(new.due_at),
        "previous_due_at": _stamp(old.due_at),
        "note": new.note,
    }
    return [
        Notice(
            user_id=r.user_id,
            kind=NoticeKind.EXTENSION,
            dedup_key=f"{r.user_id}:{new.code}:{NoticeKind.EXTENSION}:{_stamp(new.due_at)}",
            dossier_code=new.code,
            params=params,
        )
        for r in audience
    ]
