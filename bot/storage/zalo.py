"""The Zalo channel's storage on SQL: the Official Account's token pair
(`bot.ports.ZaloTokenRepository`). Webhook deliveries are in the inbound journal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.ports import StoredTokens
from bot.storage.dialect import upsert_into
from bot.storage.tables_zalo import TOKEN_ROW_ID, zalo_tokens

_TOKENS = select(zalo_tokens).where(zalo_tokens.c.id == TOKEN_ROW_ID)
_TOKENS_LOCKED = _TOKENS.with_for_update()


class SqlZaloTokenRepository:
    """The single `zalo_tokens` row over one connection (inside its transaction).

    On PostgreSQL `get(lock=True)` is ``SELECT … FOR UPDATE``; on SQLite the unit of work
    already holds the database's write lock (``BEGIN IMMEDIATE``).
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._connection = conn

    async def get(self, *, lock: bool = False) -> StoredTokens | None:
        """The stored pair, if any; with `lock`, write-locked until the transaction ends."""
        row = (
            (await self._connection.execute(_TOKENS_LOCKED if lock else _TOKENS)).mappings().first()
        )
        return None if row is None else _tokens(row)

    async def seed(self, access_token: str, refresh_token: str, *, now: datetime) -> None:
        """Store a first pair (rotation 0) unless one is stored already."""
        await self._connection.execute(
            upsert_into(self._connection, zalo_tokens)
            .values(
                id=TOKEN_ROW_ID,
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=None,
                version=0,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def store(self, tokens: StoredTokens, *, now: datetime) -> None:
        """Store `tokens` in place of the current pair (or as the first one)."""
        values = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at,
            "version": tokens.version,
            "updated_at": now,
        }
        insert = upsert_into(self._connection, zalo_tokens).values(id=TOKEN_ROW_ID, **values)
        await self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=["id"], set_={name: insert.excluded[name] for name in values}
            )
        )


def _tokens(row: Any) -> StoredTokens:
    return StoredTokens(
        access_token=row["access_token"],
        refresh_token=row["refresh_token"],
        expires_at=row["expires_at"],
        version=row["version"],
    )
