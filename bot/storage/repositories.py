"""Repositories over one database connection, implementing the storage ports of `bot.ports`.

Each method is one or two short statements: a lookup (get_or_create, a rate-limit hit, an
ownership check) must cost a few milliseconds in total. The repositories never commit; the
unit of work (`bot.storage.uow`) owns the transaction.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.snapshot import Recipient
from bot.ports import ChatUser, Clock, ConversationState, OwnedDossier
from bot.storage.dialect import insert_for, rowcount, upsert_into
from bot.storage.tables import (
    OWNERSHIP_METHODS,
    chat_users,
    conversations,
    dossier_owners,
    subscriptions,
)
from bot.storage.tables_watch import dossier_snapshots

# get_or_create rewrites last_seen_at only when it is older than this, so the common case
# is a single SELECT rather than a write on every message.
LAST_SEEN_RESOLUTION = timedelta(hours=1)


def _chat_user(row: RowMapping) -> ChatUser:
    return ChatUser(
        id=row["id"],
        channel=row["channel"],
        channel_user_id=row["channel_user_id"],
        language=row["language"],
        blocked=row["blocked"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )


class SqlUserRepository:
    """Chat users in the `chat_users` table."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def get_or_create(
        self, channel: str, channel_user_id: str, *, language: str, now: datetime
    ) -> ChatUser:
        """The user, created with `language` if new; `last_seen_at` kept roughly current.

        One SELECT for a known user. A new user is inserted with ON CONFLICT DO NOTHING, so
        two processes creating the same user at once both get the same row.
        """
        identity = {"channel": channel, "channel_user_id": channel_user_id}
        row = (await self._connection.execute(_USER_BY_IDENTITY, identity)).mappings().first()
        return await self._known_or_new(row, identity, language=language, now=now)

    async def get_or_create_with_ownership(
        self,
        channel: str,
        channel_user_id: str,
        dossier_code: str,
        *,
        language: str,
        now: datetime,
    ) -> tuple[ChatUser, OwnedDossier | None]:
        """`get_or_create`, and the user's ownership of `dossier_code` read by the same SELECT
        (a lookup needs both; a new user owns nothing)."""
        identity = {"channel": channel, "channel_user_id": channel_user_id}
        params = {**identity, "dossier_code": dossier_code}
        row = (await self._connection.execute(_USER_AND_OWNERSHIP, params)).mappings().first()
        user = await self._known_or_new(row, identity, language=language, now=now)
        if row is None or row["owned_method"] is None:
            return user, None
        owned = OwnedDossier(
            dossier_code=dossier_code,
            method=row["owned_method"],
            verified_at=row["owned_at"],
            subscribed=bool(row["owned_subscribed"]),
        )
        return user, owned

    async def _known_or_new(
        self, row: RowMapping | None, identity: dict[str, str], *, language: str, now: datetime
    ) -> ChatUser:
        """The user read as `row` (its last_seen_at brought up to date), or created."""
        if row is None:
            new_user = {**identity, "language": language, "created_at": now, "last_seen_at": now}
            insert = _new_user_insert(self._connection.dialect.name)
            row = (await self._connection.execute(insert, new_user)).mappings().first()
            if row is None:  # another transaction created it after our SELECT
                row = (await self._connection.execute(_USER_BY_IDENTITY, identity)).mappings().one()
                return _chat_user(row)
            return dataclasses.replace(_chat_user(row), first_contact=True)
        user = _chat_user(row)
        if now - user.last_seen_at >= LAST_SEEN_RESOLUTION:
            await self._connection.execute(
                update(chat_users).where(chat_users.c.id == user.id).values(last_seen_at=now)
            )
            user = dataclasses.replace(user, last_seen_at=now)
        return user

    async def get(self, user_id: int) -> ChatUser | None:
        """The user with our id `user_id`, if any."""
        query = select(chat_users).where(chat_users.c.id == user_id)
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else _chat_user(row)

    async def set_language(self, user_id: int, language: str) -> None:
        """Remember the user's language ("vi" or "en")."""
        await self._connection.execute(
            update(chat_users).where(chat_users.c.id == user_id).values(language=language)
        )

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Mark that the user blocked (or unblocked) the bot."""
        await self._connection.execute(
            update(chat_users).where(chat_users.c.id == user_id).values(blocked=blocked)
        )

    async def erase(self, user_id: int) -> None:
        """Delete the user and everything stored about them (design §6).

        Ownerships, subscriptions and conversation state go by ON DELETE CASCADE. Limits are
        not stored under the user (`bot.limits`), so erasing does not reset them.
        """
        await self._connection.execute(delete(chat_users).where(chat_users.c.id == user_id))


class SqlOwnershipRepository:
    """Verified links between users and dossiers, in `dossier_owners`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

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

        Proving it again refreshes the method and time, so `list_for_user` shows the dossier
        the user verified most recently first.
        """
        if method not in OWNERSHIP_METHODS:
            raise ValueError(f"unknown verification method {method!r}")
        if phone is not None and method != "phone":
            raise ValueError("only a phone verification records a phone number")
        insert = upsert_into(self._connection, dossier_owners).values(
            user_id=user_id, dossier_code=dossier_code, method=method, verified_at=now, phone=phone
        )
        await self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=["user_id", "dossier_code"],
                set_={
                    "method": insert.excluded.method,
                    "verified_at": insert.excluded.verified_at,
                    # a later PIN proof keeps the phone proven before
                    "phone": func.coalesce(insert.excluded.phone, dossier_owners.c.phone),
                },
            )
        )

    async def verified_phone(self, user_id: int, dossier_code: str) -> str | None:
        """The phone number the user proved ownership of the dossier with, if any."""
        query = select(dossier_owners.c.phone).where(
            dossier_owners.c.user_id == user_id, dossier_owners.c.dossier_code == dossier_code
        )
        return (await self._connection.execute(query)).scalar_one_or_none()

    async def is_owner(self, user_id: int, dossier_code: str) -> bool:
        """Whether the user has proven the dossier is theirs."""
        query = select(dossier_owners.c.user_id).where(
            dossier_owners.c.user_id == user_id, dossier_owners.c.dossier_code == dossier_code
        )
        return (await self._connection.execute(query)).first() is not None

    async def find(self, user_id: int, dossier_code: str) -> OwnedDossier | None:
        """The user's ownership of one dossier (with the subscription flag), if proven."""
        params = {"user_id": user_id, "dossier_code": dossier_code}
        row = (await self._connection.execute(_OWNED_ONE, params)).first()
        return None if row is None else _owned_dossier(row)

    async def list_for_user(self, user_id: int) -> list[OwnedDossier]:
        """The user's verified dossiers, newest verification first."""
        query = _owned(user_id).order_by(
            dossier_owners.c.verified_at.desc(), dossier_owners.c.dossier_code
        )
        return [_owned_dossier(row) for row in (await self._connection.execute(query)).all()]


def _owned(user_id: Any) -> Select[Any]:
    """The user's ownerships joined with their subscriptions."""
    subscribed = func.coalesce(subscriptions.c.active, False)
    return (
        select(
            dossier_owners.c.dossier_code,
            dossier_owners.c.method,
            dossier_owners.c.verified_at,
            subscribed.label("subscribed"),
        )
        .select_from(
            dossier_owners.outerjoin(
                subscriptions,
                and_(
                    subscriptions.c.user_id == dossier_owners.c.user_id,
                    subscriptions.c.dossier_code == dossier_owners.c.dossier_code,
                ),
            )
        )
        .where(dossier_owners.c.user_id == user_id)
    )


# The statements of the lookup path, built once: building a statement costs more CPU than
# running it, and these run on every message that carries a dossier code.
_USER_BY_IDENTITY = select(chat_users).where(
    chat_users.c.channel == bindparam("channel"),
    chat_users.c.channel_user_id == bindparam("channel_user_id"),
)
_USER_AND_OWNERSHIP = (
    select(
        *chat_users.c,
        dossier_owners.c.method.label("owned_method"),
        dossier_owners.c.verified_at.label("owned_at"),
        func.coalesce(subscriptions.c.active, False).label("owned_subscribed"),
    )
    .select_from(
        chat_users.outerjoin(
            dossier_owners,
            and_(
                dossier_owners.c.user_id == chat_users.c.id,
                dossier_owners.c.dossier_code == bindparam("dossier_code"),
            ),
        ).outerjoin(
            subscriptions,
            and_(
                subscriptions.c.user_id == chat_users.c.id,
                subscriptions.c.dossier_code == bindparam("dossier_code"),
            ),
        )
    )
    .where(
        chat_users.c.channel == bindparam("channel"),
        chat_users.c.channel_user_id == bindparam("channel_user_id"),
    )
)
_OWNED_ONE = _owned(bindparam("user_id")).where(
    dossier_owners.c.dossier_code == bindparam("dossier_code")
)


@functools.cache
def _conversation_upsert(dialect: str) -> Any:
    # Built once per dialect: every lookup sets the dossier in context, and building an
    # upsert (its `excluded` columns) cost more CPU than running it.
    insert = insert_for(dialect, conversations)
    return insert.on_conflict_do_update(
        index_elements=["user_id"],
        set_={
            "kind": insert.excluded.kind,
            "data": insert.excluded.data,
            "expires_at": insert.excluded.expires_at,
        },
    )


@functools.cache
def _new_user_insert(dialect: str) -> Any:
    """Create a chat user (parameters: the columns but id and blocked) unless it exists;
    returns the new row, or nothing when another transaction created it first."""
    insert = insert_for(dialect, chat_users)
    columns = ("channel", "channel_user_id", "language", "created_at", "last_seen_at")
    return (
        insert.values(blocked=False, **{name: bindparam(name) for name in columns})
        .on_conflict_do_nothing(index_elements=["channel", "channel_user_id"])
        .returning(*chat_users.c)
    )


def _owned_dossier(row: Any) -> OwnedDossier:
    return OwnedDossier(
        dossier_code=row.dossier_code,
        method=row.method,
        verified_at=row.verified_at,
        subscribed=bool(row.subscribed),
    )


class SqlSubscriptionRepository:
    """Who follows which dossier, in `subscriptions`. Ended rows are kept, marked inactive."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._connection = conn
        self._clock = clock

    async def subscribe(self, user_id: int, dossier_code: str, *, now: datetime) -> None:
        """Follow the dossier (idempotent; re-activates a stopped subscription)."""
        insert = upsert_into(self._connection, subscriptions).values(
            user_id=user_id, dossier_code=dossier_code, active=True, created_at=now
        )
        await self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=["user_id", "dossier_code"],
                set_={
                    # An active subscription keeps its start; a renewed one starts now.
                    "created_at": case(
                        (subscriptions.c.active, subscriptions.c.created_at),
                        else_=insert.excluded.created_at,
                    ),
                    "active": True,
                    "ended_at": None,
                    "end_reason": None,
                },
            )
        )

    async def unsubscribe(self, user_id: int, dossier_code: str) -> bool:
        """Stop following one dossier; True if a subscription was active."""
        result = await self._end(
            and_(subscriptions.c.user_id == user_id, subscriptions.c.dossier_code == dossier_code),
            reason="user",
            now=self._clock.now(),
        )
        return result > 0

    async def unsubscribe_all(self, user_id: int) -> int:
        """Stop following every dossier; returns how many were active."""
        return await self._end(
            subscriptions.c.user_id == user_id, reason="user", now=self._clock.now()
        )

    async def end_for_dossiers(
        self, dossier_codes: Sequence[str], *, reason: str, now: datetime
    ) -> int:
        """End every active subscription of the dossiers (they reached a final status).

        `reason` is recorded, e.g. the final status ("returned", "withdrawn"). One statement
        for a whole page of the changes feed; returns how many subscriptions ended.
        """
        if not dossier_codes:
            return 0
        result = await self._connection.execute(
            update(subscriptions)
            .where(
                subscriptions.c.dossier_code.in_(bindparam("codes", expanding=True)),
                subscriptions.c.active,
            )
            .values(active=False, ended_at=now, end_reason=reason),
            {"codes": list(dossier_codes)},
        )
        return rowcount(result)

    async def is_subscribed(self, user_id: int, dossier_code: str) -> bool:
        """Whether the user follows the dossier."""
        query = select(subscriptions.c.active).where(
            subscriptions.c.user_id == user_id, subscriptions.c.dossier_code == dossier_code
        )
        return bool((await self._connection.execute(query)).scalar())

    async def recipients_of(self, dossier_codes: Sequence[str]) -> dict[str, list[Recipient]]:
        """The active subscribers of each dossier, by user id (one query, partial index)."""
        if not dossier_codes:
            return {}
        found: dict[str, list[Recipient]] = {}
        rows = await self._connection.execute(RECIPIENTS_OF, {"codes": list(dossier_codes)})
        for row in rows:
            found.setdefault(row.dossier_code, []).append(
                Recipient(user_id=row.id, subscribed_at=row.created_at, blocked=bool(row.blocked))
            )
        return found

    async def followed_without_snapshot(self, limit: int) -> list[str]:
        """Up to `limit` followed dossiers the watcher has never stored a snapshot of."""
        missing = (
            select(subscriptions.c.dossier_code)
            .where(
                subscriptions.c.active,
                ~exists().where(dossier_snapshots.c.code == subscriptions.c.dossier_code),
            )
            .distinct()
            .order_by(subscriptions.c.dossier_code)
            .limit(limit)
        )
        return [str(code) for code in (await self._connection.execute(missing)).scalars()]

    async def _end(self, where: Any, *, reason: str, now: datetime) -> int:
        result = await self._connection.execute(
            update(subscriptions)
            .where(where, subscriptions.c.active)
            .values(active=False, ended_at=now, end_reason=reason)
        )
        return rowcount(result)


# The watcher asks this for every page of changes: it must stay served by the partial index
# ix_subscriptions_active_dossier_code (a test checks the plan on both databases).
RECIPIENTS_OF = (
    select(
        subscriptions.c.dossier_code,
        subscriptions.c.created_at,
        chat_users.c.id,
        chat_users.c.blocked,
    )
    .select_from(subscriptions.join(chat_users, chat_users.c.id == subscriptions.c.user_id))
    .where(
        subscriptions.c.dossier_code.in_(bindparam("codes", expanding=True)),
        subscriptions.c.active,
    )
    .order_by(subscriptions.c.dossier_code, chat_users.c.id)
)


class SqlConversationRepository:
    """Per-user conversation state in `conversations` (one row per user at most)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def get(self, user_id: int, *, now: datetime) -> ConversationState | None:
        """The user's unexpired conversation state, if any."""
        query = select(
            conversations.c.kind, conversations.c.data, conversations.c.expires_at
        ).where(conversations.c.user_id == user_id, conversations.c.expires_at > now)
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        return ConversationState(kind=row.kind, data=dict(row.data), expires_at=row.expires_at)

    async def set(
        self, user_id: int, kind: str, data: dict[str, Any], *, expires_at: datetime
    ) -> None:
        """Replace the user's conversation state."""
        await self._connection.execute(
            _conversation_upsert(self._connection.dialect.name),
            {"user_id": user_id, "kind": kind, "data": data, "expires_at": expires_at},
        )

    async def clear(self, user_id: int) -> None:
        """Forget the user's conversation state."""
        await self._connection.execute(
            delete(conversations).where(conversations.c.user_id == user_id)
        )

    async def purge_expired(self, now: datetime) -> int:
        """Delete every state that expired by `now` (housekeeping); returns how many."""
        result = await self._connection.execute(
            delete(conversations).where(conversations.c.expires_at <= now)
        )
        return rowcount(result)
