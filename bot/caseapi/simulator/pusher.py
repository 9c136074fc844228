"""Signed pushes of dossier changes to the bot's case-event webhook (design §4).

Every change becomes an event ``{"id": "<run>-<change number>", "dossier": Dossier}``; events
are POSTed in batches as ``{"events": [...]}`` with ``X-Motcua-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body under the shared secret. A failed batch is re-sent unchanged
(same body, same ids) after an exponential backoff, so the receiver can deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections import deque
from typing import Any

import httpx

from bot.caseapi.simulator.record import SimDossier
from bot.caseapi.simulator.state import SimulatorState

SIGNATURE_HEADER = "X-Motcua-Signature"

log = logging.getLogger(__name__)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Pusher:
    """Queues change events and delivers them to `url` in signed, retried batches."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        client: httpx.AsyncClient | None = None,
        batch_size: int = 100,
        linger: float = 0.05,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 10.0,
        max_queue: int = 100_000,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.url = url
        self._secret = secret
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self._batch_size = batch_size
        self._linger = linger
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._queue: deque[dict[str, Any]] = deque(maxlen=max_queue)
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._state: SimulatorState | None = None
        self.delivered = 0
        """Events the receiver acknowledged."""
        self.failures = 0
        """Failed delivery attempts (each is retried)."""
        self.rejected = 0
        """Events dropped because the receiver refused them for good (4xx)."""

    @property
    def pending(self) -> int:
        """Events waiting to be sent (not counting a batch in flight)."""
        return len(self._queue)

    # ------------------------------------------------------------------ wiring

    def attach(self, state: SimulatorState) -> None:
        """Push every change of `state` from now on."""
        self._state = state
        state.add_listener(self._on_change)

    def detach(self) -> None:
        """Stop listening to the state."""
        if self._state is not None:
            self._state.remove_listener(self._on_change)
            self._state = None

    def _on_change(self, sequence: int, dossier: SimDossier) -> None:
        assert self._state is not None
        self.enqueue(f"{self._state.run_id}-{sequence}", dossier.to_json())

    def enqueue(self, event_id: str, dossier: dict[str, Any]) -> None:
        """Queue one event (the dossier JSON as it is at the change)."""
        if len(self._queue) == self._queue.maxlen:
            log.warning("push queue full; dropping the oldest event")
        self._queue.append({"id": event_id, "dossier": dossier})
        self._wake.set()

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        """Start delivering in a background task."""
        if self._task is not None:
            raise RuntimeError("the pusher is already running")
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="simulator-pusher")

    async def stop(self, flush_timeout: float = 2.0) -> None:
        """Deliver what is queued for up to `flush_timeout` seconds, then stop."""
        task, self._task = self._task, None
        if task is not None:
            self._closing = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), flush_timeout)
            except TimeoutError:
                log.warning("pusher stopped with %d events undelivered", len(self._queue))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._linger and not self._closing and len(self._queue) < self._batch_size:
                await asyncio.sleep(self._linger)  # let a burst of changes share a batch
            count = min(self._batch_size, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            body = json.dumps({"events": batch}, ensure_ascii=False).encode()
            await self._deliver(body, count)

    async def _deliver(self, body: bytes, count: int) -> None:
        assert self._client is not None
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body)}
        delay = self._backoff
        while True:
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            else:
                if response.is_success:
                    self.delivered += count
                    return
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    self.rejected += count
                    log.warning(
                        "push of %d events refused with HTTP %d; dropped",
                        count,
                        response.status_code,
                    )
                    return
                outcome = f"HTTP {response.status_code}"
            self.failures += 1
            log.info("push of %d events failed (%s); retrying in %.1f s", count, outcome, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)
