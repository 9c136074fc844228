"""The in-memory twin of the SQL storage: every repository port of `bot.ports`, in dicts.

For tests where the database is not the point (handlers, rules, the watcher, the
dispatcher), as cosmicpython's ``FakeUnitOfWork``. It keeps the SQL adapters' meaning — the
conformance suite (`tests/storage/test_conformance.py`) runs the same checks on this twin,
on SQLite and on PostgreSQL — including transactions: a unit of work works on its own copy of
the tables, `commit` publishes it, leaving without commit throws it away. Units of work on
one `MemoryDatabase` take turns, as SQLite's writers do.

A new repository port gets its twin here: a table (a dict) in `MemoryTables`, a class below,
and an attribute of `MemoryUnitOfWork`.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot.domain.notice_kinds import NoticeKind
from bot.domain.outbox import WAITING_STATES
from bot.ports import (
    MAX_FEEDBACK_TEXT,
    Clock,
    ConversationRepository,
    FeedbackItem,
    FeedbackMessage,
    FeedbackRepository,
    FiguresRepository,
    InboundJournalRepository,
    JournaledUpdate,
    OfficeRepository,
    OperationalFigures,
    OutboxRepository,
    OutboxState,
    OwnershipRepository,
    QuarantineRepository,
    RateLimitRepository,
    ScoreRepository,
    SecretRepository,
    StaffRepository,
    StoredTokens,
    SubscriptionRepository,
    SurveyAlreadyStarted,
    SurveyRepository,
    SystemClock,
    UnansweredMessage,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
    WatchRepository,
    ZaloTokenRepository,
)
from bot.storage.figures import age
from bot.storage.memory.database import (
    AnswerRow,
    BucketRow,
    InboundRow,
    MemoryDatabase,
    MemoryTables,
    OfficeTables,
    ResponseRow,
    SurveySessionRow,
)
from bot.storage.memory.office import (
    MemoryOfficeRepository,
    MemoryStaffRepository,
)
from bot.storage.memory.outbox import MemoryOutboxRepository
from bot.storage.memory.quarantine import MemoryQuarantineRepository
from bot.storage.memory.rate_limits import MemoryRateLimitRepository, MemorySecretRepository
from bot.storage.memory.users import (
    MemoryConversationRepository,
    MemoryOwnershipRepository,
    MemorySubscriptionRepository,
    MemoryUserRepository,
)
from bot.storage.memory.watch import MemoryWatchRepository
from bot.storage.tables_feedback import (
    FEEDBACK_AUTHORS,
    FEEDBACK_KINDS,
    FEEDBACK_STATES,
    stored_code,
)
from bot.storage.uow import WRITER_QUEUE_TIMEOUT_S
from surveys.definitions import AnswerValue, Question
from surveys.elements import RATING3_SATISFIED, SCALE5_SATISFIED
from surveys.flow import Progress
from surveys.model import (
    ALL,
    DossierFacts,
    ElementScore,
    GroupCount,
    Grouping,
    GroupTimeliness,
    ResponseKey,
    Session,
    answer_fields,
    answer_value,
    dossier_key,
    period_month,
)
from surveys.periods import Period

__all__ = [
    "BucketRow",
    "MemoryConversationRepository",
    "MemoryDatabase",
    "MemoryFeedbackRepository",
    "MemoryFiguresRepository",
    "MemoryInboundJournalRepository",
    "MemoryOfficeRepository",
    "MemoryOutboxRepository",
    "MemoryOwnershipRepository",
    "MemoryQuarantineRepository",
    "MemoryRateLimitRepository",
    "MemoryScoreRepository",
    "MemorySecretRepository",
    "MemoryStaffRepository",
    "MemorySubscriptionRepository",
    "MemorySurveyRepository",
    "MemoryTables",
    "MemoryUnitOfWork",
    "MemoryUnitOfWorkFactory",
    "MemoryUserRepository",
    "MemoryWatchRepository",
    "MemoryZaloTokenRepository",
    "OfficeTables",
]


# --------------------------------------------------------------------------- surveys


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


class MemoryScoreRepository:
    """`bot.ports.ScoreRepository` in memory: the same figures as the SQL aggregation."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def element_scores(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[ElementScore]:
        """Per group, kind and element: counts and index, with the group's overall figures."""
        counts: dict[tuple[str, str, str | None], list[int]] = {}
        for answer in self._t.answers.values():
            key, fields = answer.key, answer.fields
            kind, score = fields["kind"], fields["score"]
            if not period.first_month <= key.period_month <= period.last_month:
                continue
            if kind not in ("scale5", "rating3") or score is None:
                continue
            if agencies is not None and key.agency_code not in agencies:
                continue
            group = _group_of(by, key.agency_code, key.procedure_code, key.field)
            threshold = SCALE5_SATISFIED if kind == "scale5" else RATING3_SATISFIED
            valid_satisfied_total = counts.setdefault((group, kind, fields["element"]), [0, 0, 0])
            valid_satisfied_total[0] += 1
            valid_satisfied_total[1] += int(score >= threshold)
            valid_satisfied_total[2] += int(score)
        index = {k: 100.0 * sat / valid for k, (valid, sat, _) in counts.items()}
        overall: dict[str, tuple[float, float]] = {}
        for group in {k[0] for k in counts}:
            scale5 = [k for k in counts if k[0] == group and k[1] == "scale5"]
            if scale5:
                mean_index = sum(index[k] for k in scale5) / len(scale5)
                mean_score = sum(counts[k][2] for k in scale5) / sum(counts[k][0] for k in scale5)
                overall[group] = (mean_index, mean_score)
        return [
            ElementScore(
                group=group,
                kind=kind,
                element=element,
                valid=counts[(group, kind, element)][0],
                satisfied=counts[(group, kind, element)][1],
                index=index[(group, kind, element)],
                overall=overall[group][0] if group in overall else None,
                mean=overall[group][1] if group in overall else None,
            )
            for group, kind, element in sorted(counts, key=lambda k: (k[0], k[1], k[2] or ""))
        ]

    async def response_counts(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[GroupCount]:
        """Per group: its name and the responses filed in `period`."""
        found: dict[str, tuple[str, int]] = {}
        for response in self._t.responses.values():
            facts = response.facts
            if not period.first_month <= response.period_month <= period.last_month:
                continue
            if agencies is not None and facts.agency_code not in agencies:
                continue
            group = _group_of(by, facts.agency_code, facts.procedure_code, facts.field)
            name = _name_of(by, group, facts.agency_name, facts.procedure_name)
            known_name, n = found.get(group, (name, 0))
            found[group] = (max(known_name, name), n + 1)
        return [GroupCount(g, name, n) for g, (name, n) in sorted(found.items())]

    async def timeliness(
        self,
        by: Grouping,
        period: Period,
        tz: ZoneInfo,
        agencies: Sequence[str] | None = None,
    ) -> list[GroupTimeliness]:
        """Per group: dossiers returned in `period` early, on time and late."""
        start, end = period.utc_bounds(tz)
        offset = start.utcoffset() or timedelta(0)
        found: dict[str, tuple[str, list[int]]] = {}
        for snapshot in self._t.snapshots.values():
            returned, due = snapshot.returned_at, snapshot.original_due_at or snapshot.due_at
            if returned is None or due is None or not start <= returned < end:
                continue
            if agencies is not None and snapshot.agency_code not in agencies:
                continue
            group = _group_of(by, snapshot.agency_code, snapshot.procedure_code, snapshot.field)
            name = _name_of(by, group, snapshot.agency_name, snapshot.procedure_name)
            known_name, tally = found.get(group, (name, [0, 0, 0]))
            returned_day = (returned.astimezone(UTC) + offset).date()
            due_day = (due.astimezone(UTC) + offset).date()
            tally[0 if returned_day < due_day else 1 if returned_day == due_day else 2] += 1
            found[group] = (max(known_name, name), tally)
        return [GroupTimeliness(g, name, *tally) for g, (name, tally) in sorted(found.items())]


def _group_of(by: Grouping, agency: str, procedure: str, field_: str) -> str:
    """The group key of an answer, response or dossier under grouping `by`."""
    return {"agency": agency, "procedure": procedure, "field": field_}.get(by, ALL)


def _name_of(by: Grouping, group: str, agency_name: str, procedure_name: str) -> str:
    """The name shown for a group (a field and the "all" group are their own name)."""
    return {"agency": agency_name, "procedure": procedure_name}.get(by, group)


# --------------------------------------------------------------------------- Zalo


class MemoryZaloTokenRepository:
    """`bot.ports.ZaloTokenRepository` in memory (the unit of work's turn is the lock)."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def get(self, *, lock: bool = False) -> StoredTokens | None:
        """The stored pair, if any."""
        return self._t.zalo_tokens

    async def seed(self, access_token: str, refresh_token: str, *, now: datetime) -> None:
        """Store a first pair (rotation 0) unless one is stored already."""
        if self._t.zalo_tokens is None:
            self._t.zalo_tokens = StoredTokens(access_token, refresh_token, None, 0)
            self._t.zalo_token_changed_at = now

    async def store(self, tokens: StoredTokens, *, now: datetime) -> None:
        """Store `tokens` in place of the current pair."""
        self._t.zalo_tokens = tokens
        self._t.zalo_token_changed_at = now


class MemoryInboundJournalRepository:
    """`bot.ports.InboundJournalRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def record(
        self,
        channel: str,
        updates: Sequence[tuple[str, str]],
        *,
        now: datetime,
        lease_until: datetime,
    ) -> set[str]:
        """Store the updates not stored before; the keys that were new."""
        fresh: set[str] = set()
        for key, payload in updates:
            if (channel, key) not in self._t.inbound:
                self._t.inbound[(channel, key)] = InboundRow(
                    "pending", payload, now, lease_until, attempts=1
                )
                fresh.add(key)
        return fresh

    async def finish(
        self, channel: str, keys: Sequence[str], *, now: datetime, state: str = "done"
    ) -> None:
        """Mark updates answered or set aside; their content is erased."""
        if state not in ("done", "failed"):
            raise ValueError(f"not a finished state: {state}")
        for key in keys:
            row = self._t.inbound.get((channel, key))
            if row is not None:
                row.state, row.payload, row.lease_until, row.finished_at = state, None, None, now

    async def extend(self, channel: str, keys: Sequence[str], *, lease_until: datetime) -> None:
        """Renew the lease of pending updates."""
        for key in keys:
            row = self._t.inbound.get((channel, key))
            if row is not None and row.state == "pending":
                row.lease_until = lease_until

    async def claim_unfinished(
        self,
        channel: str,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int,
        expired_only: bool = True,
    ) -> list[JournaledUpdate]:
        """Pending updates whose lease ran out (or all), oldest first, now leased."""
        pending = sorted(
            (
                (row.received_at, key, row)
                for (row_channel, key), row in self._t.inbound.items()
                if row_channel == channel
                and row.state == "pending"
                and not (expired_only and (row.lease_until is None or row.lease_until >= now))
            ),
            key=lambda item: (item[0], item[1]),
        )[:limit]
        claimed = []
        for received_at, key, row in pending:
            row.lease_until, row.attempts = lease_until, row.attempts + 1
            claimed.append(
                JournaledUpdate(channel, key, row.payload or "", row.attempts, received_at)
            )
        return claimed

    async def purge(self, *, finished_before: datetime) -> int:
        """Forget finished updates older than `finished_before`."""
        old = [
            key
            for key, row in self._t.inbound.items()
            if row.state != "pending"
            and row.finished_at is not None
            and row.finished_at < finished_before
        ]
        for key in old:
            del self._t.inbound[key]
        return len(old)


# --------------------------------------------------------------------------- feedback


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


# --------------------------------------------------------------------------- the unit of work


class MemoryUnitOfWork:
    """One transaction on a `MemoryDatabase`: a private copy of its tables until `commit`."""

    users: UserRepository
    owners: OwnershipRepository
    subscriptions: SubscriptionRepository
    rate_limits: RateLimitRepository
    conversations: ConversationRepository
    outbox: OutboxRepository
    watch: WatchRepository
    quarantine: QuarantineRepository
    surveys: SurveyRepository
    scores: ScoreRepository
    zalo_tokens: ZaloTokenRepository
    inbound: InboundJournalRepository
    secrets: SecretRepository
    staff: StaffRepository
    office: OfficeRepository
    feedback: FeedbackRepository
    figures: FiguresRepository

    def __init__(self, database: MemoryDatabase, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._tables: MemoryTables | None = None

    async def __aenter__(self) -> Self:
        if self._tables is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        async with asyncio.timeout(WRITER_QUEUE_TIMEOUT_S):
            await self._database.lock.acquire()
        self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._tables is None:
            return
        self._tables = None
        self._database.lock.release()

    async def commit(self) -> None:
        """Publish this unit of work's changes; later statements start from them."""
        self._database.tables = self._open()
        self._begin()

    async def rollback(self) -> None:
        """Discard this unit of work's changes now."""
        self._open()
        self._begin()

    def _open(self) -> MemoryTables:
        if self._tables is None:
            raise RuntimeError("the unit of work is not open; use it with `async with`")
        return self._tables

    def _begin(self) -> None:
        tables = self._tables = copy.deepcopy(self._database.tables)
        self.users = MemoryUserRepository(tables)
        self.owners = MemoryOwnershipRepository(tables)
        self.subscriptions = MemorySubscriptionRepository(tables, self._clock)
        self.rate_limits = MemoryRateLimitRepository(tables.rate_limits)
        self.secrets = MemorySecretRepository(tables.server_secrets)
        self.conversations = MemoryConversationRepository(tables)
        self.outbox = MemoryOutboxRepository(tables)
        self.watch = MemoryWatchRepository(tables)
        self.quarantine = MemoryQuarantineRepository(tables)
        self.surveys = MemorySurveyRepository(tables)
        self.scores = MemoryScoreRepository(tables)
        self.zalo_tokens = MemoryZaloTokenRepository(tables)
        self.inbound = MemoryInboundJournalRepository(tables)
        self.staff = MemoryStaffRepository(tables)
        self.office = MemoryOfficeRepository(tables)
        self.feedback = MemoryFeedbackRepository(tables)
        self.figures = MemoryFiguresRepository(tables)


class MemoryUnitOfWorkFactory:
    """Makes `MemoryUnitOfWork`s on one `MemoryDatabase`; a `bot.ports.UnitOfWorkFactory`."""

    def __init__(self, database: MemoryDatabase | None = None, clock: Clock | None = None):
        self.database = database or MemoryDatabase()
        self.clock: Clock = clock or SystemClock()

    def __call__(self) -> MemoryUnitOfWork:
        """A fresh, not yet opened, unit of work."""
        return MemoryUnitOfWork(self.database, self.clock)


def _conforms(factory: MemoryUnitOfWorkFactory) -> UnitOfWorkFactory:
    """Lets mypy check that the twin implements every port (never called)."""
    uow: UnitOfWork = factory()
    del uow
    return factory


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
