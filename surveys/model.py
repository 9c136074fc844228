"""The survey's stored values: what a response is filed under, and a survey in progress.

Pure values shared by the survey handler, the survey repository port
(`bot.ports.SurveyRepository`) and its adapters.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.domain.dossier import Dossier
from bot.domain.intake import CODE_CHARS, NAME_CHARS, PROCEDURE_NAME_CHARS, stored_text
from surveys.definitions import AnswerValue, Question
from surveys.flow import Progress


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What a response is filed under: the dossier's agency, procedure and field."""

    code: str
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    field: str

    @classmethod
    def of(cls, dossier: Dossier) -> DossierFacts:
        """The facts of a dossier from the case API, texts cut to what is kept of them (the
        same on every database: `bot.domain.intake.stored_text`)."""
        return cls(
            code=dossier.code,
            agency_code=stored_text(dossier.agency.code, CODE_CHARS),
            agency_name=stored_text(dossier.agency.name, NAME_CHARS),
            procedure_code=stored_text(dossier.procedure.code, CODE_CHARS),
            procedure_name=stored_text(dossier.procedure.name, PROCEDURE_NAME_CHARS),
            field=stored_text(dossier.procedure.field, NAME_CHARS),
        )


@dataclass(frozen=True, slots=True)
class ResponseKey:
    """A response's id and the grouping columns copied onto each of its answers."""

    response_id: int
    agency_code: str
    procedure_code: str
    field: str
    period_month: int


@dataclass(frozen=True, slots=True)
class Session:
    """A survey in progress."""

    dossier_code: str
    user_id: int
    survey_id: str
    key: ResponseKey
    progress: Progress
    expires_at: datetime


def period_month(moment: datetime, tz: ZoneInfo) -> int:
    """The local month of `moment` as YYYYMM."""
    local = moment.astimezone(tz)
    return local.year * 100 + local.month


def answer_value(
    kind: str, score: int | None, choice: str | None, comment: str | None
) -> AnswerValue | None:
    """The value of a stored answer of type `kind` (its score, choice or comment)."""
    if kind in ("scale5", "rating3"):
        return None if score is None else int(score)
    if kind == "choice":
        return choice
    return comment


def answer_fields(question: Question, value: AnswerValue) -> dict[str, Any]:
    """How an answer to `question` is stored: its kind and element, and the value in the
    column of its type (score, choice or comment; the others None)."""
    return {
        "kind": question.type,
        "element": question.element,
        "score": value if question.type in ("scale5", "rating3") else None,
        "choice": value if question.type == "choice" else None,
        "comment": value if question.type == "text" else None,
    }


def dossier_key(secret: str, code: str) -> str:
    """The key a survey response is filed under instead of the dossier code:
    HMAC-SHA256(server secret, code) in hex — enough to refuse a second survey of the same
    dossier, useless to find the dossier without the secret (design §6)."""
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


Grouping = Literal["agency", "procedure", "field", "all"]
"""What the satisfaction index is grouped by; "all" puts every answer of the scope in one
group (the web workspace's trend line)."""
GROUPINGS: tuple[Grouping, ...] = ("agency", "procedure", "field")
ALL: Grouping = "all"


@dataclass(frozen=True, slots=True)
class ElementScore:
    """One group's answers of one kind ("scale5" or "rating3") and element in a period, with
    the group's overall index and mean 5-point score (None without 5-point answers)."""

    group: str
    kind: str
    element: str | None
    valid: int
    satisfied: int
    index: float
    overall: float | None
    mean: float | None


@dataclass(frozen=True, slots=True)
class GroupCount:
    """One group's name and how many responses it has in a period."""

    group: str
    name: str
    n: int


@dataclass(frozen=True, slots=True)
class GroupTimeliness:
    """One group's dossiers returned in a period: early, on time and late."""

    group: str
    name: str
    early: int
    on_time: int
    late: int
