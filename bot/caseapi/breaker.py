"""A small circuit breaker for the case API, so a dead case system costs nothing per lookup.

States: *closed* (calls go through; `failure_threshold` consecutive failures open it),
*open* (calls fail at once with `CircuitOpen` for `reset_after` seconds), *half-open* (exactly
one trial call goes through while the others keep failing fast; its success closes the
circuit, its failure opens it again for another `reset_after`).

What counts is decided by the exception leaving the guarded block: `CaseApiUnavailable`
(including malformed answers, a broken case system that keeps answering garbage is not
available) is a failure, but `DossierOffContract` is not (one dossier off the contract in a
well-formed answer: the system works, and one bad record must not fail everyone's lookups);
any other `CaseApiError` such as `DossierNotFound` means the system answered properly and is
a success; anything else (cancellation, a programming error) is inconclusive and only frees
the half-open trial slot.

State changes are synchronous and guarded by a lock, so the breaker is safe for any number of
coroutines in one loop (and for threads).
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from bot.ports import CaseApiError, CaseApiUnavailable, DossierOffContract

log = logging.getLogger(__name__)


class BreakerState(enum.Enum):
    """Where the breaker is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(CaseApiUnavailable):
    """The breaker refused the call without trying; `retry_after` seconds until a trial."""

    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(f"{name}: circuit open, next trial in {retry_after:.1f} s")
        self.retry_after = retry_after


class CircuitBreaker:
    """Closed → open after consecutive failures → half-open trial → closed or open again."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str = "case API",
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_after <= 0:
            raise ValueError("reset_after must be positive")
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The current state; an open circuit whose wait is over reports half-open."""
        with self._lock:
            if self._state is BreakerState.OPEN and self._wait_left() <= 0:
                return BreakerState.HALF_OPEN
            return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._failures

    def guard(self) -> _Guard:
        """An async context manager around one call: ``async with breaker.guard(): ...``.

        Entering raises `CircuitOpen` when the call is not allowed.
        """
        return _Guard(self)

    def _acquire(self) -> bool:
        """Let a call through or raise `CircuitOpen`; True when it is the half-open trial."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return False
            if self._state is BreakerState.OPEN:
                wait = self._wait_left()
                if wait > 0:
                    raise CircuitOpen(self.name, wait)
                self._state = BreakerState.HALF_OPEN
                log.info("%s: circuit half-open, letting one trial call through", self.name)
            if self._trial_in_flight:
                raise CircuitOpen(self.name, 0.0)
            self._trial_in_flight = True
            return True

    def _record_success(self) -> None:
        with self._lock:
            if self._state is not BreakerState.CLOSED:
                log.warning("%s: circuit closed, the service answers again", self.name)
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_in_flight = False

    def _record_failure(self, trial: bool) -> None:
        with self._lock:
            self._failures += 1
            if trial:
                self._trial_in_flight = False
            if self._state is BreakerState.HALF_OPEN or (
                self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold
            ):
                self._open()

    def _release(self, trial: bool) -> None:
        if trial:
            with self._lock:
                self._trial_in_flight = False

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        log.warning(
            "%s: circuit open after %d consecutive failures, failing fast for %.0f s",
            self.name,
            self._failures,
            self.reset_after,
        )

    def _wait_left(self) -> float:
        return self._opened_at + self.reset_after - self._clock()


class _Guard:
    """One guarded call; classifies how it ended (see the module docstring)."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._trial = False

    async def __aenter__(self) -> None:
        self._trial = self._breaker._acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self._breaker._record_success()
        elif isinstance(exc, CircuitOpen):
            self._breaker._release(self._trial)
        elif isinstance(exc, DossierOffContract):
            self._breaker._record_success()  # the system answered; one record is bad
        elif isinstance(exc, CaseApiUnavailable):
            self._breaker._record_failure(self._trial)
        elif isinstance(exc, CaseApiError):
            self._breaker._record_success()
        else:
            self._breaker._release(self._trial)
