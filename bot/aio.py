"""Running motcua's coroutines: on uvloop where it is installed, asyncio's own loop otherwise.

uvloop's event loop (the one uvicorn picks when it can) spends less CPU per socket event and
per callback than asyncio's; on the lookup path that is several percent of the whole cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor if uvloop is importable, else None (asyncio's default)."""
    try:
        import uvloop
    except ImportError:  # Windows, or a trimmed install
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """`asyncio.run(main)` on the best loop available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
