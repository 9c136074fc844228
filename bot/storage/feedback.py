"""`FeedbackRepository` over SQL: feedback items with their threads, unanswered messages.

Decision recorded here (the agreed schema left it open): the citizen's first message is stored
both as `feedback_items.text` (what a list shows) and as the first row of `feedback_messages`
(so the thread is complete in one table). Staff replies and the citizen's follow-ups are
further rows; a staff reply moves the item to "answered". Texts are stored as given: callers
mask citizens' digits first (`bot.domain.masking`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import MAX_FEEDBACK_TEXT, FeedbackItem, FeedbackMessage, UnansweredMessage
from bot.storage.tables_feedback import (
    FEEDBACK_AUTHORS,
    FEEDBACK_KINDS,
    FEEDBACK_STATES,
    feedback_items,
    feedback_messages,
    stored_code,
    unanswered_messages,
)


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


def _item(row: RowMapping) -> FeedbackItem:
    return FeedbackItem(**dict(row))


class SqlFeedbackRepository:
    """Feedback and unanswered messages on one connection (the unit of work's)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def add(
        self,
        *,
        channel: str,
        user_id: int | None,
        agency_code: str | None,
        procedure_code: str | None,
        kind: str,
        text: str,
        language: str,
        now: datetime,
    ) -> int:
        """Store a new feedback item (status "open") with its first message; its id."""
        _check(kind, FEEDBACK_KINDS, "feedback kind")
        text = text[:MAX_FEEDBACK_TEXT]
        result = await self._connection.execute(
            insert(feedback_items)
            .values(
                created_at=now,
                updated_at=now,
                channel=channel,
                user_id=user_id,
                agency_code=stored_code(agency_code),
                procedure_code=stored_code(procedure_code),
                kind=kind,
                text=text,
                status="open",
                language=language,
            )
            .returning(feedback_items.c.id)
        )
        feedback_id = int(result.scalar_one())
        await self._connection.execute(
            insert(feedback_messages).values(
                feedback_id=feedback_id, created_at=now, author="citizen", text=text
            )
        )
        return feedback_id

    async def get(self, feedback_id: int) -> FeedbackItem | None:
        """One feedback item."""
        result = await self._connection.execute(
            select(feedback_items).where(feedback_items.c.id == feedback_id)
        )
        row = result.mappings().first()
        return None if row is None else _item(row)

    async def list_feedback(
        self,
        *,
        agency_code: str | None = None,
        since: datetime | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[FeedbackItem]:
        """Feedback items, newest first, optionally of one agency, since a time, in a state."""
        query: Any = select(feedback_items)
        if agency_code is not None:
            query = query.where(feedback_items.c.agency_code == agency_code)
        if since is not None:
            query = query.where(feedback_items.c.created_at >= since)
        if status is not None:
            query = query.where(feedback_items.c.status == status)
        query = query.order_by(feedback_items.c.created_at.desc(), feedback_items.c.id.desc())
        result = await self._connection.execute(query.limit(limit))
        return [_item(row) for row in result.mappings()]

    async def thread(self, feedback_id: int) -> list[FeedbackMessage]:
        """The messages of one feedback item, oldest first."""
        result = await self._connection.execute(
            select(feedback_messages)
            .where(feedback_messages.c.feedback_id == feedback_id)
            .order_by(feedback_messages.c.created_at, feedback_messages.c.id)
        )
        return [FeedbackMessage(**dict(row)) for row in result.mappings()]

    async def add_message(
        self,
        feedback_id: int,
        *,
        author: str,
        text: str,
        now: datetime,
        staff_username: str | None = None,
    ) -> int:
        """Append a message to the thread (a staff reply sets the item "answered")."""
        _check(author, FEEDBACK_AUTHORS, "author")
        result = await self._connection.execute(
            insert(feedback_messages)
            .values(
                feedback_id=feedback_id,
                created_at=now,
                author=author,
                staff_username=staff_username if author == "staff" else None,
                text=text[:MAX_FEEDBACK_TEXT],
            )
            .returning(feedback_messages.c.id)
        )
        changes: dict[str, Any] = {"updated_at": now}
        if author == "staff":
            changes["status"] = "answered"
        await self._connection.execute(
            update(feedback_items).where(feedback_items.c.id == feedback_id).values(**changes)
        )
        return int(result.scalar_one())

    async def set_status(self, feedback_id: int, status: str, *, now: datetime) -> bool:
        """Move the item to `status`; False when there is no such item."""
        _check(status, FEEDBACK_STATES, "feedback status")
        result = await self._connection.execute(
            update(feedback_items)
            .where(feedback_items.c.id == feedback_id)
            .values(status=status, updated_at=now)
        )
        return result.rowcount > 0

    async def add_unanswered(
        self, *, channel: str, language: str, agency_code: str | None, text: str, now: datetime
    ) -> int:
        """Keep a message the bot could not answer; its id."""
        result = await self._connection.execute(
            insert(unanswered_messages)
            .values(
                created_at=now,
                channel=channel,
                language=language,
                agency_code=stored_code(agency_code),
                text=text[:MAX_FEEDBACK_TEXT],
            )
            .returning(unanswered_messages.c.id)
        )
        return int(result.scalar_one())

    async def list_unanswered(
        self, *, agency_code: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[UnansweredMessage]:
        """Unanswered messages, newest first."""
        query: Any = select(unanswered_messages)
        if agency_code is not None:
            query = query.where(unanswered_messages.c.agency_code == agency_code)
        if since is not None:
            query = query.where(unanswered_messages.c.created_at >= since)
        query = query.order_by(
            unanswered_messages.c.created_at.desc(), unanswered_messages.c.id.desc()
        )
        result = await self._connection.execute(query.limit(limit))
        return [UnansweredMessage(**dict(row)) for row in result.mappings()]

    async def purge_unanswered(self, before: datetime) -> int:
        """Delete unanswered messages older than `before`; how many."""
        result = await self._connection.execute(
            delete(unanswered_messages).where(unanswered_messages.c.created_at < before)
        )
        return max(result.rowcount, 0)
