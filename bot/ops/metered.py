"""Adapters that count at the boundaries, so handlers and domain code stay free of metrics.

Each wraps one port and is wired in the composition root: `MeteredHandler` around the
conversation core (messages by channel and outcome; a fresh log context per message),
`MeteredCaseApi` around a case API client (latency, errors, lookups by result; binds the
dossier code to the log context), `metered_sender` around a channel's sender (pushes by
result, 429s included), `MeteredLeaderLock` around the watcher's leader lock (leadership).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from bot import logcontext
from bot.caseapi.breaker import CircuitOpen
from bot.domain.dossier import Dossier
from bot.messages import Incoming, MessageHandler, Reply, Response
from bot.ops.metrics import Metrics, WatcherProgress
from bot.ports import CaseApi, CaseApiUnavailable, ChangesPage, DossierNotFound, MalformedAnswer
from bot.push import (
    ChannelBlocked,
    ChannelPermanentError,
    ChannelRetryAfter,
    ChannelWindowClosed,
    PushDetails,
    Sender,
)

T = TypeVar("T")


class MeteredHandler:
    """A `MessageHandler` that counts each message and gives it a fresh log context."""

    def __init__(self, inner: MessageHandler, metrics: Metrics, apologies: set[str]) -> None:
        self._inner = inner
        self._metrics = metrics
        self._apologies = apologies

    async def __call__(self, incoming: Incoming) -> Response:
        """Hand `incoming` to the core; count how it ended."""
        with logcontext.fresh(channel=incoming.channel):
            response = await self._inner(incoming)
        if any(reply.text in self._apologies for reply in response.replies):
            outcome = "apology"
        elif response.replies or response.notice:
            outcome = "answered"
        else:
            outcome = "silent"
        self._metrics.count_message(incoming.channel, outcome)
        return response


class MeteredCaseApi:
    """A `CaseApi` that measures every call of `client` ("chat" or "watcher")."""

    def __init__(
        self,
        inner: CaseApi,
        metrics: Metrics,
        client: str,
        progress: WatcherProgress | None = None,
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._client = client
        self._progress = progress

    @property
    def inner(self) -> CaseApi:
        """The wrapped client."""
        return self._inner

    async def get_dossier(self, code: str) -> Dossier:
        """See `bot.ports.CaseApi.get_dossier`; counts a lookup by result."""
        logcontext.bind(dossier=code)
        result = "unavailable"
        try:
            dossier = await self._timed("get_dossier", self._inner.get_dossier(code))
            result = "found"
            return dossier
        except DossierNotFound:
            result = "not_found"
            raise
        finally:
            if self._client == "chat":
                self._metrics.count_lookup(result)

    async def verify(self, code: str, *, pin: str | None = None, phone: str | None = None) -> bool:
        """See `bot.ports.CaseApi.verify`."""
        logcontext.bind(dossier=code)
        return await self._timed("verify", self._inner.verify(code, pin=pin, phone=phone))

    async def changes(self, cursor: str | None = None, limit: int = 500) -> ChangesPage:
        """See `bot.ports.CaseApi.changes`; a success is the watcher's latest page."""
        page = await self._timed("changes", self._inner.changes(cursor, limit))
        if self._progress is not None:
            self._progress.last_page_at = time.monotonic()
        return page

    async def _timed(self, call: str, pending: Awaitable[T]) -> T:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await pending
        except DossierNotFound:
            outcome = "not_found"
            raise
        except CaseApiUnavailable as error:
            outcome = _error_name(error)
            raise
        finally:
            self._metrics.observe_case_api(
                self._client, call, outcome, time.perf_counter() - started
            )

    async def aclose(self) -> None:
        """Close the wrapped client, if it can be closed."""
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()


def _error_name(error: CaseApiUnavailable) -> str:
    if isinstance(error, CircuitOpen):
        return "circuit_open"
    if isinstance(error, MalformedAnswer):
        return "malformed"
    if isinstance(error.__cause__, TimeoutError) or "timed out" in str(error).lower():
        return "timeout"
    return "unavailable"


class _MeteredSender:
    """A `Sender` that counts each push by result."""

    def __init__(self, inner: Sender, metrics: Metrics, channel: str) -> None:
        self._inner = inner
        self._metrics = metrics
        self._channel = channel

    async def send(self, channel_user_id: str, replies: Sequence[Reply]) -> None:
        """See `bot.push.Sender.send`."""
        await self._counted(self._inner.send(channel_user_id, replies))

    async def _counted(self, pending: Awaitable[T]) -> T:
        result = "sent"
        try:
            return await pending
        except ChannelRetryAfter:
            result = "retry_after"
            raise
        except ChannelBlocked:
            result = "blocked"
            raise
        except ChannelWindowClosed:
            result = "window_closed"
            raise
        except ChannelPermanentError:
            result = "refused"
            raise
        except (TimeoutError, asyncio.CancelledError):
            result = "timeout"
            raise
        except Exception:
            result = "temporary_error"
            raise
        finally:
            self._metrics.count_send(self._channel, result)


class _MeteredTemplateSender(_MeteredSender):
    """A metered `Sender` that is also a `TemplateSender` (Zalo ZNS)."""

    async def send_template(self, channel_user_id: str, details: PushDetails) -> bool:
        """See `bot.push.TemplateSender.send_template`."""
        return bool(
            await self._counted(self._inner.send_template(channel_user_id, details))  # type: ignore[attr-defined]
        )


def metered_sender(inner: Sender, metrics: Metrics, channel: str) -> Sender:
    """`inner` with its pushes counted (keeping `send_template` if it has one)."""
    if callable(getattr(inner, "send_template", None)):
        return _MeteredTemplateSender(inner, metrics, channel)
    return _MeteredSender(inner, metrics, channel)


class MeteredLeaderLock:
    """A watcher `LeaderLock` that records whether this process leads."""

    def __init__(self, inner: Any, progress: WatcherProgress) -> None:
        self._inner = inner
        self._progress = progress

    async def acquire(self) -> bool:
        """Try (or renew) leadership; remember the answer."""
        leads = bool(await self._inner.acquire())
        self._progress.leader = leads
        return leads

    async def release(self) -> None:
        """Give leadership up."""
        self._progress.leader = False
        await self._inner.release()
