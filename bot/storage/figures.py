"""The operator's figures (outbox depth, oldest waiting push, surveys, Zalo token age).

Read in one read-only transaction outside the unit of work (see
`bot.ports.OperationalFiguresReader`); each is a count or a minimum over an indexed column.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.notice_kinds import NoticeKind
from bot.ports import OperationalFigures, OutboxState
from bot.storage.tables_outbox import OUTBOX_STATES, outbox
from bot.storage.tables_zalo import zalo_tokens
from surveys.storage.tables import survey_responses

WAITING_STATES = (OutboxState.QUEUED, OutboxState.RETRYING)


class SqlOperationalFigures:
    """`bot.ports.OperationalFiguresReader` over SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def read(self, now: datetime) -> OperationalFigures:
        """The figures as of `now`."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
            found = {state: int(count) for state, count in rows.all()}
            oldest = await conn.scalar(
                select(func.min(outbox.c.created_at)).where(outbox.c.state.in_(WAITING_STATES))
            )
            sent = await conn.scalar(
                select(func.count()).where(
                    outbox.c.kind == NoticeKind.SURVEY_INVITATION,
                    outbox.c.state == OutboxState.SENT,
                )
            )
            answered = await conn.scalar(select(func.count()).select_from(survey_responses))
            token_changed = await conn.scalar(select(func.max(zalo_tokens.c.updated_at)))
        return OperationalFigures(
            outbox_by_state={state: found.get(state, 0) for state in OUTBOX_STATES},
            oldest_waiting_age=age(now, oldest),
            surveys_sent=int(sent or 0),
            surveys_answered=int(answered or 0),
            zalo_token_age=age(now, token_changed),
        )


def age(now: datetime, then: datetime | None) -> float | None:
    """Seconds from `then` to `now` (never negative); None without a `then`."""
    return None if then is None else max((now - then).total_seconds(), 0.0)
