"""The dispatcher: delivers the outbox's notices through the channels, under their rate limits.

One loop per process claims due rows from its delivery queue (`bot.ports.DeliveryQueue`), each
with a send slot the database handed out (`bot.notify.throttle`), waits for each slot, renders
the notice in the user's language of the moment and sends it through the channel's `Sender`,
then records the outcomes in batches:

==========================  =============================================================
the channel says            the row becomes
==========================  =============================================================
delivered                   sent
ChannelRetryAfter(s)        queued again after exactly s seconds (not an attempt); the
                            channel is paused for s seconds for every dispatcher
ChannelTemporaryError,      retrying after an exponential backoff with jitter; dead once
a timeout, anything else    `Backoff.max_attempts` attempts failed
ChannelBlocked              dead, and the user is marked blocked (the notifier skips them)
ChannelPermanentError       dead
ChannelWindowClosed         sent as a template if the channel can (`TemplateSender`),
                            else held until the user writes again (`release_held`)
no renderer for the kind    dead
==========================  =============================================================

Nothing is sent inside quiet hours; when they end, urgent rows go first. Delivery is at least
once: a dispatcher killed between sending and recording leaves its rows "sending", and they
are sent again once their lease has passed, so duplicates are bounded by the rows in flight
at the crash. Several dispatchers may run on one database (see `bot.notify.throttle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import logcontext
from bot.notify.quiet import VIETNAM, QuietHours
from bot.notify.rendering import NoticeRenderers, RenderContext, UnknownNotice
from bot.notify.throttle import ChannelLimit, SendWindow, limit_for
from bot.ports import (
    ClaimedNotice,
    Clock,
    DeliveryOutcome,
    DeliveryQueue,
    OutboxState,
    SystemClock,
)
from bot.push import (
    ChannelBlocked,
    ChannelPermanentError,
    ChannelRetryAfter,
    ChannelWindowClosed,
    PushDetails,
    Sender,
)
from bot.wording import DEFAULT_OFFICE_NAME

log = logging.getLogger(__name__)

# A send held back longer than this by the send window is counted in `Dispatcher.paced`
# (shorter waits only absorb the loop's wake-up jitter).
PACED_NOTICEABLE = 0.001


@dataclass(frozen=True, slots=True)
class Backoff:
    """Backoff for passing failures: ``base × 2^(n-1)`` seconds after the n-th failed attempt,
    capped at `cap`, of which a random half is jitter; dead after `max_attempts` attempts."""

    max_attempts: int = 8
    base: float = 5.0
    cap: float = 3600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after `attempts` failed attempts."""
        full = min(self.cap, self.base * 2.0 ** max(attempts - 1, 0))
        return full / 2 + rng.uniform(0, full / 2)


def default_worker_id() -> str:
    """A name for this dispatcher, unique across hosts and restarts."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    """Delivers the notices of `queue` to users of the channels in `senders` ({channel: Sender}),
    worded by `renderers` (`bot.composition.notice_renderers`).

    `limits` overrides `bot.notify.throttle.DEFAULT_LIMITS` per channel. `quiet_hours` is
    ``(start, end)`` local times in `tz` (from `bot.settings.Settings.quiet_window`) or None.
    A claim takes at most `batch_size` rows with slots up to `horizon` seconds ahead; each is
    leased for `lease_seconds` after its slot (a dispatcher that dies is replaced after that).
    A send taking longer than `send_timeout` counts as a passing failure. Slots start at least
    `lead` seconds after the claim, and twice as long as the slowest recent claim took (at
    most half the horizon), so that they are still ahead when the claim has committed; a send
    that cannot start within `late_tolerance` seconds of its slot goes back to the queue. Sends
    up to that late fit at most that many seconds' more sends into any one-second window, so
    keep it below the channel's safety margin (4 % of a second: 40 ms); the default 20 ms
    leaves the other half for jitter in transit. Right before a send leaves, the channel's
    `SendWindow` reserves its start, so that sends bunched by late wake-ups still start no more
    than the channel's rate in any one-second window (widened by its safety margin).
    """

    def __init__(
        self,
        queue: DeliveryQueue,
        senders: Mapping[str, Sender],
        clock: Clock | None = None,
        *,
        renderers: NoticeRenderers,
        tz: ZoneInfo = VIETNAM,
        office_name: str = DEFAULT_OFFICE_NAME,
        quiet_hours: tuple[time, time] | QuietHours | None = None,
        limits: Mapping[str, ChannelLimit] | None = None,
        batch_size: int = 100,
        lease_seconds: float = 60.0,
        worker_id: str | None = None,
        retry: Backoff | None = None,
        send_timeout: float = 30.0,
        horizon: float = 1.0,
        lead: float = 0.1,
        late_tolerance: float = 0.02,
        poll_interval: float = 0.25,
        max_in_flight: int = 1000,
        rng: random.Random | None = None,
    ) -> None:
        if send_timeout + horizon >= lease_seconds:
            raise ValueError("lease_seconds must exceed send_timeout + horizon")
        self._queue = queue
        self._senders = dict(senders)
        self._renderers = renderers
        self._clock: Clock = clock or SystemClock()
        self._tz = tz
        self._office = office_name
        self._quiet = (
            quiet_hours
            if isinstance(quiet_hours, QuietHours) or quiet_hours is None
            else QuietHours(quiet_hours[0], quiet_hours[1], tz)
        )
        overrides = limits or {}
        self._limits = {channel: limit_for(overrides, channel) for channel in self._senders}
        # The last guard of the rate: no more than it in any one-second window, even when
        # sends due on their slots start bunched (see `bot.notify.throttle.SendWindow`).
        self._windows = {channel: SendWindow.of(limit) for channel, limit in self._limits.items()}
        self._batch_size = batch_size
        self._lease = timedelta(seconds=lease_seconds)
        self.worker_id = (worker_id or default_worker_id())[:48]
        self._retry = retry or Backoff()
        self._send_timeout = send_timeout
        self._horizon = horizon
        self._lead = lead
        self._slow_claim = 0.0  # seconds: the slowest recent claim, decaying
        self._late = timedelta(seconds=late_tolerance)
        self._poll_interval = poll_interval
        self._max_in_flight = max_in_flight
        self._rng = rng or random.Random()
        self._claims = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[DeliveryOutcome] = []
        self._pauses: dict[str, datetime] = {}  # channel -> paused until (to store)
        self._paused_until: dict[str, datetime] = {}  # channel -> paused until (known here)
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self.settled = 0  # outcomes recorded since start
        self.late = 0  # rows put back because their send could not start on time
        self.paced = 0  # sends held back over a millisecond to keep the rate in every window

    # ------------------------------------------------------------------ running

    async def run_once(self) -> int:
        """Deliver everything that is due now (and may be sent now); the number of rows whose
        outcome was recorded. For tests and one-shot use; `start` runs continuously."""
        before = self.settled
        while True:
            claimed = await self._cycle()
            if claimed:
                continue
            if not self._tasks:
                break
            await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
        await self._flush()
        return self.settled - before

    async def start(self) -> None:
        """Run the dispatch loop in the background until `stop`."""
        if self._loop_task is not None:
            raise RuntimeError("the dispatcher is already running")
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name=f"dispatcher {self.worker_id}")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming, let sends in progress finish (up to `grace` seconds; rows not yet
        sent go back to the queue), and record the outcomes."""
        task, self._loop_task = self._loop_task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=grace)
            for pending in late:
                pending.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._flush()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                claimed = await self._cycle()
                failures = 0
            except Exception as exc:  # the database is away: keep trying, calmly
                failures += 1
                log.warning("dispatcher: cycle failed (%s), retrying", type(exc).__name__)
                await asyncio.sleep(min(30.0, self._poll_interval * 2**failures))
                continue
            if claimed:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            # let the outcomes of sends finishing together be recorded in one transaction
            await asyncio.sleep(0.01)

    async def _cycle(self) -> int:
        """Record finished outcomes, then claim and schedule what may be sent; how many rows
        were claimed."""
        await self._flush()
        if self._stopping and self._loop_task is not None:
            return 0
        now = self._clock.now()
        if self._quiet is not None and self._quiet.contains(now):
            return 0
        room = self._max_in_flight - len(self._tasks)
        if room <= 0 or not self._senders:
            return 0
        token = f"{self.worker_id}:{next(self._claims)}"
        loop = asyncio.get_running_loop()
        started = loop.time()
        notices = await self._queue.claim(
            now=now,
            limits=self._limits,
            token=token,
            lease=self._lease,
            horizon=self._horizon,
            lead=self._current_lead(),
            limit=min(self._batch_size, room),
        )
        self._slow_claim = max(loop.time() - started, 0.9 * self._slow_claim)
        for notice in notices:
            task = asyncio.create_task(self._deliver(notice))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(notices)

    def _current_lead(self) -> float:
        """How far ahead the next claim's first slot lies: far enough that a claim as slow as
        the recent slowest has committed, and the sends are scheduled, before it comes due."""
        return min(max(self._lead, 2.0 * self._slow_claim), self._horizon / 2)

    async def _flush(self) -> None:
        if not self._outcomes and not self._pauses:
            return
        outcomes, self._outcomes = self._outcomes, []
        pauses, self._pauses = self._pauses, {}
        try:
            for channel, until in sorted(pauses.items()):
                await self._queue.pause(channel, until)
                del pauses[channel]
            if outcomes:
                await self._queue.settle(outcomes, now=self._clock.now())
        except BaseException:
            self._outcomes[:0] = outcomes  # try again next cycle; the lease covers a crash
            for channel, until in pauses.items():
                self._pauses[channel] = max(until, self._pauses.get(channel, until))
            raise
        self.settled += len(outcomes)

    # ------------------------------------------------------------------ one notice

    async def _deliver(self, notice: ClaimedNotice) -> None:
        # Its own task: what it logs is about this push.
        logcontext.bind(
            channel=notice.channel,
            user_id=notice.user_id,
            dossier=notice.dossier_code,
            outbox_id=notice.id,
        )
        try:
            delay = (notice.slot - self._clock.now()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self._record(DeliveryOutcome(notice, OutboxState.QUEUED, error="dispatcher stopped"))
            raise
        now = self._clock.now()
        if now > notice.slot + self._late:
            # Sending now would crowd the chat's or another dispatcher's next slot.
            self.late += 1
            self._record(DeliveryOutcome(notice, OutboxState.QUEUED, error="missed its send slot"))
            return
        paused = self._paused_until.get(notice.channel)
        if paused is not None and paused > now:
            self._record(
                DeliveryOutcome(
                    notice, OutboxState.QUEUED, next_attempt_at=paused, error="flood control"
                )
            )
            return
        self._record(await self._attempt(notice))

    def _record(self, outcome: DeliveryOutcome) -> None:
        self._outcomes.append(outcome)
        self._wake.set()

    async def _attempt(self, notice: ClaimedNotice) -> DeliveryOutcome:
        sender = self._senders[notice.channel]
        try:
            context = RenderContext(notice.language, self._tz, self._office)
            replies = self._renderers.render(notice.kind, notice.params, context)
        except UnknownNotice:
            log.error("outbox %s: no renderer for kind %s", notice.id, notice.kind)
            return DeliveryOutcome(
                notice, OutboxState.DEAD, error=f"unknown notice kind {notice.kind}"[:200]
            )
        except Exception as exc:
            log.exception("outbox %s: rendering %s failed", notice.id, notice.kind)
            return DeliveryOutcome(
                notice, OutboxState.DEAD, error=f"rendering failed: {type(exc).__name__}"
            )
        await self._pace(notice.channel)
        try:
            async with asyncio.timeout(self._send_timeout):
                await sender.send(notice.channel_user_id, replies)
        except ChannelWindowClosed:
            return await self._send_template(notice, sender)
        except Exception as exc:
            return self._failed(notice, exc)
        return DeliveryOutcome(notice, OutboxState.SENT)

    async def _pace(self, channel: str) -> None:
        """Wait, if need be, until a send on `channel` keeps its rate in every window."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = self._windows[channel].reserve(now)
        if start > now:
            if start - now > PACED_NOTICEABLE:
                self.paced += 1
            await asyncio.sleep(start - now)

    async def _send_template(self, notice: ClaimedNotice, sender: Sender) -> DeliveryOutcome:
        send_template = getattr(sender, "send_template", None)
        if send_template is None:
            return DeliveryOutcome(notice, OutboxState.HELD, error="chat window closed")
        details = PushDetails(notice.user_id, notice.kind, notice.dossier_code, notice.params)
        try:
            async with asyncio.timeout(self._send_timeout):
                delivered = bool(await send_template(notice.channel_user_id, details))
        except ChannelWindowClosed:
            delivered = False
        except Exception as exc:
            return self._failed(notice, exc)
        if delivered:
            return DeliveryOutcome(notice, OutboxState.SENT)
        return DeliveryOutcome(notice, OutboxState.HELD, error="chat window closed, no template")

    def _failed(self, notice: ClaimedNotice, exc: Exception) -> DeliveryOutcome:
        now = self._clock.now()
        name = type(exc).__name__
        if isinstance(exc, ChannelRetryAfter):
            until = now + timedelta(seconds=max(exc.retry_after, 0.0))
            known = self._paused_until.get(notice.channel)
            if known is None or known < until:
                self._paused_until[notice.channel] = until
                self._pauses[notice.channel] = until
            log.warning(
                "dispatcher: %s flood control, pausing %.1f s", notice.channel, exc.retry_after
            )
            return DeliveryOutcome(
                notice,
                OutboxState.QUEUED,
                next_attempt_at=until,
                error=f"retry after {exc.retry_after:g} s",
            )
        if isinstance(exc, ChannelBlocked):
            log.info("outbox %s: user %s blocked the bot", notice.id, notice.user_id)
            return DeliveryOutcome(
                notice, OutboxState.DEAD, error="user blocked the bot", block_user=True
            )
        if isinstance(exc, ChannelPermanentError):
            log.warning("outbox %s: %s refused the message", notice.id, notice.channel)
            return DeliveryOutcome(
                notice, OutboxState.DEAD, error=f"refused by the channel ({name})"
            )
        attempts = notice.attempts + 1
        if isinstance(exc, TimeoutError):
            name = "timeout"
        if attempts >= self._retry.max_attempts:
            log.warning("outbox %s: giving up after %d attempts (%s)", notice.id, attempts, name)
            return DeliveryOutcome(
                notice, OutboxState.DEAD, error=f"gave up after {attempts} attempts: {name}"
            )
        wait = self._retry.delay(attempts, self._rng)
        log.info(
            "outbox %s: attempt %d failed (%s), retry in %.0f s", notice.id, attempts, name, wait
        )
        return DeliveryOutcome(
            notice, OutboxState.RETRYING, next_attempt_at=now + timedelta(seconds=wait), error=name
        )
