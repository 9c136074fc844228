"""What the officials' workspace knows: staff accounts and their reach, and the read models of
its pages (comments, delivery health, usage). No I/O here; storage fills them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Role = Literal["viewer", "manager", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "manager", "admin")

# Agency codes as the case system writes them (e.g. 000.00.15.H12); kept strict so a code can
# be used in a dossier-code prefix match and a URL without escaping surprises.
_AGENCY_CODE = re.compile(r"^[A-Za-z0-9.]{1,64}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def valid_agency_code(code: str) -> bool:
    """Whether `code` looks like an agency's electronic identifier."""
    return bool(_AGENCY_CODE.match(code))


def valid_username(name: str) -> bool:
    """Lower-case letters, digits, dot, dash, underscore; 2 to 64 characters."""
    return bool(_USERNAME.match(name))


@dataclass(frozen=True, slots=True)
class StaffAccount:
    """An official who may sign in to the workspace."""

    id: int
    username: str
    role: Role
    agencies: tuple[str, ...]
    active: bool
    password_hash: str
    created_at: datetime
    updated_at: datetime

    @property
    def is_admin(self) -> bool:
        """An admin sees every agency."""
        return self.role == "admin"

    @property
    def may_act(self) -> bool:
        """Managers and admins may answer citizens and retry pushes; viewers only read."""
        return self.role in ("manager", "admin")

    def sees(self, agency_code: str | None) -> bool:
        """Whether the account may see data of `agency_code` (None: data of no agency)."""
        if self.is_admin:
            return True
        return agency_code is not None and agency_code in self.agencies

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The agencies whose data the account sees; None means all of them."""
        return None if self.is_admin else self.agencies


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One state-changing action: who, what, on what, when."""

    at: datetime
    username: str
    action: str
    target: str
    detail: str


@dataclass(frozen=True, slots=True)
class OfficeAgency:
    """An agency as the workspace lists it (its filters, the name beside a code): one it has
    survey or dossier data about. Not a dossier's `bot.domain.dossier.Agency`, which is what
    the case system says of the agency handling that dossier."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class SurveyComment:
    """A citizen's written survey comment with the scores they gave in the same response."""

    response_id: int
    period_month: int  # YYYYMM: answers keep no finer time (design §6)
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    element: str | None
    text: str
    scores: dict[str, int] = field(default_factory=dict)
    quick: int | None = None

    @property
    def month(self) -> str:
        """The month of the answer as MM/YYYY."""
        return f"{self.period_month % 100:02d}/{self.period_month // 100}"


@dataclass(frozen=True, slots=True)
class CommentFilter:
    """What the comments page is asked for."""

    agencies: tuple[str, ...] | None  # None: every agency (admin)
    first_month: int
    last_month: int
    procedure: str | None = None
    search: str | None = None
    low_scores_only: bool = False
    # Only comments of responses that scored the handling of feedback 3 or lower (the inbox's
    # stand-in until feedback sent in the chat is stored).
    feedback_unhappy_only: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class FailedPush:
    """A push that failed, and why (an error class and code, never personal data)."""

    id: int
    kind: str
    channel: str
    state: str
    attempts: int
    error: str
    at: datetime
    dossier_code: str | None


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """The outbox as an operator reads it."""

    counts: dict[tuple[str, str], int]  # (state, channel) -> rows
    oldest_queued_at: datetime | None
    failures: tuple[FailedPush, ...]

    def total(self, state: str) -> int:
        """Rows in `state` over every channel."""
        return sum(n for (s, _c), n in self.counts.items() if s == state)

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels with any row, sorted."""
        return tuple(sorted({c for (_s, c) in self.counts}))


@dataclass(frozen=True, slots=True)
class AgencyUsage:
    """How citizens of one agency use the bot."""

    agency_code: str
    lookups: int = 0
    verified_citizens: int = 0
    followed_dossiers: int = 0
    surveys_sent: int = 0
    surveys_answered: int = 0

    @property
    def response_rate(self) -> float | None:
        """Answered / sent, in percent (None when none was sent)."""
        if not self.surveys_sent:
            return None
        return 100.0 * self.surveys_answered / self.surveys_sent


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Lookups per day and the per-agency figures over a span of days."""

    first_day: int  # YYYYMMDD
    last_day: int
    lookups_per_day: dict[int, int]
    agencies: tuple[AgencyUsage, ...]


# Runs of three or more digits, with the separators people type inside phone numbers and IDs.
_DIGIT_RUN = re.compile(r"\d(?:[\s.\-]?\d){2,}")


def mask_digits(text: str) -> str:
    """The text with phone numbers, ID and dossier numbers masked (runs of ≥ 3 digits).

    Short numbers ("3 ngày", "2 lần") stay: they carry the meaning of a complaint and
    identify no one.
    """
    return _DIGIT_RUN.sub(lambda m: "•" * min(len(m.group(0)), 12), text)
