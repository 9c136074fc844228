"""Survey storage on SQL: responses and answers (anonymous), and sessions (a survey in
progress). Implements `bot.ports.SurveyRepository`; reached as ``uow.surveys``, so a step of
the survey is one short transaction together with whatever else the handler writes.

A response is stored under `dossier_key(secret, code)`, an HMAC-SHA256 of the dossier code
with the server secret kept in `survey_secrets`, with the agency, procedure, field and month;
never with the code itself, the chat user or a timestamp (design §6).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import SurveyAlreadyStarted
from bot.storage.dialect import insert_for, rowcount
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
from surveys.storage.tables import (
    survey_answers,
    survey_responses,
    survey_secrets,
    survey_sessions,
)

SECRET_NAME = "dossier_key"  # noqa: S105 - the name of the secret's row, not a secret


# The statements of each survey step, built once (building one costs more than running it).
# A session is read with its answers in one query: one row per answer given so far.
_SESSION_WITH_ANSWERS = select(
    survey_sessions.c.dossier_code,
    survey_sessions.c.user_id,
    survey_sessions.c.survey_id,
    survey_sessions.c.question_id.label("current_question"),
    survey_sessions.c.history,
    survey_sessions.c.expires_at,
    survey_responses.c.id.label("response_id"),
    survey_responses.c.agency_code,
    survey_responses.c.procedure_code,
    survey_responses.c.field,
    survey_responses.c.period_month,
    survey_answers.c.question_id.label("answered_question"),
    survey_answers.c.kind,
    survey_answers.c.score,
    survey_answers.c.choice,
    survey_answers.c.comment,
).select_from(
    survey_sessions.join(
        survey_responses, survey_responses.c.id == survey_sessions.c.response_id
    ).outerjoin(survey_answers, survey_answers.c.response_id == survey_responses.c.id)
)
_SESSION_OF_DOSSIER = _SESSION_WITH_ANSWERS.where(
    survey_sessions.c.dossier_code == bindparam("code")
)
_SESSIONS_OF_USER = _SESSION_WITH_ANSWERS.where(
    survey_sessions.c.user_id == bindparam("user_id"),
    survey_sessions.c.expires_at > bindparam("now"),
).order_by(survey_sessions.c.updated_at.desc(), survey_sessions.c.dossier_code)

_MOVE = (
    update(survey_sessions)
    .where(survey_sessions.c.dossier_code == bindparam("code"))
    .values(
        question_id=bindparam("new_question_id"),
        history=bindparam("new_history"),
        updated_at=bindparam("now"),
    )
)

_ANSWER_COLUMNS = (
    "response_id", "question_id", "agency_code", "procedure_code", "field", "period_month",
    "kind", "element", "score", "choice", "comment",
)  # fmt: skip
_ANSWER_REPLACES = ("kind", "element", "score", "choice", "comment")


@functools.cache
def _answer_upsert(dialect: str) -> Any:
    """Store an answer (parameters: `_ANSWER_COLUMNS`), replacing an earlier one."""
    insert = insert_for(dialect, survey_answers)
    insert = insert.values({name: bindparam(name) for name in _ANSWER_COLUMNS})
    return insert.on_conflict_do_update(
        index_elements=[survey_answers.c.response_id, survey_answers.c.question_id],
        set_={name: insert.excluded[name] for name in _ANSWER_REPLACES},
    )


class SqlSurveyRepository:
    """Responses, answers and sessions on one connection (inside its transaction)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _secret(self) -> str:
        """The server secret of the dossier keys, made on first use if no migration made it."""
        query = select(survey_secrets.c.secret).where(survey_secrets.c.name == SECRET_NAME)
        found = (await self._connection.execute(query)).scalar()
        if found is not None:
            return str(found)
        insert = insert_for(self._connection.dialect.name, survey_secrets)
        await self._connection.execute(
            insert.values(name=SECRET_NAME, secret=secrets.token_hex(32)).on_conflict_do_nothing()
        )
        return str((await self._connection.execute(query)).scalar_one())

    async def key_of(self, dossier_code: str) -> str:
        """The key the dossier's response is (or would be) filed under."""
        return dossier_key(await self._secret(), dossier_code)

    async def response_exists(self, dossier_code: str) -> bool:
        """Whether the dossier has already been surveyed (one survey per dossier)."""
        key = await self.key_of(dossier_code)
        found = await self._connection.execute(
            select(survey_responses.c.id).where(survey_responses.c.dossier_key == key)
        )
        return found.first() is not None

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
        """File a new response for the dossier and open its session on the first question.

        Raises `SurveyAlreadyStarted` if the dossier already has a response (one survey per
        dossier); the caller's transaction must then be rolled back.
        """
        month = period_month(now, tz)
        key = await self.key_of(facts.code)
        try:
            inserted = await self._insert_response(facts, key, survey_id, month)
        except IntegrityError as exc:
            raise SurveyAlreadyStarted(facts.code) from exc
        response_id = int(inserted.scalar_one())
        await self._connection.execute(
            insert(survey_sessions).values(
                dossier_code=facts.code,
                response_id=response_id,
                user_id=user_id,
                survey_id=survey_id,
                question_id="",
                history=[],
                updated_at=now,
                expires_at=expires_at,
            )
        )
        return ResponseKey(response_id, facts.agency_code, facts.procedure_code, facts.field, month)

    async def _insert_response(
        self, facts: DossierFacts, key: str, survey_id: str, month: int
    ) -> Any:
        return await self._connection.execute(
            insert(survey_responses)
            .values(
                dossier_key=key,
                survey_id=survey_id,
                agency_code=facts.agency_code,
                agency_name=facts.agency_name,
                procedure_code=facts.procedure_code,
                procedure_name=facts.procedure_name,
                field=facts.field,
                period_month=month,
            )
            .returning(survey_responses.c.id)
        )

    async def session(self, dossier_code: str) -> Session | None:
        """The open session of a dossier (expired or not), with the answers given so far."""
        rows = await self._session_rows(_SESSION_OF_DOSSIER, {"code": dossier_code})
        return rows[0] if rows else None

    async def sessions_of(self, user_id: int, *, now: datetime) -> list[Session]:
        """The user's unexpired sessions, most recently active first."""
        return await self._session_rows(_SESSIONS_OF_USER, {"user_id": user_id, "now": now})

    async def save_answer(
        self, key: ResponseKey, question: Question, value: AnswerValue, *, now: datetime
    ) -> None:
        """Store one answer, replacing an earlier answer to the same question (one upsert)."""
        values = answer_fields(question, value)
        params = {
            "response_id": key.response_id,
            "question_id": question.id,
            "agency_code": key.agency_code,
            "procedure_code": key.procedure_code,
            "field": key.field,
            "period_month": key.period_month,
            **values,
        }
        await self._connection.execute(_answer_upsert(self._connection.dialect.name), params)

    async def remove_answers(self, response_id: int, question_ids: Iterable[str]) -> None:
        """Delete the stored answers to `question_ids` (skipped, or no longer asked)."""
        ids = list(question_ids)
        if ids:
            await self._connection.execute(
                delete(survey_answers).where(
                    survey_answers.c.response_id == response_id,
                    survey_answers.c.question_id.in_(ids),
                )
            )

    async def move(
        self, dossier_code: str, question_id: str, history: Sequence[str], *, now: datetime
    ) -> None:
        """Record the session's new current question and its way back."""
        params = {
            "code": dossier_code,
            "new_question_id": question_id,
            "new_history": list(history),
            "now": now,
        }
        await self._connection.execute(_MOVE, params)

    async def close(self, dossier_code: str) -> None:
        """End a session: the answers stay, the link to the chat user goes."""
        await self._connection.execute(
            delete(survey_sessions).where(survey_sessions.c.dossier_code == dossier_code)
        )

    async def close_expired(self, now: datetime) -> int:
        """End every expired session (their answers stay); how many were ended."""
        result = await self._connection.execute(
            delete(survey_sessions).where(survey_sessions.c.expires_at <= now)
        )
        return rowcount(result)

    async def _session_rows(self, query: Any, params: dict[str, Any]) -> list[Session]:
        # One row per answer (or one row with no answer), grouped back into sessions.
        firsts: dict[str, Any] = {}
        answers: dict[str, dict[str, AnswerValue]] = {}
        for row in (await self._connection.execute(query, params)).all():
            given = answers.setdefault(row.dossier_code, {})
            firsts.setdefault(row.dossier_code, row)
            if row.answered_question is not None:
                value = answer_value(row.kind, row.score, row.choice, row.comment)
                if value is not None:
                    given[row.answered_question] = value
        return [_session(row, answers[code]) for code, row in firsts.items()]


def _session(row: Any, answers: dict[str, AnswerValue]) -> Session:
    """A session from a row of `_SESSION_WITH_ANSWERS` and the answers read with it."""
    key = ResponseKey(
        row.response_id, row.agency_code, row.procedure_code, row.field, row.period_month
    )
    progress = Progress(
        current=row.current_question or None,
        history=tuple(str(q) for q in row.history),
        answers=answers,
    )
    return Session(row.dossier_code, row.user_id, row.survey_id, key, progress, row.expires_at)
