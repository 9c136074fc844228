"""Lookups counted for the officials' usage page: tallied in memory, written in batches.

Counting each lookup in the database would add a statement to every lookup's transaction, the
busiest path of the service. Instead each process keeps a tally per local day and agency and
writes it every few seconds in one transaction (`LookupTally.flush`), and once more when it
stops. A hard kill loses the tally since the last flush: a few seconds of statistics, never a
citizen's message, survey answer or notice. A flush that fails keeps its counts for the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable

from bot.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: How often a running process writes its tally (seconds).
FLUSH_EVERY_SECONDS = 5.0


class LookupTally:
    """Lookups per (local day YYYYMMDD, agency code), not yet written to the database."""

    def __init__(self) -> None:
        self._pending: Counter[tuple[int, str]] = Counter()

    def count(self, agency_codes: Iterable[str], *, day: int) -> None:
        """Count one lookup per code in `agency_codes` on local day `day` (no I/O)."""
        for code in agency_codes:
            self._pending[(day, code)] += 1

    @property
    def pending(self) -> int:
        """How many lookups are counted but not yet written."""
        return sum(self._pending.values())

    async def flush(self, uow_factory: UnitOfWorkFactory) -> int:
        """Write the tally in one transaction; how many lookups it wrote. If the write fails
        the counts are kept for the next flush, and the error is raised."""
        taken, self._pending = self._pending, Counter()
        if not taken:
            return 0
        by_day: dict[int, dict[str, int]] = {}
        for (day, agency), count in taken.items():
            by_day.setdefault(day, {})[agency] = count
        try:
            async with uow_factory() as uow:
                for day, counts in sorted(by_day.items()):
                    await uow.office.add_lookups(counts, day=day)
                await uow.commit()
        except BaseException:
            self._pending.update(taken)  # counted again next time, nothing lost
            raise
        return sum(taken.values())

    async def flush_every(self, uow_factory: UnitOfWorkFactory, seconds: float) -> None:
        """Flush every `seconds` until cancelled; a failed flush is logged and retried."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.flush(uow_factory)
            except Exception:
                log.exception("could not write the lookup tally; it is kept for the next try")
