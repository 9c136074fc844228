"""The small interfaces (ports) the handlers and domain services depend on.

Adapters implement them: `bot.caseapi.client.HttpCaseApi` the case API, `bot.storage` the
unit of work. Tests use the same adapters against loopback fakes, or in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self
from zoneinfo import ZoneInfo

from bot.domain.dossier import Dossier
from bot.domain.intake import RejectedItem
from bot.domain.office import (
    AuditEntry,
    CommentFilter,
    DeliverySummary,
    OfficeAgency,
    Role,
    StaffAccount,
    SurveyComment,
    UsageReport,
)
from bot.domain.outbox import FINISHED_STATES as FINISHED_STATES
from bot.domain.outbox import PENDING_STATES as PENDING_STATES
from bot.domain.outbox import OutboxState as OutboxState
from bot.domain.pacing import ChannelLimit
from bot.domain.snapshot import Recipient, Snapshot
from surveys.definitions import AnswerValue, Question
from surveys.model import (
    DossierFacts,
    ElementScore,
    GroupCount,
    Grouping,
    GroupTimeliness,
    ResponseKey,
    Session,
)
from surveys.periods import Period

if TYPE_CHECKING:
    from surveys.scoring import IndexReport

# --------------------------------------------------------------------------- case API


class CaseApiError(Exception):
    """Base of every error the case API port raises."""


class DossierNotFound(CaseApiError):
    """The case system has no dossier with that code (HTTP 404)."""


class CaseApiUnavailable(CaseApiError):
    """The case system could not answer: 5xx, timeout, connection error, or circuit open."""


class MalformedAnswer(CaseApiUnavailable):
    """The case system answered, but not in the contract's shape (HTML, wrong JSON)."""


class DossierOffContract(MalformedAnswer):
    """The case system answered with a dossier that breaks the contract (a negative fee, a
    missing field): that one dossier cannot be used, but the system itself works, so the
    circuit breaker does not count it against the others' lookups."""


# --------------------------------------------------------------------------- storage errors


class StorageUnavailable(Exception):
    """The database could not be reached or failed: the work stops and is tried again later;
    nothing may be skipped. A unit of work raises it in place of its driver's errors."""


class RecordRefused(Exception):
    """The database refused a record (a value it cannot hold, a broken constraint), not
    failed: that one record is set aside and the rest goes on. `cause` names the driver's
    error, for the operator."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"the database refused a record ({cause})")
        self.cause = cause


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One page of `GET /v1/changes`: the dossiers in the contract's shape, the cursor, and
    the items that were not (`rejected`, each with its place in the page)."""

    items: Sequence[Dossier]
    cursor: str
    rejected: Sequence[RejectedItem] = ()


class CaseApi(Protocol):
    """What the bot needs from the one-stop-shop case system (design §4)."""

    async def get_dossier(self, code: str) -> Dossier:
        """The dossier with `code`. Raises DossierNotFound or CaseApiUnavailable."""
        ...

    async def verify(self, code: str, *, pin: str | None = None, phone: str | None = None) -> bool:
        """Whether `pin` or `phone` proves ownership of dossier `code`."""
        ...

    async def changes(self, cursor: str | None = None, limit: int = 500) -> ChangesPage:
        """Dossiers changed after `cursor`, oldest first; no cursor means "from now"."""
        ...


# --------------------------------------------------------------------------- clock


class Clock(Protocol):
    """Where the time comes from; tests substitute a controllable one."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


# --------------------------------------------------------------------------- storage


@dataclass(frozen=True, slots=True)
class ChatUser:
    """A citizen as known on one channel. `id` is ours; `channel_user_id` the platform's."""

    id: int
    channel: str
    channel_user_id: str
    language: str
    blocked: bool
    created_at: datetime
    last_seen_at: datetime
    first_contact: bool = False  # created by the message being handled (privacy notice)


@dataclass(frozen=True, slots=True)
class OwnedDossier:
    """A dossier a user has proven to be theirs, and whether they follow it."""

    dossier_code: str
    method: str  # "pin" | "phone" | "deeplink"
    verified_at: datetime
    subscribed: bool


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What the bot is waiting for from a user (e.g. a PIN for a dossier)."""

    kind: str
    data: dict[str, Any]
    expires_at: datetime


class UserRepository(Protocol):
    """Chat users."""

    async def get_or_create(
        self, channel: str, channel_user_id: str, *, language: str, now: datetime
    ) -> ChatUser:
        """The user, created with `language` if new; `last_seen_at` kept roughly current."""
        ...

    async def get_or_create_with_ownership(
        self,
        channel: str,
        channel_user_id: str,
        dossier_code: str,
        *,
        language: str,
        now: datetime,
    ) -> tuple[ChatUser, OwnedDossier | None]:
        """`get_or_create`, and the user's ownership of `dossier_code` in the same trip."""
        ...

    async def get(self, user_id: int) -> ChatUser | None:
        """The user with our id `user_id`, if any."""
        ...

    async def set_language(self, user_id: int, language: str) -> None:
        """Remember the user's language ("vi" or "en")."""
        ...

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Mark that the user blocked (or unblocked) the bot."""
        ...

    async def erase(self, user_id: int) -> None:
        """Delete the user and everything stored about them (design §6)."""
        ...


class OwnershipRepository(Protocol):
    """Verified links between a chat user and a dossier."""

    async def add(
        self,
        user_id: int,
        dossier_code: str,
        *,
        method: str,
        now: datetime,
        phone: str | None = None,
    ) -> None:
        """Record that the user proved the dossier is theirs (idempotent).

        `phone` is kept only for method "phone": the one number template messages may use.
        """
        ...

    async def verified_phone(self, user_id: int, dossier_code: str) -> str | None:
        """The phone number the user proved ownership with, if they did so by phone."""
        ...

    async def is_owner(self, user_id: int, dossier_code: str) -> bool:
        """Whether the user has proven the dossier is theirs."""
        ...

    async def find(self, user_id: int, dossier_code: str) -> OwnedDossier | None:
        """The user's ownership of one dossier, with whether they follow it, if proven."""
        ...

    async def list_for_user(self, user_id: int) -> list[OwnedDossier]:
        """The user's verified dossiers, newest verification first."""
        ...


class SubscriptionRepository(Protocol):
    """Who follows which dossier for pushes."""

    async def subscribe(self, user_id: int, dossier_code: str, *, now: datetime) -> None:
        """Follow the dossier (idempotent; re-activates a stopped subscription)."""
        ...

    async def unsubscribe(self, user_id: int, dossier_code: str) -> bool:
        """Stop following one dossier; True if a subscription was active."""
        ...

    async def unsubscribe_all(self, user_id: int) -> int:
        """Stop following every dossier; returns how many were active."""
        ...

    async def end_for_dossiers(
        self, dossier_codes: Sequence[str], *, reason: str, now: datetime
    ) -> int:
        """End every active subscription of the dossiers (they reached a final status),
        recording `reason`; how many ended."""
        ...

    async def is_subscribed(self, user_id: int, dossier_code: str) -> bool:
        """Whether the user follows the dossier."""
        ...

    async def recipients_of(self, dossier_codes: Sequence[str]) -> dict[str, list[Recipient]]:
        """The active subscribers of each of the dossiers, by user id, blocked ones included
        (flagged), as the watcher's rules need them (dossiers nobody follows are left out)."""
        ...

    async def followed_without_snapshot(self, limit: int) -> list[str]:
        """Up to `limit` dossiers someone follows that the watcher has no snapshot of."""
        ...


@dataclass(frozen=True, slots=True)
class Bucket:
    """One limit on one key: a token bucket (GCRA) holding `capacity` attempts, refilled
    evenly over `period_seconds` (one every ``period_seconds / capacity``).

    With `max_backoff_seconds` above that refill step the bucket is a growing back-off: once
    `capacity` attempts were taken without the bucket coming to rest, each further attempt
    doubles the wait before the next one (up to `max_backoff_seconds`), and the growth is
    forgotten only after `rest_seconds` with the bucket full. A bucket never allows more than
    `capacity` attempts at once, whatever the clock says (no burst across a window edge).
    """

    key: str
    capacity: int
    period_seconds: float
    max_backoff_seconds: float = 0.0
    rest_seconds: float = 0.0
    #: The refill step: milliseconds between two attempts once the bucket is empty.
    step_ms: int = field(init=False, repr=False, compare=False)
    #: The longest step a growing back-off reaches (the refill step if it never grows).
    max_step_ms: int = field(init=False, repr=False, compare=False)
    #: How long the bucket must stay full before its back-off is forgotten.
    rest_ms: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once: every lookup reserves its buckets, and reads these several times.
        step = max(1, round(self.period_seconds * 1000 / self.capacity))
        object.__setattr__(self, "step_ms", step)
        object.__setattr__(self, "max_step_ms", max(step, round(self.max_backoff_seconds * 1000)))
        object.__setattr__(self, "rest_ms", max(0, round(self.rest_seconds * 1000)))


@dataclass(frozen=True, slots=True)
class Reservation:
    """Attempts taken by `RateLimitRepository.reserve`: one per key it was granted on.

    `granted` is False when a bucket had no attempt left; then nothing was taken and
    `refused_key` / `retry_after_seconds` say which bucket and for how long.
    """

    taken: tuple[tuple[str, int], ...] = ()
    refused_key: str | None = None
    retry_after_seconds: float = 0.0

    @property
    def granted(self) -> bool:
        """Whether every bucket gave an attempt."""
        return self.refused_key is None


class RateLimitRepository(Protocol):
    """Limits as reservations, shared by every process through the database (design §6).

    An attempt is taken atomically BEFORE the work it limits (a call to the case API) and
    given back only when that work succeeded, so parallel attempts can never overrun a limit.
    """

    async def reserve(self, buckets: Sequence[Bucket], *, now: datetime) -> Reservation:
        """Take one attempt from every bucket, or from none (all or nothing)."""
        ...

    async def give_back(self, reservation: Reservation) -> None:
        """Return the attempts of a granted reservation (the limited work succeeded)."""
        ...

    async def retry_after(self, buckets: Sequence[Bucket], *, now: datetime) -> float | None:
        """Seconds until every bucket has an attempt again, or None if they have one now
        (nothing is taken)."""
        ...

    async def purge(self, now: datetime) -> int:
        """Delete the rows of buckets that are full and whose back-off is forgotten."""
        ...


class SecretRepository(Protocol):
    """Server secrets kept in the database, so every process of one deployment shares them."""

    async def get_or_create(self, name: str, candidate: str) -> str:
        """The secret called `name`; `candidate` is stored (and returned) if there is none."""
        ...


class ConversationRepository(Protocol):
    """What each user is in the middle of, so any process can take the next message."""

    async def get(self, user_id: int, *, now: datetime) -> ConversationState | None:
        """The user's unexpired conversation state, if any."""
        ...

    async def set(
        self, user_id: int, kind: str, data: dict[str, Any], *, expires_at: datetime
    ) -> None:
        """Replace the user's conversation state."""
        ...

    async def clear(self, user_id: int) -> None:
        """Forget the user's conversation state."""
        ...

    async def purge_expired(self, now: datetime) -> int:
        """Delete every state that expired by `now` (housekeeping); how many."""
        ...


@dataclass(frozen=True, slots=True)
class Notice:
    """A push to one user, queued in the outbox in the same transaction as its cause.

    Its text is rendered when it is sent, in the user's language at that moment, by the
    renderer registered for `kind` (see `bot.notify.rendering`). `params` must be JSON-able.
    `dedup_key` is unique across the outbox: queuing the same key twice is a no-op, so
    re-detecting a change is harmless. `not_before` delays it (reminders, survey invitations);
    `expires_at` drops it unsent when passed; `urgent` ones go first when quiet hours end.
    """

    user_id: int
    kind: str
    dedup_key: str
    dossier_code: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None
    expires_at: datetime | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class ClaimedNotice:
    """A notice claimed for delivery, with its user's channel details and its send slot."""

    id: int
    user_id: int
    kind: str
    dossier_code: str | None
    params: Mapping[str, Any]
    attempts: int
    urgent: bool
    channel: str
    channel_user_id: str
    language: str
    claim_token: str
    slot: datetime


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What became of one claimed notice; `settle` records a batch of them.

    `state` is the notice's new state: SENT, RETRYING (with `next_attempt_at`, counting one
    more attempt), QUEUED (put back without counting an attempt, e.g. flood control, with
    `next_attempt_at`), HELD or DEAD. `block_user` also marks the user as having blocked the
    bot. `error` is a short description without personal data.
    """

    notice: ClaimedNotice
    state: OutboxState
    next_attempt_at: datetime | None = None
    error: str | None = None
    block_user: bool = False


class OutboxRepository(Protocol):
    """The transactional outbox: notices are written here and delivered by the dispatcher."""

    async def enqueue(self, notice: Notice, *, now: datetime) -> bool:
        """Queue `notice`; False when its dedup key was already queued (nothing written)."""
        ...

    async def enqueue_many(self, notices: Sequence[Notice], *, now: datetime) -> int:
        """Queue many notices in one statement; returns how many were new."""
        ...

    async def release_held(self, user_id: int, *, now: datetime) -> int:
        """Make the user's notices held for a closed chat window deliverable again."""
        ...

    async def cancel(
        self, dossier_codes: Sequence[str], kinds: Sequence[str], *, now: datetime
    ) -> int:
        """Cancel unsent notices of `kinds` about any of the dossiers (e.g. reminders once
        returned); a notice being sent at this moment is not stopped. How many."""
        ...

    async def cancel_for_user(
        self, user_id: int, *, dossier_code: str | None = None, now: datetime
    ) -> int:
        """Cancel the user's unsent notices about one dossier, or all of them ("stop")."""
        ...

    async def claim(
        self,
        *,
        now: datetime,
        limits: Mapping[str, ChannelLimit],
        token: str,
        lease: timedelta,
        horizon: float = 1.0,
        lead: float = 0.0,
        limit: int = 100,
    ) -> list[ClaimedNotice]:
        """Claim up to `limit` due notices of users on the channels of `limits`, each with a
        send slot from `now + lead` to `now + horizon` under the channel's and the chat's
        limits, leased under `token` until their slot plus `lease`. Notices found expired are
        marked expired; those of users who blocked the bot dead. Urgent ones first, then
        oldest first. Run it in a unit of work of its own."""
        ...

    async def settle(self, outcomes: Iterable[DeliveryOutcome], *, now: datetime) -> int:
        """Record what became of claimed notices (only those still claimed under the same
        token); how many were recorded (exact for one outcome; on PostgreSQL a batch of
        several reports 0, because its driver does not count the rows of a batch)."""
        ...

    async def pause_channel(self, channel: str, until: datetime) -> None:
        """Give out no send slot of `channel` before `until` (the platform's flood control)."""
        ...

    async def requeue_dead(
        self, *, now: datetime, kind: str | None = None, agencies: Sequence[str] | None = None
    ) -> int:
        """Put dead notices (of `kind`, or all) back in the queue with a fresh attempt count;
        `agencies`: only notices about dossiers of those agencies (a code's prefix)."""
        ...

    async def counts(self) -> dict[OutboxState, int]:
        """How many notices are in each state (every state present, zeros included)."""
        ...

    async def purge_finished(self, before: datetime) -> int:
        """Delete notices created and finished before `before` (housekeeping); how many."""
        ...


class DeliveryQueue(Protocol):
    """What the dispatcher needs of the outbox: each call is a transaction of its own."""

    async def claim(
        self,
        *,
        now: datetime,
        limits: Mapping[str, ChannelLimit],
        token: str,
        lease: timedelta,
        horizon: float,
        lead: float,
        limit: int,
    ) -> list[ClaimedNotice]:
        """Claim due notices with their send slots (see `OutboxRepository.claim`)."""
        ...

    async def settle(self, outcomes: Sequence[DeliveryOutcome], *, now: datetime) -> int:
        """Record what became of claimed notices; how many were recorded."""
        ...

    async def pause(self, channel: str, until: datetime) -> None:
        """Pause `channel` for every dispatcher until `until` (flood control)."""
        ...


# --------------------------------------------------------------------------- the watcher


class WatchRepository(Protocol):
    """The watcher's memory: dossier snapshots, the changes-feed cursor, the polling lease
    (databases without advisory locks) and the ids of pushed case events already seen."""

    async def snapshots(self, codes: Sequence[str]) -> dict[str, Snapshot]:
        """The stored snapshots of `codes`."""
        ...

    async def save_snapshots(self, snapshots: Iterable[Snapshot], *, now: datetime) -> None:
        """Store `snapshots`; a stored snapshot with a later status change is kept."""
        ...

    async def remember(self, snapshots: Iterable[Snapshot], *, now: datetime) -> None:
        """Store snapshots of dossiers not seen yet (stored ones are kept)."""
        ...

    async def overdue_candidates(self, *, now: datetime, limit: int) -> list[Snapshot]:
        """Up to `limit` snapshots whose appointment date passed before `now` without a
        result and without an overdue notice, earliest date first."""
        ...

    async def mark_overdue_notified(self, codes: Sequence[str], *, now: datetime) -> None:
        """Record that the overdue notice of `codes` was dealt with at `now`."""
        ...

    async def cursor(self) -> str | None:
        """The stored changes-feed cursor, if any."""
        ...

    async def advance_cursor(self, expected: str | None, new: str, *, now: datetime) -> bool:
        """Move the cursor from `expected` to `new`; False if another process moved it."""
        ...

    async def take_lease(self, holder: str, *, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the polling lease for `holder` until `now + ttl`; whether it holds
        it (the lease passes to another holder only once it has lapsed)."""
        ...

    async def release_lease(self, holder: str, *, now: datetime) -> None:
        """Give the lease up at once, if `holder` holds it."""
        ...

    async def record_events(self, ids: Sequence[str], *, now: datetime) -> set[str]:
        """Record pushed case-event ids; the ones not seen before."""
        ...

    async def purge_events(self, before: datetime) -> int:
        """Forget pushed event ids received before `before`; how many."""
        ...


class LeaderLock(Protocol):
    """Who polls: `acquire` tries (and renews) leadership, True while this process leads."""

    async def acquire(self) -> bool:
        """Whether this process leads (taking leadership if it is free)."""
        ...

    async def release(self) -> None:
        """Give leadership up."""
        ...


# --------------------------------------------------------------------------- surveys


class SurveyAlreadyStarted(Exception):
    """The dossier already has a survey response: one survey per dossier."""


class SurveyRepository(Protocol):
    """Survey responses and answers (anonymous) and sessions (a survey in progress)."""

    async def response_exists(self, dossier_code: str) -> bool:
        """Whether the dossier has already been surveyed (one survey per dossier)."""
        ...

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

        Raises `SurveyAlreadyStarted` if the dossier already has a response; the unit of work
        must then be rolled back.
        """
        ...

    async def session(self, dossier_code: str) -> Session | None:
        """The open session of a dossier (expired or not), with the answers given so far."""
        ...

    async def sessions_of(self, user_id: int, *, now: datetime) -> list[Session]:
        """The user's unexpired sessions, most recently active first."""
        ...

    async def save_answer(
        self, key: ResponseKey, question: Question, value: AnswerValue, *, now: datetime
    ) -> None:
        """Store one answer, replacing an earlier answer to the same question."""
        ...

    async def remove_answers(self, response_id: int, question_ids: Iterable[str]) -> None:
        """Delete the stored answers to `question_ids` (skipped, or no longer asked)."""
        ...

    async def move(
        self, dossier_code: str, question_id: str, history: Sequence[str], *, now: datetime
    ) -> None:
        """Record the session's new current question and its way back."""
        ...

    async def close(self, dossier_code: str) -> None:
        """End a session: the answers stay, the link to the chat user goes."""
        ...

    async def close_expired(self, now: datetime) -> int:
        """End every expired session (their answers stay); how many."""
        ...


class ScoreRepository(Protocol):
    """The satisfaction index's figures, aggregated where the answers are (design §7); each
    limited to the answers and dossiers of `agencies` when given."""

    async def element_scores(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[ElementScore]:
        """Per group, kind and element: valid and satisfied answers (≥ 4 on the 5-point
        scale; "very satisfied" or "satisfied" on the 3-level one) and the index; on every
        row the group's overall index (the mean of its 5-point element indices) and mean
        5-point score."""
        ...

    async def response_counts(
        self, by: Grouping, period: Period, agencies: Sequence[str] | None = None
    ) -> list[GroupCount]:
        """Per group: its name and the responses filed in `period`."""
        ...

    async def timeliness(
        self,
        by: Grouping,
        period: Period,
        tz: ZoneInfo,
        agencies: Sequence[str] | None = None,
    ) -> list[GroupTimeliness]:
        """Per group: dossiers returned in `period` before, on and after the local day of
        their (original) appointment date."""
        ...


# --------------------------------------------------------------------------- Zalo


@dataclass(frozen=True, slots=True)
class StoredTokens:
    """The Zalo Official Account's token pair as stored (one row)."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None
    version: int


class ZaloTokenRepository(Protocol):
    """The Official Account's single-use token pair, shared by every process."""

    async def get(self, *, lock: bool = False) -> StoredTokens | None:
        """The stored pair, if any; with `lock`, write-locked until the unit of work ends."""
        ...

    async def seed(self, access_token: str, refresh_token: str, *, now: datetime) -> None:
        """Store a first pair (rotation 0) unless one is stored already."""
        ...

    async def store(self, tokens: StoredTokens, *, now: datetime) -> None:
        """Store `tokens` in place of the current pair."""
        ...


# --------------------------------------------------------------------------- the quarantine


@dataclass(frozen=True, slots=True)
class QuarantinedItem:
    """A dossier change set aside because it broke the contract or could not be stored.

    `source` is "feed" (the changes feed) or "event" (a pushed case event). It stays open
    until a later valid version of the same dossier supersedes it (`resolved_at`).
    """

    id: int
    source: str
    dossier_code: str | None
    event_id: str | None
    reason: str
    payload: str
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int
    resolved_at: datetime | None


class QuarantineRepository(Protocol):
    """Dossier changes set aside, so that one bad record never blocks the others."""

    async def hold(self, items: Sequence[RejectedItem], *, source: str, now: datetime) -> int:
        """Keep `items` with their reasons; an open item of the same dossier is refreshed
        (seen once more) rather than added again. Returns how many were kept."""
        ...

    async def release(self, dossier_codes: Sequence[str], *, now: datetime) -> int:
        """Mark the open items of `dossier_codes` resolved: a valid version superseded them."""
        ...

    async def dismiss(self, item_id: int, *, now: datetime) -> bool:
        """Resolve one open item by hand (an operator dealt with it); whether it was open."""
        ...

    async def open_count(self) -> int:
        """How many items are set aside and not yet superseded."""
        ...

    async def list(
        self, *, include_resolved: bool = False, limit: int = 100
    ) -> list[QuarantinedItem]:
        """The items set aside, the most recently seen first."""
        ...

    async def get(self, item_id: int) -> QuarantinedItem | None:
        """One item by its id."""
        ...

    async def purge_resolved(self, before: datetime) -> int:
        """Forget items resolved before `before`; how many."""


@dataclass(frozen=True, slots=True)
class JournaledUpdate:
    """A chat update kept in the inbound journal until it is answered."""

    channel: str
    key: str  # the platform's id of the delivery (Telegram's update_id, Zalo's message id)
    payload: str  # the update as the platform sent it (JSON text)
    attempts: int  # how many times processing it has started, this one included
    received_at: datetime


class InboundJournalRepository(Protocol):
    """Chat updates stored before they are acknowledged, until they are answered.

    A channel records an update before it tells the platform it has it (a webhook's 200, the
    next polling offset) and finishes it after its answer; pending updates whose owner died
    (their lease ran out) are claimed and processed again. Keys are unique per channel, so a
    repeated delivery is recognised.
    """

    async def record(
        self,
        channel: str,
        updates: Sequence[tuple[str, str]],
        *,
        now: datetime,
        lease_until: datetime,
    ) -> set[str]:
        """Store the (key, payload) updates not stored before, leased to the caller until
        `lease_until`; the keys that were new (the others are repeats)."""
        ...

    async def finish(
        self, channel: str, keys: Sequence[str], *, now: datetime, state: str = "done"
    ) -> None:
        """Mark updates answered ("done") or set aside ("failed"); their content is erased."""
        ...

    async def extend(self, channel: str, keys: Sequence[str], *, lease_until: datetime) -> None:
        """Renew the lease of pending updates the caller is still working on."""
        ...

    async def claim_unfinished(
        self,
        channel: str,
        *,
        now: datetime,
        lease_until: datetime,
        limit: int,
        expired_only: bool = True,
    ) -> list[JournaledUpdate]:
        """Pending updates whose lease ran out (all pending ones without `expired_only`),
        oldest first, leased to the caller until `lease_until`, each attempt counted."""
        ...

    async def purge(self, *, finished_before: datetime) -> int:
        """Forget finished updates older than `finished_before`; how many were forgotten."""


MAX_FEEDBACK_TEXT = 4000
"""The longest feedback text kept, in characters: the storage cuts longer ones, and the chat
tells the citizen when it had to."""


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """A feedback or complaint a citizen sent, as the office sees it (text digits masked)."""

    id: int
    created_at: datetime
    updated_at: datetime
    channel: str
    user_id: int | None  # None once the citizen erased their data
    agency_code: str | None
    procedure_code: str | None
    kind: str  # "feedback" | "complaint"
    text: str
    status: str  # "open" | "answered" | "closed"
    language: str


@dataclass(frozen=True, slots=True)
class FeedbackMessage:
    """One message in a feedback item's thread: the citizen's, or a staff reply."""

    id: int
    feedback_id: int
    created_at: datetime
    author: str  # "citizen" | "staff"
    staff_username: str | None
    text: str


@dataclass(frozen=True, slots=True)
class UnansweredMessage:
    """A message the bot did not understand, kept 30 days for the office (digits masked)."""

    id: int
    created_at: datetime
    channel: str
    language: str
    agency_code: str | None
    text: str


class FeedbackRepository(Protocol):
    """Feedback and complaints with their threads, and the messages the bot could not answer.

    The citizen's first message is both `FeedbackItem.text` and the first message of the
    thread. Callers store citizen texts already masked (`bot.domain.masking.mask_digits`).
    """

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
        ...

    async def get(self, feedback_id: int) -> FeedbackItem | None:
        """One feedback item."""
        ...

    async def list_feedback(
        self,
        *,
        agency_code: str | None = None,
        since: datetime | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[FeedbackItem]:
        """Feedback items, newest first, optionally of one agency, since a time, in a state."""
        ...

    async def thread(self, feedback_id: int) -> list[FeedbackMessage]:
        """The messages of one feedback item, oldest first."""
        ...

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
        ...

    async def set_status(self, feedback_id: int, status: str, *, now: datetime) -> bool:
        """Move the item to `status`; False when there is no such item."""
        ...

    async def add_unanswered(
        self, *, channel: str, language: str, agency_code: str | None, text: str, now: datetime
    ) -> int:
        """Keep a message the bot could not answer; its id."""
        ...

    async def list_unanswered(
        self, *, agency_code: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[UnansweredMessage]:
        """Unanswered messages, newest first."""
        ...

    async def purge_unanswered(self, before: datetime) -> int:
        """Delete unanswered messages older than `before`; how many."""
        ...


class StaffRepository(Protocol):
    """The officials' accounts, their signed-in sessions and the audit trail (`bot.office`)."""

    async def add(
        self,
        username: str,
        *,
        password_hash: str,
        role: Role,
        agencies: Sequence[str],
        now: datetime,
    ) -> StaffAccount | None:
        """Create an active account; None when the username is taken."""
        ...

    async def get(self, username: str) -> StaffAccount | None:
        """The account named `username`, active or not."""
        ...

    async def accounts(self) -> list[StaffAccount]:
        """Every account, by username."""
        ...

    async def set_active(self, username: str, active: bool, *, now: datetime) -> bool:
        """Enable or disable an account (disabling ends its sessions); False if unknown."""
        ...

    async def set_password(self, username: str, password_hash: str, *, now: datetime) -> bool:
        """Replace the password hash and end the account's sessions; False if unknown."""
        ...

    async def open_session(
        self, staff_id: int, token_hash: str, *, now: datetime, expires_at: datetime
    ) -> None:
        """Record a signed-in browser under the hash of its session token."""
        ...

    async def session_account(self, token_hash: str, *, now: datetime) -> StaffAccount | None:
        """The active account of an unexpired session, if any."""
        ...

    async def close_session(self, token_hash: str) -> None:
        """Sign one browser out."""
        ...

    async def purge_sessions(self, *, now: datetime) -> int:
        """Delete expired sessions; how many."""
        ...

    async def audit(
        self, username: str, action: str, target: str, *, now: datetime, detail: str = ""
    ) -> None:
        """Write one line of the audit trail."""
        ...

    async def audit_trail(self, *, limit: int = 100) -> list[AuditEntry]:
        """The newest audit lines first."""
        ...


class OfficeRepository(Protocol):
    """What the officials' workspace reads (and the usage counters the chat writes)."""

    async def index_report(
        self,
        by: Grouping,
        period: Period,
        *,
        tz: ZoneInfo,
        agencies: Sequence[str] | None = None,
    ) -> IndexReport:
        """The satisfaction index and timeliness (`surveys.scoring`), of `agencies` or all."""
        ...

    async def agencies(self, codes: Sequence[str] | None = None) -> list[OfficeAgency]:
        """Agencies with survey or dossier data (of `codes`, or all), by name."""
        ...

    async def comments(self, query: CommentFilter) -> list[SurveyComment]:
        """Written survey comments, newest first, with the scores of the same response."""
        ...

    async def delivery(
        self, *, agencies: Sequence[str] | None, now: datetime, failures: int = 20
    ) -> DeliverySummary:
        """The outbox by state and channel, the oldest queued push, the last failures."""
        ...

    async def usage(
        self, *, first_day: int, last_day: int, agencies: Sequence[str] | None, tz: ZoneInfo
    ) -> UsageReport:
        """Lookups per local day (YYYYMMDD), citizens, followers and surveys per agency."""
        ...

    async def add_lookups(self, counts: Mapping[str, int], *, day: int) -> None:
        """Add `counts` ({agency code: lookups}) to local day `day` (YYYYMMDD)."""
        ...


class UnitOfWork(Protocol):
    """One database transaction with the repositories bound to it.

    Use as ``async with uow_factory() as uow: ...; await uow.commit()``; leaving the block
    without commit rolls back.
    """

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

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Make the transaction's changes permanent."""
        ...

    async def rollback(self) -> None:
        """Discard the transaction's changes now (leaving the block does it too)."""
        ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work."""

    def __call__(self) -> UnitOfWork: ...


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True, slots=True)
class OperationalFigures:
    """Figures an operator watches (``/metrics``), read from the database at scrape time."""

    outbox_by_state: dict[str, int]
    oldest_waiting_age: float | None  # seconds; None when nothing waits
    surveys_sent: int
    surveys_answered: int
    zalo_token_age: float | None  # seconds since the stored token pair changed; None: none


class FiguresRepository(Protocol):
    """The operator's figures. Read them in a report unit of work (`for_reports` on SQL: no
    write lock), so a scrape never queues behind the writers; it changes nothing."""

    async def read(self, now: datetime) -> OperationalFigures:
        """The figures as of `now`."""
        ...
