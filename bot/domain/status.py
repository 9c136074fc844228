"""The status vocabulary of the national public service portal (design §5)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A dossier's status; the value is the case API's string, `code` the portal's number."""

    SUBMITTED = "submitted"
    RECEIVED = "received"
    NOT_ACCEPTED = "not_accepted"
    PROCESSING = "processing"
    SUPPLEMENT_REQUIRED = "supplement_required"
    PAYMENT_REQUIRED = "payment_required"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"
    READY = "ready"
    RETURNED = "returned"

    @property
    def code(self) -> int:
        """The portal's numeric status code (1..10)."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code: int) -> Status:
        """The status with the portal's numeric code `code`; ValueError if there is none."""
        for status, number in _CODES.items():
            if number == code:
                return status
        raise ValueError(f"unknown status code {code}")

    @property
    def is_final(self) -> bool:
        """True when nothing more will happen to the dossier (subscriptions end here)."""
        return self in FINAL_STATUSES

    @property
    def clock_stopped(self) -> bool:
        """True while the office waits for the citizen (a supplement or a payment): those days
        do not count towards the processing time, so the dossier is not late meanwhile."""
        return self in (Status.SUPPLEMENT_REQUIRED, Status.PAYMENT_REQUIRED)

    @property
    def can_be_overdue(self) -> bool:
        """True when a passed appointment date makes the dossier late: no result yet, not
        closed, and the processing time running."""
        return not (self.has_result or self.is_final or self.clock_stopped)

    @property
    def has_result(self) -> bool:
        """True when the result exists (ready for pickup, or already handed over)."""
        return self in (Status.READY, Status.RETURNED)


_CODES: dict[Status, int] = {
    Status.SUBMITTED: 1,
    Status.RECEIVED: 2,
    Status.NOT_ACCEPTED: 3,
    Status.PROCESSING: 4,
    Status.SUPPLEMENT_REQUIRED: 5,
    Status.PAYMENT_REQUIRED: 6,
    Status.WITHDRAWN: 7,
    Status.STOPPED: 8,
    Status.READY: 9,
    Status.RETURNED: 10,
}

FINAL_STATUSES = frozenset({Status.NOT_ACCEPTED, Status.WITHDRAWN, Status.STOPPED, Status.RETURNED})
