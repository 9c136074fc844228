"""One simulated dossier, with the secrets the case system keeps beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.caseapi.simulator.catalog import HOURS, CatalogAgency, CatalogProcedure
from bot.domain.status import Status

Delivery = Literal["counter", "post"]


def rfc3339(moment: datetime | None) -> str | None:
    """`moment` as an RFC 3339 string with its offset (None stays None)."""
    return None if moment is None else moment.isoformat()


@dataclass(slots=True)
class SimDossier:
    """A dossier as the simulated case system stores it.

    `pickup` says whether pickup details are published (they are from "ready" on, for
    results handed over at the counter); `fee` is an amount in VND. `phone` and `pin` are
    never part of the public JSON.
    """

    code: str
    status: Status
    status_changed_at: datetime
    procedure: CatalogProcedure
    agency: CatalogAgency
    applicant: str
    phone: str
    pin: str
    received_at: datetime | None
    due_at: datetime | None
    original_due_at: datetime | None = None
    returned_at: datetime | None = None
    delivery: Delivery = "counter"
    pickup: bool = False
    fee: int | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The dossier in the case API's shape (design §4)."""
        return {
            "code": self.code,
            "status": self.status.value,
            "status_code": self.status.code,
            "status_changed_at": self.status_changed_at.isoformat(),
            "procedure": {
                "code": self.procedure.code,
                "name": self.procedure.name,
                "field": self.procedure.field,
            },
            "agency": {"code": self.agency.code, "name": self.agency.name},
            "applicant": {"name": self.applicant},
            "received_at": rfc3339(self.received_at),
            "due_at": rfc3339(self.due_at),
            "original_due_at": rfc3339(self.original_due_at),
            "returned_at": rfc3339(self.returned_at),
            "delivery": self.delivery,
            "pickup": (
                {"place": self.agency.pickup_place, "hours": HOURS} if self.pickup else None
            ),
            "fee": None if self.fee is None else {"amount": self.fee, "currency": "VND"},
            "note": self.note,
        }

    def to_admin_json(self) -> dict[str, Any]:
        """The dossier with its PIN and phone, for the admin endpoints only."""
        return {"dossier": self.to_json(), "pin": self.pin, "phone": self.phone}
