"""Survey responses, answers and sessions in memory: the twin of `surveys.storage.repository`
(`bot.ports.SurveyRepository`).

As in SQL, a response is filed under a keyed hash of its dossier code (`dossier_key`) with the
grouping facts and month, never the code itself; only the open session knows the dossier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ports import SurveyAlreadyStarted
from bot.storage.memory.database import AnswerRow, MemoryTables, ResponseRow, SurveySessionRow
from surveys.definitions import AnswerValue, Question
from surveys.flow import Progress
from surveys.model import (
    DossierFacts,
    ResponseKey,
    Session,
    answer_fields,
    answer_value,
    dossier_key,
    period_month,
)


class MemorySurveyRepository:
    """`bot.ports.SurveyRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def response_exists(self, dossier_code: str) -> bool:
        """Whether the dossier has already been surveyed."""
        key = dossier_key(self._t.survey_secret, dossier_code)
        return any(r.dossier_key == key for r in self._t.responses.values())

    async def start(
        self,
        facts: DossierFacts,
        *,
        survey_id: str,
        user_id: int,
        now: datetime,
        expires_at: datetime,
        tz: ZoneInfo,
    ) -> ResponseKey:
        """File a new response and open its session; `SurveyAlreadyStarted` if one exists."""
        if await self.response_exists(facts.code):
            raise SurveyAlreadyStarted(facts.code)
        month = period_month(now, tz)
        response_id = self._t.next_response_id
        self._t.next_response_id += 1
        self._t.responses[response_id] = ResponseRow(
            response_id,
            dossier_key(self._t.survey_secret, facts.code),
            survey_id,
            dataclasses.replace(facts, code=""),
            month,
        )
        self._t.survey_sessions[facts.code] = SurveySessionRow(
            facts.code, response_id, user_id, survey_id, "", [], now, expires_at
        )
        return ResponseKey(response_id, facts.agency_code, facts.procedure_code, facts.field, month)

    async def session(self, dossier_code: str) -> Session | None:
        """The open session of a dossier (expired or not), with the answers given so far."""
        stored = self._t.survey_sessions.get(dossier_code)
        return None if stored is None else self._session(stored)

    async def sessions_of(self, user_id: int, *, now: datetime) -> list[Session]:
        """The user's unexpired sessions, most recently active first."""
        mine = [
            s
            for s in self._t.survey_sessions.values()
            if s.user_id == user_id and s.expires_at > now
        ]
        mine.sort(key=lambda s: s.dossier_code)
        mine.sort(key=lambda s: s.updated_at, reverse=True)
        return [self._session(s) for s in mine]

    async def save_answer(
        self, key: ResponseKey, question: Question, value: AnswerValue, *, now: datetime
    ) -> None:
        """Store one answer, replacing an earlier answer to the same question."""
        self._t.answers[(key.response_id, question.id)] = AnswerRow(
            answer_fields(question, value), key
        )

    async def remove_answers(self, response_id: int, question_ids: Iterable[str]) -> None:
        """Delete the stored answers to `question_ids`."""
        for question_id in question_ids:
            self._t.answers.pop((response_id, question_id), None)

    async def move(
        self, dossier_code: str, question_id: str, history: Sequence[str], *, now: datetime
    ) -> None:
        """Record the session's new current question and its way back."""
        stored = self._t.survey_sessions.get(dossier_code)
        if stored is not None:
            stored.question_id, stored.history, stored.updated_at = question_id, list(history), now

    async def close(self, dossier_code: str) -> None:
        """End a session: the answers stay."""
        self._t.survey_sessions.pop(dossier_code, None)

    async def close_expired(self, now: datetime) -> int:
        """End every expired session; how many."""
        expired = [c for c, s in self._t.survey_sessions.items() if s.expires_at <= now]
        for code in expired:
            del self._t.survey_sessions[code]
        return len(expired)

    def _session(self, stored: SurveySessionRow) -> Session:
        response = self._t.responses[stored.response_id]
        given: dict[str, AnswerValue] = {}
        for (response_id, question_id), answer in sorted(self._t.answers.items()):
            if response_id != stored.response_id:
                continue
            fields = answer.fields
            value = answer_value(
                fields["kind"], fields["score"], fields["choice"], fields["comment"]
            )
            if value is not None:
                given[question_id] = value
        facts = response.facts
        key = ResponseKey(
            response.id, facts.agency_code, facts.procedure_code, facts.field, response.period_month
        )
        progress = Progress(
            current=stored.question_id or None, history=tuple(stored.history), answers=given
        )
        return Session(
            stored.dossier_code, stored.user_id, stored.survey_id, key, progress, stored.expires_at
        )
