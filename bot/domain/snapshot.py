"""What the bot remembers of a dossier between two changes, and who follows it.

Pure values: the watcher's rules (`bot.notify.rules`) compare a change with a `Snapshot`;
the watch repository (`bot.ports.WatchRepository`) stores and loads them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.dossier import Dossier
from bot.domain.intake import CODE_CHARS, NAME_CHARS, PROCEDURE_NAME_CHARS, stored_text
from bot.domain.status import Status


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the bot remembers of a dossier (one `dossier_snapshots` row)."""

    code: str
    status: Status
    status_changed_at: datetime
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    field: str
    received_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None
    returned_at: datetime | None
    delivery: str
    overdue_notified_at: datetime | None = None

    @classmethod
    def of(cls, dossier: Dossier, *, overdue_notified_at: datetime | None = None) -> Snapshot:
        """The snapshot of `dossier` as the case API describes it, its texts cut to what is
        kept of them (`bot.domain.intake.stored_text`)."""
        return cls(
            code=dossier.code,
            status=dossier.status,
            status_changed_at=dossier.status_changed_at,
            agency_code=stored_text(dossier.agency.code, CODE_CHARS),
            agency_name=stored_text(dossier.agency.name, NAME_CHARS),
            procedure_code=stored_text(dossier.procedure.code, CODE_CHARS),
            procedure_name=stored_text(dossier.procedure.name, PROCEDURE_NAME_CHARS),
            field=stored_text(dossier.procedure.field, NAME_CHARS),
            received_at=dossier.received_at,
            due_at=dossier.due_at,
            original_due_at=dossier.original_due_at,
            returned_at=dossier.returned_at,
            delivery=dossier.delivery,
            overdue_notified_at=overdue_notified_at,
        )

    @property
    def is_overdue_candidate(self) -> bool:
        """Whether a passed appointment date makes it late (see `Status.can_be_overdue`)."""
        return self.status.can_be_overdue


@dataclass(frozen=True, slots=True)
class Recipient:
    """An active subscriber of a dossier, as the rules need them."""

    user_id: int
    subscribed_at: datetime
    blocked: bool = False


def mark_overdue_notified(snapshot: Snapshot, now: datetime) -> Snapshot:
    """`snapshot` with the overdue notice recorded as told at `now`."""
    return replace(snapshot, overdue_notified_at=now)
