"""The circuit breaker on its own, with a clock the tests move by hand."""

from __future__ import annotations

import asyncio

import pytest

from bot.caseapi.breaker import BreakerState, CircuitBreaker, CircuitOpen
from bot.ports import CaseApiUnavailable, DossierNotFound, MalformedAnswer


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, reset_after=30.0, clock=clock)


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The state, read through a call so mypy does not carry narrowing across awaits."""
    return breaker.state


async def succeed(breaker: CircuitBreaker) -> None:
    async with breaker.guard():
        pass


async def fail(breaker: CircuitBreaker, error: BaseException | None = None) -> None:
    with pytest.raises(type(error) if error else CaseApiUnavailable):
        async with breaker.guard():
            raise error or CaseApiUnavailable("HTTP 503")


async def open_circuit(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.failure_threshold):
        await fail(breaker)
    assert state_of(breaker) is BreakerState.OPEN


async def test_a_new_breaker_is_closed_and_lets_calls_through(breaker: CircuitBreaker) -> None:
    await succeed(breaker)

    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0


async def test_it_opens_after_the_threshold_of_consecutive_failures(
    breaker: CircuitBreaker,
) -> None:
    await fail(breaker)
    await fail(breaker)
    assert state_of(breaker) is BreakerState.CLOSED

    await fail(breaker)

    assert state_of(breaker) is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as refused:
        await succeed(breaker)
    assert refused.value.retry_after == pytest.approx(30.0)
    assert isinstance(refused.value, CaseApiUnavailable)


async def test_a_success_resets_the_count_of_failures(breaker: CircuitBreaker) -> None:
    await fail(breaker)
    await fail(breaker)
    await succeed(breaker)
    await fail(breaker)
    await fail(breaker)

    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 2


async def test_not_found_is_an_answer_and_counts_as_success(breaker: CircuitBreaker) -> None:
    await fail(breaker)
    await fail(breaker)
    for _ in range(10):
        await fail(breaker, DossierNotFound("no such dossier"))

    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0


async def test_malformed_answers_count_as_failures(breaker: CircuitBreaker) -> None:
    for _ in range(3):
        await fail(breaker, MalformedAnswer("HTML"))

    assert state_of(breaker) is BreakerState.OPEN


async def test_unrelated_errors_and_cancellation_do_not_count(breaker: CircuitBreaker) -> None:
    await fail(breaker)
    await fail(breaker)
    await fail(breaker, ValueError("a bug of ours"))
    await fail(breaker, asyncio.CancelledError())

    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.consecutive_failures == 2


async def test_it_stays_open_until_reset_after_then_lets_one_trial_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await open_circuit(breaker)

    clock.advance(29.9)
    with pytest.raises(CircuitOpen) as refused:
        await succeed(breaker)
    assert refused.value.retry_after == pytest.approx(0.1)

    clock.advance(0.1)
    assert state_of(breaker) is BreakerState.HALF_OPEN
    await succeed(breaker)

    assert state_of(breaker) is BreakerState.CLOSED
    await succeed(breaker)


async def test_a_failed_trial_opens_it_again_for_a_full_period(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await open_circuit(breaker)
    clock.advance(30)

    await fail(breaker)

    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(29)
    with pytest.raises(CircuitOpen):
        await succeed(breaker)
    clock.advance(1)
    await succeed(breaker)
    assert state_of(breaker) is BreakerState.CLOSED


async def test_half_open_lets_exactly_one_concurrent_trial_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await open_circuit(breaker)
    clock.advance(30)
    release = asyncio.Event()
    entered = 0

    async def slow_call() -> None:
        nonlocal entered
        async with breaker.guard():
            entered += 1
            await release.wait()

    trial = asyncio.create_task(slow_call())
    await asyncio.sleep(0)
    others = [asyncio.create_task(slow_call()) for _ in range(5)]
    results = await asyncio.gather(*others, return_exceptions=True)

    assert entered == 1
    assert all(isinstance(result, CircuitOpen) for result in results)
    release.set()
    await trial
    assert state_of(breaker) is BreakerState.CLOSED


async def test_a_cancelled_trial_frees_the_slot_for_the_next_one(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    await open_circuit(breaker)
    clock.advance(30)

    async def hanging_call() -> None:
        async with breaker.guard():
            await asyncio.Event().wait()

    trial = asyncio.create_task(hanging_call())
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):
        await succeed(breaker)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial

    assert state_of(breaker) is BreakerState.HALF_OPEN
    await succeed(breaker)
    assert state_of(breaker) is BreakerState.CLOSED


def test_it_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError, match="reset_after"):
        CircuitBreaker(reset_after=0)
