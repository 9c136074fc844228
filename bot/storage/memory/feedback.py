"""Feedback in memory: the twin of `bot.storage.feedback` (`bot.ports.FeedbackRepository`),
feedback items with their threads and the messages the bot could not answer.

As in SQL, the citizen's first message is both the item's text and the first message of its
thread, and a staff reply moves the item to "answered".
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.ports import MAX_FEEDBACK_TEXT, FeedbackItem, FeedbackMessage, UnansweredMessage
from bot.storage.memory.database import MemoryTables
from bot.storage.tables_feedback import (
    FEEDBACK_AUTHORS,
    FEEDBACK_KINDS,
    FEEDBACK_STATES,
    stored_code,
)


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


class MemoryFeedbackRepository:
    """`bot.ports.FeedbackRepository` in memory (ids shared by the three tables, as any
    increasing ids would do)."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    def _next_id(self) -> int:
        number = self._t.next_feedback_id
        self._t.next_feedback_id += 1
        return number

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
        number = self._next_id()
        self._t.feedback_items[number] = FeedbackItem(
            number,
            now,
            now,
            channel,
            user_id,
            stored_code(agency_code),
            stored_code(procedure_code),
            kind,
            text,
            "open",
            language,
        )
        await self.add_message(number, author="citizen", text=text, now=now)
        self._t.feedback_items[number] = dataclasses.replace(
            self._t.feedback_items[number], updated_at=now
        )
        return number

    async def get(self, feedback_id: int) -> FeedbackItem | None:
        """One feedback item."""
        return self._t.feedback_items.get(feedback_id)

    async def list_feedback(
        self,
        *,
        agency_code: str | None = None,
        since: datetime | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[FeedbackItem]:
        """Feedback items, newest first, optionally of one agency, since a time, in a state."""
        items = [
            item
            for item in self._t.feedback_items.values()
            if (agency_code is None or item.agency_code == agency_code)
            and (since is None or item.created_at >= since)
            and (status is None or item.status == status)
        ]
        items.sort(key=lambda item: (item.created_at, item.id), reverse=True)
        return items[:limit]

    async def thread(self, feedback_id: int) -> list[FeedbackMessage]:
        """The messages of one feedback item, oldest first."""
        messages = [m for m in self._t.feedback_messages.values() if m.feedback_id == feedback_id]
        return sorted(messages, key=lambda m: (m.created_at, m.id))

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
        item = self._t.feedback_items.get(feedback_id)
        if item is None:  # the SQL foreign key refuses it too
            raise IntegrityError("feedback_messages", None, Exception("no such feedback item"))
        number = self._next_id()
        self._t.feedback_messages[number] = FeedbackMessage(
            number,
            feedback_id,
            now,
            author,
            staff_username if author == "staff" else None,
            text[:MAX_FEEDBACK_TEXT],
        )
        status = "answered" if author == "staff" else item.status
        self._t.feedback_items[feedback_id] = dataclasses.replace(
            item, updated_at=now, status=status
        )
        return number

    async def set_status(self, feedback_id: int, status: str, *, now: datetime) -> bool:
        """Move the item to `status`; False when there is no such item."""
        _check(status, FEEDBACK_STATES, "feedback status")
        item = self._t.feedback_items.get(feedback_id)
        if item is None:
            return False
        self._t.feedback_items[feedback_id] = dataclasses.replace(
            item, status=status, updated_at=now
        )
        return True

    async def add_unanswered(
        self, *, channel: str, language: str, agency_code: str | None, text: str, now: datetime
    ) -> int:
        """Keep a message the bot could not answer; its id."""
        number = self._next_id()
        self._t.unanswered[number] = UnansweredMessage(
            number, now, channel, language, stored_code(agency_code), text[:MAX_FEEDBACK_TEXT]
        )
        return number

    async def list_unanswered(
        self, *, agency_code: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[UnansweredMessage]:
        """Unanswered messages, newest first."""
        kept = [
            m
            for m in self._t.unanswered.values()
            if (agency_code is None or m.agency_code == agency_code)
            and (since is None or m.created_at >= since)
        ]
        kept.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return kept[:limit]

    async def purge_unanswered(self, before: datetime) -> int:
        """Delete unanswered messages older than `before`; how many."""
        old = [i for i, m in self._t.unanswered.items() if m.created_at < before]
        for number in old:
            del self._t.unanswered[number]
        return len(old)
