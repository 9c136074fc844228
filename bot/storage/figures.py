"""The operator's figures (outbox depth, oldest waiting push, surveys, Zalo token age).

`bot.ports.FiguresRepository`, read in a report unit of work (no write lock); each figure is
a count or a minimum over an indexed column.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.notice_kinds import NoticeKind
from bot.domain.outbox import WAITING_STATES, OutboxState
from bot.ports import OperationalFigures
from bot.storage.tables_outbox import outbox
from bot.storage.tables_zalo import zalo_tokens
from surveys.storage.tables import survey_responses

_WAITING = sorted(WAITING_STATES)


class SqlFiguresRepository:
    """`bot.ports.FiguresRepository` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def read(self, now: datetime) -> OperationalFigures:
        """The figures as of `now`."""
        conn = self._connection
        rows = await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
        found = {state: int(count) for state, count in rows.all()}
        oldest = await conn.scalar(
            select(func.min(outbox.c.created_at)).where(outbox.c.state.in_(_WAITING))
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
            outbox_by_state={state.value: found.get(state.value, 0) for state in OutboxState},
            oldest_waiting_age=age(now, oldest),
            surveys_sent=int(sent or 0),
            surveys_answered=int(answered or 0),
            zalo_token_age=age(now, token_changed),
        )


def age(now: datetime, then: datetime | None) -> float | None:
    """Seconds from `then` to `now` (never negative); None without a `then`."""
    return None if then is None else max((now - then).total_seconds(), 0.0)
