"""Process updates of different users concurrently and those of one user in order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

# python-telegram-bot takes its own semaphore *before* calling `do_process_update`. If that
# semaphore were the real bound, a burst from one user would fill every slot with updates
# waiting for that user's lock and stall everyone else; so it is only a generous guard and the
# real bound is taken inside, after the user's turn has come.
_OUTER_FACTOR = 64


class _Turn:
    """One user's lock, with the number of updates holding or awaiting it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrency` updates at once; one user's updates one after the other.

    Updates are keyed by the user who caused them (else the chat); updates with no user or
    chat are processed without ordering. `asyncio.Lock` wakes waiters first in, first out and
    python-telegram-bot starts one task per update in arrival order, so one user's updates are
    handled in the order Telegram sent them.
    """

    __slots__ = ("_slots", "_turns")

    def __init__(self, max_concurrency: int) -> None:
        super().__init__(max_concurrency * _OUTER_FACTOR)
        self._slots = asyncio.BoundedSemaphore(max_concurrency)
        self._turns: dict[int, _Turn] = {}

    @property
    def busy_users(self) -> int:
        """How many users have an update being processed or waiting."""
        return len(self._turns)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the user's turn and a free slot, then process the update."""
        key = _key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.users += 1
        try:
            async with turn.lock, self._slots:
                await coroutine
        except asyncio.CancelledError:
            _close(coroutine)
            raise
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free: python-telegram-bot awaits the running update tasks itself."""


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


def _close(coroutine: Awaitable[Any]) -> None:
    """Close a coroutine cancelled before it was awaited (no "never awaited" warning)."""
    if isinstance(coroutine, Coroutine):
        coroutine.close()
