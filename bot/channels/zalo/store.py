"""The Zalo channel's tokens, with their refresh.

They are kept in the database through the unit of work (`uow.zalo_tokens`); repeated webhook
deliveries are recognised by the inbound journal (`bot.inbound`). The token refresh is
serialised through the database, so two processes never spend the same single-use refresh
token: the refresher takes the token row's write lock (``SELECT … FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite) in a unit of work, re-reads the row, and only calls Zalo if
nobody refreshed meanwhile; the new pair is committed before anyone uses it. The lock is held
during the OAuth call, which is why that call has a short timeout.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.errors import ZaloAuthError
from bot.ports import Clock, StoredTokens, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

__all__ = ["StoredTokens", "TokenStore", "install_pair"]


class TokenStore:
    """The OA access token: read from the database, refreshed before it expires or on demand.

    `initial_access` / `initial_refresh` (from MOTCUA_ZALO_ACCESS_TOKEN / _REFRESH_TOKEN) seed
    the table when it is empty; afterwards the table is the truth, because every refresh
    replaces the pair. `refresh_margin` is how long before its expiry a token is replaced.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        api: ZaloApi,
        clock: Clock,
        *,
        initial_access: str | None = None,
        initial_refresh: str | None = None,
        refresh_margin: timedelta = timedelta(minutes=30),
    ) -> None:
        self._uow_factory = uow_factory
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
            async with self._uow_factory() as uow:
                current = await self._locked_row(uow)
                if current.access_token != stale and not self._due(current):
                    self._cached = current
                    return current.access_token
                pair = await self._api.refresh(current.refresh_token)
                now = self._clock.now()
                expires_at = now + timedelta(seconds=pair.expires_in) if pair.expires_in else None
                renewed = StoredTokens(
                    pair.access_token, pair.refresh_token, expires_at, current.version + 1
                )
                await uow.zalo_tokens.store(renewed, now=now)
                await uow.commit()
            self._cached = renewed
            log.info("zalo: access token refreshed (rotation %d)", renewed.version)
            return renewed.access_token

    async def install(self, access_token: str, refresh_token: str) -> None:
        """Replace the stored pair with a new one issued in Zalo's console."""
        await install_pair(self._uow_factory, self._clock, access_token, refresh_token)
        self._cached = None

    def _due(self, tokens: StoredTokens) -> bool:
        return tokens.expires_at is not None and tokens.expires_at - self._margin <= (
            self._clock.now()
        )

    async def _load(self) -> StoredTokens:
        async with self._uow_factory() as uow:
            tokens = await uow.zalo_tokens.get()
            if tokens is None:
                tokens = await self._locked_row(uow)
                await uow.commit()
        self._cached = tokens
        return tokens

    async def _locked_row(self, uow: UnitOfWork) -> StoredTokens:
        """The token row, write-locked until the unit of work ends; seeded if empty."""
        current = await uow.zalo_tokens.get(lock=True)
        if current is not None:
            return current
        access, refresh = self._initial
        if not access or not refresh:
            raise ZaloAuthError(
                "no Zalo tokens: set MOTCUA_ZALO_ACCESS_TOKEN and MOTCUA_ZALO_REFRESH_TOKEN"
            )
        await uow.zalo_tokens.seed(access, refresh, now=self._clock.now())
        seeded = await uow.zalo_tokens.get(lock=True)
        if seeded is None:
            raise RuntimeError("the Zalo token row vanished while locked")
        return seeded


async def install_pair(
    uow_factory: UnitOfWorkFactory, clock: Clock, access_token: str, refresh_token: str
) -> int:
    """Store a pair issued in Zalo's console in place of the current one (``motcua zalo
    install-tokens``); returns its rotation number. Running processes pick it up at their
    next refresh, or at once when Zalo refuses their cached token."""
    async with uow_factory() as uow:
        current = await uow.zalo_tokens.get(lock=True)
        version = 1 if current is None else current.version + 1
        tokens = StoredTokens(access_token, refresh_token, None, version)
        await uow.zalo_tokens.store(tokens, now=clock.now())
        await uow.commit()
    return version
