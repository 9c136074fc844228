"""The operator's figures in memory: the twin of `bot.storage.figures`
(`bot.ports.FiguresRepository`), counted over the unit of work's tables.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.notice_kinds import NoticeKind
from bot.domain.outbox import WAITING_STATES
from bot.ports import OperationalFigures, OutboxState
from bot.storage.figures import age
from bot.storage.memory.database import MemoryTables


class MemoryFiguresRepository:
    """`bot.ports.FiguresRepository` over a unit of work's tables."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def read(self, now: datetime) -> OperationalFigures:
        """The figures as of `now`."""
        tables = self._t
        rows = list(tables.outbox.values())
        waiting = [r.created_at for r in rows if r.state in WAITING_STATES]
        sent = [
            r
            for r in rows
            if r.kind == NoticeKind.SURVEY_INVITATION and r.state is OutboxState.SENT
        ]
        tokens = tables.zalo_tokens
        return OperationalFigures(
            outbox_by_state={
                state.value: sum(r.state is state for r in rows) for state in OutboxState
            },
            oldest_waiting_age=age(now, min(waiting, default=None)),
            surveys_sent=len(sent),
            surveys_answered=len(tables.responses),
            zalo_token_age=age(now, tables.zalo_token_changed_at if tokens else None),
        )
