"""The Zalo channel's own storage: the OA token pair (with its refresh) and the events seen.

The token refresh is serialised through the database, so two processes never spend the same
single-use refresh token: the refresher takes the token row's write lock (``SELECT … FOR
UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), re-reads the row, and only calls Zalo
if nobody refreshed meanwhile; the new pair is committed before anyone uses it. The lock is
held during the OAuth call, which is why that call has a short timeout.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.errors import ZaloAuthError
from bot.channels.zalo.tables import TOKEN_ROW_ID, zalo_seen_events, zalo_tokens
from bot.ports import Clock
from bot.storage.engine import write_transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredTokens:
    """The token row."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None
    version: int


class TokenStore:
    """The OA access token: read from the database, refreshed before it expires or on demand.

    `initial_access` / `initial_refresh` (from MOTCUA_ZALO_ACCESS_TOKEN / _REFRESH_TOKEN) seed
    the table when it is empty; afterwards the table is the truth, because every refresh
    replaces the pair. `refresh_margin` is how long before its expiry a token is replaced.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        api: ZaloApi,
        clock: Clock,
        *,
        initial_access: str | None = None,
        initial_refresh: str | None = None,
        refresh_margin: timedelta = timedelta(minutes=30),
    ) -> None:
        self._engine = engine
        self._api = api
        self._clock = clock
        self._initial = (initial_access, initial_refresh)
        self._margin = refresh_margin
        self._cached: StoredTokens | None = None
        self._lock = asyncio.Lock()  # one refresher per process; the database orders processes

    async def access_token(self) -> str:
        """A usable access token, refreshed first if it is about to expire."""
        tokens = self._cached or await self._load()
        if self._due(tokens):
            return await self.refresh(tokens.access_token)
        return tokens.access_token

    async def refresh(self, stale: str) -> str:
        """A new access token to replace `stale` (which Zalo refused or which is expiring).

        If another task or process already replaced `stale`, its token is returned and no
        refresh token is spent.
        """
        async with self._lock:
            cached = self._cached
            if cached is not None and cached.access_token != stale and not self._due(cached):
                return cached.access_token
            async with write_transaction(self._engine) as conn:
                current = await self._locked_row(conn)
                if current.access_token != stale and not self._due(current):
                    self._cached = current
                    return current.access_token
                pair = await self._api.refresh(current.refresh_token)
                now = self._clock.now()
                expires_at = now + timedelta(seconds=pair.expires_in) if pair.expires_in else None
                renewed = StoredTokens(
                    pair.access_token, pair.refresh_token, expires_at, current.version + 1
                )
                await conn.execute(
                    update(zalo_tokens)
                    .where(zalo_tokens.c.id == TOKEN_ROW_ID)
                    .values(
                        access_token=renewed.access_token,
                        refresh_token=renewed.refresh_token,
                        expires_at=renewed.expires_at,
                        version=renewed.version,
                        updated_at=now,
                    )
                )
            self._cached = renewed
            logger.info("zalo: access token refreshed (rotation %d)", renewed.version)
            return renewed.access_token

    async def install(self, access_token: str, refresh_token: str) -> None:
        """Replace the stored pair with a new one issued in Zalo's console."""
        await install_pair(self._engine, self._clock, access_token, refresh_token)
        self._cached = None

    def _due(self, tokens: StoredTokens) -> bool:
        return tokens.expires_at is not None and tokens.expires_at - self._margin <= (
            self._clock.now()
        )

    async def _load(self) -> StoredTokens:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(zalo_tokens))).mappings().first()
        if row is None:
            async with write_transaction(self._engine) as conn:
                tokens = await self._locked_row(conn)
        else:
            tokens = _tokens(row)
        self._cached = tokens
        return tokens

    async def _locked_row(self, conn: AsyncConnection) -> StoredTokens:
        """The token row, write-locked until the transaction ends; seeded if empty."""
        current = await _select_locked(conn)
        if current is not None:
            return current
        access, refresh = self._initial
        if not access or not refresh:
            raise ZaloAuthError(
                "no Zalo tokens: set MOTCUA_ZALO_ACCESS_TOKEN and MOTCUA_ZALO_REFRESH_TOKEN"
            )
        await conn.execute(
            _insert(conn)
            .values(
                id=TOKEN_ROW_ID,
                access_token=access,
                refresh_token=refresh,
                expires_at=None,
                version=0,
                updated_at=self._clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        seeded = await _select_locked(conn)
        if seeded is None:
            raise RuntimeError("the Zalo token row vanished while locked")
        return seeded


async def install_pair(
    engine: AsyncEngine, clock: Clock, access_token: str, refresh_token: str
) -> int:
    """Store a pair issued in Zalo's console in place of the current one (``motcua zalo
    install-tokens``); returns its rotation number. Running processes pick it up at their
    next refresh, or at once when Zalo refuses their cached token."""
    async with write_transaction(engine) as conn:
        current = await _select_locked(conn)
        values = {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_at": None,
            "updated_at": clock.now(),
        }
        if current is None:
            await conn.execute(insert(zalo_tokens).values(id=TOKEN_ROW_ID, version=1, **values))
            return 1
        await conn.execute(
            update(zalo_tokens)
            .where(zalo_tokens.c.id == TOKEN_ROW_ID)
            .values(version=current.version + 1, **values)
        )
        return current.version + 1


class SeenEvents:
    """Webhook deliveries already accepted, shared by every process through the database."""

    def __init__(self, engine: AsyncEngine, clock: Clock, *, keep: timedelta = timedelta(days=3)):
        self._engine = engine
        self._clock = clock
        self._keep = keep

    async def first_time(self, key: str) -> bool:
        """Record `key`; True if nobody recorded it before."""
        async with write_transaction(self._engine) as conn:
            result = await conn.execute(
                _insert(conn, zalo_seen_events)
                .values(event_key=key, seen_at=self._clock.now())
                .on_conflict_do_nothing(index_elements=["event_key"])
            )
        return bool(result.rowcount == 1)

    async def purge(self) -> int:
        """Forget deliveries older than the keep period; how many were forgotten."""
        cutoff = self._clock.now() - self._keep
        async with write_transaction(self._engine) as conn:
            result = await conn.execute(
                delete(zalo_seen_events).where(zalo_seen_events.c.seen_at < cutoff)
            )
        return max(result.rowcount, 0)


async def _select_locked(conn: AsyncConnection) -> StoredTokens | None:
    """The token row, write-locked until the transaction ends (None if there is none)."""
    query = select(zalo_tokens).where(zalo_tokens.c.id == TOKEN_ROW_ID).with_for_update()
    row = (await conn.execute(query)).mappings().first()
    return _tokens(row) if row is not None else None


def _tokens(row: Any) -> StoredTokens:
    return StoredTokens(
        access_token=row["access_token"],
        refresh_token=row["refresh_token"],
        expires_at=row["expires_at"],
        version=row["version"],
    )


def _insert(conn: AsyncConnection, table: Any = zalo_tokens) -> Any:
    """The dialect's INSERT with ON CONFLICT support."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
