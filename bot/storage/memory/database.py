"""The in-memory twin's stored state: `MemoryTables` and the rows in it, and `MemoryDatabase`.

`MemoryTables` is everything stored, one attribute per SQL table (roughly), as plain Python
values; the row types here are the twin's columns. A `MemoryDatabase` holds the committed
tables that units of work (`MemoryUnitOfWork`) copy and take turns on; the repositories
read and write a unit of work's copy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.domain.office import AuditEntry, StaffAccount
from bot.domain.snapshot import Snapshot
from bot.ports import (
    ChatUser,
    ConversationState,
    FeedbackItem,
    FeedbackMessage,
    OutboxState,
    QuarantinedItem,
    StoredTokens,
    UnansweredMessage,
)
from surveys.model import DossierFacts, ResponseKey


def no_user(user_id: int) -> IntegrityError:
    """What the SQL schema's foreign key to `chat_users` raises, for the same mistake."""
    return IntegrityError("no such chat user", {"user_id": user_id}, LookupError(user_id))


@dataclass(slots=True)
class OwnerRow:
    """One row of `dossier_owners`."""

    method: str
    verified_at: datetime
    phone: str | None


@dataclass(slots=True)
class SubscriptionRow:
    """One row of `subscriptions`."""

    active: bool
    created_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None


@dataclass(slots=True)
class OutboxRow:
    """One row of `outbox`."""

    id: int
    user_id: int
    kind: str
    dossier_code: str | None
    params: dict[str, Any]
    dedup_key: str
    state: OutboxState
    next_attempt_at: datetime
    urgent: bool
    not_before: datetime | None
    expires_at: datetime | None
    created_at: datetime
    attempts: int = 0
    lease_until: datetime | None = None
    claim_token: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None


@dataclass(slots=True)
class LeaseRow:
    """The polling lease of `watch_state`."""

    holder: str | None = None
    lease_until: datetime | None = None


@dataclass(slots=True)
class ResponseRow:
    """One row of `survey_responses`: as in SQL, a keyed hash of the dossier code, the
    grouping facts (without the code), no timestamp."""

    id: int
    dossier_key: str
    survey_id: str
    facts: DossierFacts
    period_month: int


@dataclass(slots=True)
class AnswerRow:
    """One row of `survey_answers`."""

    fields: dict[str, Any]
    key: ResponseKey


@dataclass(slots=True)
class SurveySessionRow:
    """One row of `survey_sessions`."""

    dossier_code: str
    response_id: int
    user_id: int
    survey_id: str
    question_id: str
    history: list[str]
    updated_at: datetime
    expires_at: datetime


@dataclass(slots=True)
class InboundRow:
    """One row of `inbound_updates`."""

    state: str
    payload: str | None
    received_at: datetime
    lease_until: datetime | None
    attempts: int
    finished_at: datetime | None = None


@dataclass(slots=True)
class BucketRow:
    """One row of `rate_limits`."""

    tat_ms: int
    expires_ms: int
    level: int
    next_step_ms: int
    last_step_ms: int
    capacity: int
    step_ms: int
    max_step_ms: int
    rest_ms: int


@dataclass
class OfficeTables:
    """The workspace's tables in memory."""

    accounts: dict[str, StaffAccount] = field(default_factory=dict)
    next_account_id: int = 1
    sessions: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    usage: dict[tuple[int, str, str], int] = field(default_factory=dict)


@dataclass
class MemoryTables:
    """Everything stored, as plain Python values (one attribute per SQL table, roughly)."""

    users: dict[int, ChatUser] = field(default_factory=dict)
    next_user_id: int = 1
    owners: dict[tuple[int, str], OwnerRow] = field(default_factory=dict)
    subscriptions: dict[tuple[int, str], SubscriptionRow] = field(default_factory=dict)
    rate_limits: dict[str, BucketRow] = field(default_factory=dict)
    server_secrets: dict[str, str] = field(default_factory=dict)
    conversations: dict[int, ConversationState] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    next_outbox_id: int = 1
    user_pacing: dict[int, datetime] = field(default_factory=dict)
    channel_pacing: dict[str, datetime] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    cursor: str | None = None
    lease: LeaseRow = field(default_factory=LeaseRow)
    case_events: dict[str, datetime] = field(default_factory=dict)
    quarantine: dict[int, QuarantinedItem] = field(default_factory=dict)
    next_quarantine_id: int = 1
    responses: dict[int, ResponseRow] = field(default_factory=dict)
    next_response_id: int = 1
    answers: dict[tuple[int, str], AnswerRow] = field(default_factory=dict)
    survey_sessions: dict[str, SurveySessionRow] = field(default_factory=dict)
    survey_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    zalo_tokens: StoredTokens | None = None
    zalo_token_changed_at: datetime | None = None
    inbound: dict[tuple[str, str], InboundRow] = field(default_factory=dict)
    feedback_items: dict[int, FeedbackItem] = field(default_factory=dict)
    feedback_messages: dict[int, FeedbackMessage] = field(default_factory=dict)
    unanswered: dict[int, UnansweredMessage] = field(default_factory=dict)
    next_feedback_id: int = 1
    office: OfficeTables = field(default_factory=OfficeTables)

    def delete_user(self, user_id: int) -> None:
        """Delete a user and what refers to them (the SQL schema's ON DELETE CASCADE)."""
        self.users.pop(user_id, None)
        for table in (self.owners, self.subscriptions):
            for key in [k for k in table if k[0] == user_id]:
                del table[key]
        self.conversations.pop(user_id, None)
        self.user_pacing.pop(user_id, None)
        for row_id in [i for i, row in self.outbox.items() if row.user_id == user_id]:
            del self.outbox[row_id]
        for code in [c for c, s in self.survey_sessions.items() if s.user_id == user_id]:
            del self.survey_sessions[code]
        for item_id, item in list(self.feedback_items.items()):  # ON DELETE SET NULL
            if item.user_id == user_id:
                self.feedback_items[item_id] = dataclasses.replace(item, user_id=None)


class MemoryDatabase:
    """The shared state of every `MemoryUnitOfWork` made on it (one "database")."""

    def __init__(self) -> None:
        self.tables = MemoryTables()
        self.lock = asyncio.Lock()
