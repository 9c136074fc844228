"""The small interfaces (ports) the handlers and domain services depend on.

Adapters implement them: `bot.caseapi.client.HttpCaseApi` the case API, `bot.storage` the
unit of work. Tests use the same adapters against loopback fakes, or in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from bot.domain.dossier import Dossier

# --------------------------------------------------------------------------- case API


class CaseApiError(Exception):
    """Base of every error the case API port raises."""


class DossierNotFound(CaseApiError):
    """The case system has no dossier with that code (HTTP 404)."""


class CaseApiUnavailable(CaseApiError):
    """The case system could not answer: 5xx, timeout, connection error, or circuit open."""


class MalformedAnswer(CaseApiUnavailable):
    """The case system answered, but not in the contract's shape (HTML, wrong JSON)."""


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One page of `GET /v1/changes`."""

    items: Sequence[Dossier]
    cursor: str


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


@dataclass(frozen=True, slots=True)
class OwnedDossier:
    """A dossier a user has proven to be theirs, and whether they follow it."""

    dossier_code: str
    method: str  # "pin" | "phone" | "deeplink"
    verified_at: datetime
    subscribed: bool


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A user following a dossier, as the notifier needs them."""

    user_id: int
    channel: str
    channel_user_id: str
    language: str
    blocked: bool


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

    async def is_subscribed(self, user_id: int, dossier_code: str) -> bool:
        """Whether the user follows the dossier."""
        ...

    async def subscribers_of(self, dossier_code: str) -> list[Subscriber]:
        """The active subscribers of a dossier."""
        ...


class RateLimitRepository(Protocol):
    """Fixed-window counters, shared by every process through the database."""

    async def hit(self, key: str, *, window_seconds: int, now: datetime) -> int:
        """Count one event for `key` in the current window; the count including this one."""
        ...

    async def hit_many(self, limits: Sequence[tuple[str, int]], *, now: datetime) -> list[int]:
        """`hit` for several distinct (key, window_seconds) pairs at once; counts in order."""
        ...

    async def count(self, key: str, *, window_seconds: int, now: datetime) -> int:
        """The events counted for `key` in the current window."""
        ...

    async def reset(self, key: str) -> None:
        """Forget the counts of `key`."""
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

    async def cancel(self, dossier_code: str, kinds: Sequence[str], *, now: datetime) -> int:
        """Cancel unsent notices of `kinds` about a dossier (e.g. reminders once returned)."""
        ...

    async def cancel_for_user(
        self, user_id: int, *, dossier_code: str | None = None, now: datetime
    ) -> int:
        """Cancel the user's unsent notices about one dossier, or all of them ("stop")."""
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


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work."""

    def __call__(self) -> UnitOfWork: ...
