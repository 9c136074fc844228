"""The Zalo channel's storage in memory: the twin of `bot.storage.zalo`, the Official Account's
token pair (`bot.ports.ZaloTokenRepository`). Webhook deliveries are in the inbound journal.
"""

from __future__ import annotations

from datetime import datetime

from bot.ports import StoredTokens
from bot.storage.memory.database import MemoryTables


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
