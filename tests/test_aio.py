"""`bot.aio.run`: the loop motcua runs on and the collector settings it runs with."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from bot import aio


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_run_returns_the_result_with_the_collector_tuned(restored_gc: None) -> None:
    async def main() -> tuple[int, int, int]:
        return gc.get_threshold()

    assert aio.run(main()) == aio.GC_THRESHOLDS
    # What existed before the loop started (modules, start-up state) is frozen.
    assert gc.get_freeze_count() > 0


async def test_async_tests_run_on_the_production_loop() -> None:
    """tests/conftest.py hands pytest-asyncio `aio.loop_factory`, so what passes here passes
    on the loop `motcua` serves with."""
    factory = aio.loop_factory()
    if factory is None:
        pytest.skip("uvloop is not installed here")
    other = factory()
    try:
        assert type(asyncio.get_running_loop()) is type(other)
    finally:
        other.close()
