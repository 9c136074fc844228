"""Running motcua's coroutines: on uvloop where it is installed, asyncio's own loop otherwise,
with the garbage collector tuned for a long-running server.

uvloop's event loop (the one uvicorn picks when it can) spends less CPU per socket event and
per callback than asyncio's; on the lookup path that is several percent of the whole cost.

Python's default collector thresholds (700 allocations) suit scripts: under a burst of
Telegram updates each one allocates thousands of short-lived objects, and the collector
then ran about 30 times a second, often walking the whole heap (5 % of the bot's CPU, more
in stalls). `tune_gc` moves what start-up loaded (modules, catalogs, tables) out of the
collector's sight and collects less often; cycles are still collected.
"""

from __future__ import annotations

import asyncio
import gc
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


# Young-generation threshold: about one burst of updates' worth of allocations.
GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc() -> None:
    """Freeze what exists now (start-up's long-lived objects) and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """`asyncio.run(main)` on the best loop available, with `tune_gc` applied."""
    tune_gc()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
