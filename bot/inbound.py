"""The inbound journal: no chat update acknowledged to a platform is lost in a crash.

A channel *admits* an update — stores it in the database (`InboundJournalRepository`) —
before it tells the platform it has it (the webhook's 200, the polling offset that moves past
it), and marks it *done* after it has been answered. If the process dies in between (the
out-of-memory killer's SIGKILL), the update is still pending in the database and is processed
again by the restarted process or by another one (`ChannelJournal.recover`, and a periodic
sweep). A key already stored is a repeated delivery and is not processed twice.

The guarantee is "at least once, almost always once": an update whose answer went out in the
instant between the answer and the done mark is answered again after a crash; nothing that
was acknowledged is left unanswered.

Costs are kept low by group commit: concurrent admissions and done marks of all channels share
one transaction (`_GroupCommit`), so a burst of updates costs a few transactions, not two per
update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.ports import Clock, JournaledUpdate, UnitOfWorkFactory

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_KEEP = timedelta(days=3)
RECOVER_BATCH = 500


@dataclass(frozen=True, slots=True)
class _Admit:
    channel: str
    updates: Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class _Finish:
    channel: str
    key: str


_Op = _Admit | _Finish


class InboundJournal:
    """The journal of every channel, over the unit of work, with group commit.

    `lease` is how long an admitted update is presumed to be in the hands of the process that
    admitted it (renewed while it works on it); after that another process may take it over.
    An update whose processing started `max_attempts` times without finishing (it kills the
    process each time?) is set aside as "failed" with a log line, so it cannot block the
    others. Finished updates are kept as keys only (no content) for `keep`, to recognise
    repeated deliveries.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        keep: timedelta = DEFAULT_KEEP,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self._uow_factory = uow_factory
        self._clock = clock
        self.lease = lease
        self.max_attempts = max(1, max_attempts)
        self.keep = keep
        self._pending: list[tuple[_Op, asyncio.Future[set[str]]]] = []
        self._writer: asyncio.Task[None] | None = None

    def for_channel(self, channel: str) -> ChannelJournal:
        """The journal as one channel uses it."""
        return ChannelJournal(self, channel)

    async def admit(self, channel: str, updates: Sequence[tuple[str, str]]) -> set[str]:
        """Store (key, payload) updates; the keys seen for the first time (the others are
        repeats). Committed when this returns."""
        if not updates:
            return set()
        return await self._submit(_Admit(channel, updates))

    async def finish(self, channel: str, key: str) -> None:
        """Mark one update answered; committed when this returns."""
        await self._submit(_Finish(channel, key))

    async def claim(
        self, channel: str, *, expired_only: bool, exclude: set[str]
    ) -> list[JournaledUpdate]:
        """Take over unfinished updates (see `ChannelJournal.recover`)."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            claimed = await uow.inbound.claim_unfinished(
                channel,
                now=now,
                lease_until=now + self.lease,
                limit=RECOVER_BATCH,
                expired_only=expired_only,
            )
            claimed = [update for update in claimed if update.key not in exclude]
            given_up = [u.key for u in claimed if u.attempts > self.max_attempts]
            if given_up:
                await uow.inbound.finish(channel, given_up, now=now, state="failed")
            await uow.commit()
        for key in given_up:
            log.error(
                "inbound: %s update %s set aside after %d attempts", channel, key, self.max_attempts
            )
        return [update for update in claimed if update.attempts <= self.max_attempts]

    async def extend(self, channel: str, keys: Sequence[str]) -> None:
        """Renew the lease of updates this process is still working on."""
        if not keys:
            return
        now = self._clock.now()
        async with self._uow_factory() as uow:
            await uow.inbound.extend(channel, keys, lease_until=now + self.lease)
            await uow.commit()

    async def purge(self) -> int:
        """Forget finished updates older than `keep`; how many."""
        async with self._uow_factory() as uow:
            purged = await uow.inbound.purge(finished_before=self._clock.now() - self.keep)
            await uow.commit()
        return purged

    # ----------------------------------------------------------------- group commit

    async def _submit(self, op: _Op) -> set[str]:
        future: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="inbound-journal")
        return await future

    async def _write(self) -> None:
        """Write what is pending in one transaction, again while more arrived meanwhile."""
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await self._write_batch([op for op, _ in batch])
                except Exception as exc:  # the callers decide (503, retry, log)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._writer = None

    async def _write_batch(self, ops: Sequence[_Op]) -> list[set[str]]:
        now = self._clock.now()
        admitted: dict[str, set[str]] = {}
        async with self._uow_factory() as uow:
            by_channel: dict[str, dict[str, str]] = {}
            for op in ops:
                if isinstance(op, _Admit):
                    updates = by_channel.setdefault(op.channel, {})
                    for key, payload in op.updates:
                        updates.setdefault(key, payload)
            for channel, updates in by_channel.items():
                admitted[channel] = await uow.inbound.record(
                    channel, list(updates.items()), now=now, lease_until=now + self.lease
                )
            finished: dict[str, list[str]] = {}
            for op in ops:
                if isinstance(op, _Finish):
                    finished.setdefault(op.channel, []).append(op.key)
            for channel, keys in finished.items():
                await uow.inbound.finish(channel, keys, now=now)
            await uow.commit()
        results: list[set[str]] = []
        for op in ops:
            if isinstance(op, _Admit):
                # The first of several callers admitting the same key gets it.
                new = admitted[op.channel]
                mine = {key for key, _ in op.updates if key in new}
                new -= mine
                results.append(mine)
            else:
                results.append(set())
        return results


class ChannelJournal:
    """The inbound journal as one channel uses it: admit, done, recover, upkeep.

    It remembers which updates this process is working on, renews their lease while it does,
    and never hands them out again to the same process.
    """

    def __init__(self, journal: InboundJournal, channel: str) -> None:
        self._journal = journal
        self.channel = channel
        self._in_hand: set[str] = set()
        self._upkeep: asyncio.Task[None] | None = None

    @property
    def in_hand(self) -> int:
        """How many updates this process has admitted or claimed and not finished."""
        return len(self._in_hand)

    async def admit(self, updates: Sequence[tuple[str, str]]) -> set[str]:
        """Store updates before acknowledging them; the keys to process (not repeats)."""
        fresh = await self._journal.admit(self.channel, updates)
        self._in_hand |= fresh
        return fresh

    async def done(self, key: str) -> None:
        """The update has been answered (or could not be, and never will)."""
        try:
            await self._journal.finish(self.channel, key)
        except Exception:
            # It stays pending and will be processed again after the lease: at least once.
            log.exception("inbound: could not mark %s update %s done", self.channel, key)
        finally:
            self._in_hand.discard(key)

    async def recover(self, *, everything: bool = False) -> list[JournaledUpdate]:
        """Unfinished updates to process again: those whose lease ran out, or with
        `everything` all pending ones (when this process is known to be the only one, e.g.
        the one Telegram poller). Oldest first."""
        claimed = await self._journal.claim(
            self.channel, expired_only=not everything, exclude=set(self._in_hand)
        )
        self._in_hand |= {update.key for update in claimed}
        if claimed:
            log.warning(
                "inbound: %d unfinished %s update(s) taken up again", len(claimed), self.channel
            )
        return claimed

    def start_upkeep(
        self,
        replay: Callable[[list[JournaledUpdate]], Awaitable[None]],
        *,
        every: float | None = None,
    ) -> None:
        """Every `every` seconds (a third of the lease by default): renew the lease of the
        updates in hand, take up others whose lease ran out (`replay` processes them), and
        now and then purge old finished ones."""
        if self._upkeep is None:
            interval = every or self._journal.lease.total_seconds() / 3
            self._upkeep = asyncio.create_task(
                self._upkeep_forever(replay, interval), name=f"inbound-{self.channel}"
            )

    async def stop(self) -> None:
        """Stop the upkeep (what is in hand stays pending until finished or taken over)."""
        task, self._upkeep = self._upkeep, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _upkeep_forever(
        self, replay: Callable[[list[JournaledUpdate]], Awaitable[None]], interval: float
    ) -> None:
        purge_every = max(1, int(3600 / interval))
        rounds = 0
        while True:
            await asyncio.sleep(interval)
            rounds += 1
            try:
                await self._journal.extend(self.channel, sorted(self._in_hand))
                claimed = await self.recover()
                if claimed:
                    await replay(claimed)
                if rounds % purge_every == 0:
                    await self._journal.purge()
            except Exception:
                log.exception("inbound: upkeep of the %s journal failed", self.channel)
