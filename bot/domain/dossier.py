"""The dossier as the case API describes it (design §4), and what is derived from it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from bot.domain.status import Status


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Procedure(_Frozen):
    """An administrative procedure (thủ tục hành chính) and its field (lĩnh vực)."""

    code: str
    name: str
    field: str


class Agency(_Frozen):
    """The agency (cơ quan) handling the dossier."""

    code: str
    name: str


class Applicant(_Frozen):
    """The applicant; only the verified owner may see the name (design §6)."""

    name: str


class Pickup(_Frozen):
    """Where and when the result can be collected."""

    place: str
    hours: str


class Fee(_Frozen):
    """A fee the citizen has to pay."""

    amount: int = Field(ge=0)
    currency: Literal["VND"] = "VND"


class Dossier(_Frozen):
    """One dossier as returned by `GET /v1/dossiers/{code}`."""

    code: str
    status: Status
    status_code: int = Field(ge=1, le=10)
    status_changed_at: AwareDatetime
    procedure: Procedure
    agency: Agency
    applicant: Applicant
    received_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    original_due_at: AwareDatetime | None = None
    returned_at: AwareDatetime | None = None
    delivery: Literal["counter", "post"] = "counter"
    pickup: Pickup | None = None
    fee: Fee | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _status_code_matches(self) -> Dossier:
        if self.status.code != self.status_code:
            raise ValueError(
                f"status_code {self.status_code} does not match status {self.status.value!r}"
            )
        return self

    def is_overdue(self, now: datetime) -> bool:
        """Overdue is derived, never a status: past the due date without a result, while the
        processing time runs (not while the office waits for a supplement or a payment)."""
        if self.due_at is None or not self.status.can_be_overdue:
            return False
        return now > self.due_at

    @property
    def is_extended(self) -> bool:
        """True when the agency moved the appointment date (gia hạn)."""
        return (
            self.due_at is not None
            and self.original_due_at is not None
            and self.due_at != self.original_due_at
        )
