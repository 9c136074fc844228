"""The chat's people in memory: users, the dossiers they proved theirs, their subscriptions and
conversation states; the twins of `bot.storage.repositories`.

As in SQL, owners, subscriptions and conversations refer to a user: writing one for a user
that does not exist raises the `IntegrityError` of the foreign key (`no_user`), and erasing a
user deletes what refers to them (`MemoryTables.delete_user`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.domain.snapshot import Recipient
from bot.ports import ChatUser, Clock, ConversationState, OwnedDossier
from bot.storage.memory.database import MemoryTables, OwnerRow, SubscriptionRow, no_user
from bot.storage.repositories import LAST_SEEN_RESOLUTION
from bot.storage.tables import OWNERSHIP_METHODS


class MemoryUserRepository:
    """`bot.ports.UserRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def get_or_create(
        self, channel: str, channel_user_id: str, *, language: str, now: datetime
    ) -> ChatUser:
        """The user, created with `language` if new; `last_seen_at` kept roughly current."""
        for user in self._t.users.values():
            if user.channel == channel and user.channel_user_id == channel_user_id:
                if now - user.last_seen_at >= LAST_SEEN_RESOLUTION:
                    user = self._t.users[user.id] = dataclasses.replace(user, last_seen_at=now)
                return user
        user = ChatUser(
            id=self._t.next_user_id,
            channel=channel,
            channel_user_id=channel_user_id,
            language=language,
            blocked=False,
            created_at=now,
            last_seen_at=now,
        )
        self._t.next_user_id += 1
        self._t.users[user.id] = user
        return dataclasses.replace(user, first_contact=True)

    async def get_or_create_with_ownership(
        self,
        channel: str,
        channel_user_id: str,
        dossier_code: str,
        *,
        language: str,
        now: datetime,
    ) -> tuple[ChatUser, OwnedDossier | None]:
        """`get_or_create`, and the user's ownership of `dossier_code`."""
        user = await self.get_or_create(channel, channel_user_id, language=language, now=now)
        return user, _owned(self._t, user.id, dossier_code)

    async def get(self, user_id: int) -> ChatUser | None:
        """The user with our id `user_id`, if any."""
        return self._t.users.get(user_id)

    async def set_language(self, user_id: int, language: str) -> None:
        """Remember the user's language."""
        self._update(user_id, language=language)

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Mark that the user blocked (or unblocked) the bot."""
        self._update(user_id, blocked=blocked)

    async def erase(self, user_id: int) -> None:
        """Delete the user and what refers to them; limits are not kept under the user."""
        self._t.delete_user(user_id)

    def _update(self, user_id: int, **changes: Any) -> None:
        user = self._t.users.get(user_id)
        if user is not None:
            self._t.users[user_id] = dataclasses.replace(user, **changes)


def _owned(tables: MemoryTables, user_id: int, dossier_code: str) -> OwnedDossier | None:
    owner = tables.owners.get((user_id, dossier_code))
    if owner is None:
        return None
    subscription = tables.subscriptions.get((user_id, dossier_code))
    return OwnedDossier(
        dossier_code=dossier_code,
        method=owner.method,
        verified_at=owner.verified_at,
        subscribed=subscription is not None and subscription.active,
    )


class MemoryOwnershipRepository:
    """`bot.ports.OwnershipRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def add(
        self,
        user_id: int,
        dossier_code: str,
        *,
        method: str,
        now: datetime,
        phone: str | None = None,
    ) -> None:
        """Record that the user proved the dossier is theirs (idempotent)."""
        if method not in OWNERSHIP_METHODS:
            raise ValueError(f"unknown verification method {method!r}")
        if phone is not None and method != "phone":
            raise ValueError("only a phone verification records a phone number")
        if user_id not in self._t.users:
            raise no_user(user_id)
        before = self._t.owners.get((user_id, dossier_code))
        kept_phone = phone if phone is not None or before is None else before.phone
        self._t.owners[(user_id, dossier_code)] = OwnerRow(method, now, kept_phone)

    async def verified_phone(self, user_id: int, dossier_code: str) -> str | None:
        """The phone number the user proved ownership with, if any."""
        owner = self._t.owners.get((user_id, dossier_code))
        return None if owner is None else owner.phone

    async def is_owner(self, user_id: int, dossier_code: str) -> bool:
        """Whether the user has proven the dossier is theirs."""
        return (user_id, dossier_code) in self._t.owners

    async def find(self, user_id: int, dossier_code: str) -> OwnedDossier | None:
        """The user's ownership of one dossier, if proven."""
        return _owned(self._t, user_id, dossier_code)

    async def list_for_user(self, user_id: int) -> list[OwnedDossier]:
        """The user's verified dossiers, newest verification first."""
        found = [
            owned
            for (owner_id, code) in self._t.owners
            if owner_id == user_id and (owned := _owned(self._t, user_id, code)) is not None
        ]
        found.sort(key=lambda o: o.dossier_code)
        found.sort(key=lambda o: o.verified_at, reverse=True)
        return found


class MemorySubscriptionRepository:
    """`bot.ports.SubscriptionRepository` in memory."""

    def __init__(self, tables: MemoryTables, clock: Clock) -> None:
        self._t = tables
        self._clock = clock

    async def subscribe(self, user_id: int, dossier_code: str, *, now: datetime) -> None:
        """Follow the dossier (idempotent; re-activates a stopped subscription)."""
        if user_id not in self._t.users:
            raise no_user(user_id)
        before = self._t.subscriptions.get((user_id, dossier_code))
        if before is not None and before.active:
            return
        self._t.subscriptions[(user_id, dossier_code)] = SubscriptionRow(True, now)

    async def unsubscribe(self, user_id: int, dossier_code: str) -> bool:
        """Stop following one dossier; True if a subscription was active."""
        return self._end([(user_id, dossier_code)], "user", self._clock.now()) > 0

    async def unsubscribe_all(self, user_id: int) -> int:
        """Stop following every dossier; how many were active."""
        keys = [k for k in self._t.subscriptions if k[0] == user_id]
        return self._end(keys, "user", self._clock.now())

    async def end_for_dossiers(
        self, dossier_codes: Sequence[str], *, reason: str, now: datetime
    ) -> int:
        """End every active subscription of the dossiers; how many ended."""
        codes = set(dossier_codes)
        return self._end([k for k in self._t.subscriptions if k[1] in codes], reason, now)

    async def is_subscribed(self, user_id: int, dossier_code: str) -> bool:
        """Whether the user follows the dossier."""
        subscription = self._t.subscriptions.get((user_id, dossier_code))
        return subscription is not None and subscription.active

    async def recipients_of(self, dossier_codes: Sequence[str]) -> dict[str, list[Recipient]]:
        """The active subscribers of each dossier, by user id."""
        found: dict[str, list[Recipient]] = {}
        for code in sorted(set(dossier_codes)):
            for user_id in self._followers(code):
                subscription = self._t.subscriptions[(user_id, code)]
                blocked = self._t.users[user_id].blocked
                found.setdefault(code, []).append(
                    Recipient(user_id, subscription.created_at, blocked)
                )
        return found

    async def followed_without_snapshot(self, limit: int) -> list[str]:
        """Up to `limit` followed dossiers the watcher has no snapshot of."""
        codes = {
            code
            for (_, code), s in self._t.subscriptions.items()
            if s.active and code not in self._t.snapshots
        }
        return sorted(codes)[:limit]

    def _followers(self, dossier_code: str) -> list[int]:
        return sorted(
            user_id
            for (user_id, code), s in self._t.subscriptions.items()
            if code == dossier_code and s.active
        )

    def _end(self, keys: Iterable[tuple[int, str]], reason: str, now: datetime) -> int:
        ended = 0
        for key in keys:
            subscription = self._t.subscriptions.get(key)
            if subscription is not None and subscription.active:
                self._t.subscriptions[key] = SubscriptionRow(
                    False, subscription.created_at, now, reason
                )
                ended += 1
        return ended


class MemoryConversationRepository:
    """`bot.ports.ConversationRepository` in memory."""

    def __init__(self, tables: MemoryTables) -> None:
        self._t = tables

    async def get(self, user_id: int, *, now: datetime) -> ConversationState | None:
        """The user's unexpired conversation state, if any."""
        state = self._t.conversations.get(user_id)
        if state is None or state.expires_at <= now:
            return None
        return ConversationState(state.kind, copy.deepcopy(state.data), state.expires_at)

    async def set(
        self, user_id: int, kind: str, data: dict[str, Any], *, expires_at: datetime
    ) -> None:
        """Replace the user's conversation state."""
        if user_id not in self._t.users:
            raise no_user(user_id)
        self._t.conversations[user_id] = ConversationState(kind, copy.deepcopy(data), expires_at)

    async def clear(self, user_id: int) -> None:
        """Forget the user's conversation state."""
        self._t.conversations.pop(user_id, None)

    async def purge_expired(self, now: datetime) -> int:
        """Delete every state that expired by `now`; how many."""
        expired = [u for u, s in self._t.conversations.items() if s.expires_at <= now]
        for user_id in expired:
            del self._t.conversations[user_id]
        return len(expired)
