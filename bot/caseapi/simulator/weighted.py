"""Fast weighted choices for the generator (one uniform draw, one bisection)."""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed weighted distribution over `items`."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        if not items:
            raise ValueError("no items to choose from")
        self._items = tuple(item for item, _ in items)
        self._cum = tuple(accumulate(float(weight) for _, weight in items))
        self._total = self._cum[-1]

    def pick(self, rnd: Callable[[], float]) -> T:
        """One item, drawn with `rnd` (a uniform [0, 1) generator such as Random.random)."""
        return self._items[bisect(self._cum, rnd() * self._total)]


def between(rnd: Callable[[], float], low: int, high: int) -> int:
    """A uniform integer in [low, high) (low when the range is empty)."""
    return low + int(rnd() * (high - low)) if high > low else low


def pick(rnd: Callable[[], float], items: Sequence[T]) -> T:
    """A uniformly chosen item of `items`."""
    return items[int(rnd() * len(items))]
