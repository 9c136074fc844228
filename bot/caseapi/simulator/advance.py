"""Auto-advance: a background task that keeps the simulated district busy.

Every `every` seconds it moves a few open dossiers one step along the paths dossiers really
take (received → processing → ready → returned, sometimes a supplement request, a financial
obligation, an extension with apology, a withdrawal or a stop), and now and then a citizen
files a new dossier at a counter. Used by the demo so pushes and the changes feed have life.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from bot.caseapi.simulator.record import SimDossier
from bot.caseapi.simulator.state import ACTIVE, InvalidRequest, SimulatorState
from bot.caseapi.simulator.worktime import due_after
from bot.domain.status import Status
from bot.ports import Clock, SystemClock

log = logging.getLogger(__name__)

S = Status
_EXTEND = "extend"
Step = Status | str

_PATHS: dict[Status, tuple[tuple[Step, float], ...]] = {
    S.SUBMITTED: ((S.RECEIVED, 0.9), (S.NOT_ACCEPTED, 0.07), (S.WITHDRAWN, 0.03)),
    S.RECEIVED: ((S.PROCESSING, 0.9), (S.SUPPLEMENT_REQUIRED, 0.06), (S.READY, 0.04)),
    S.PROCESSING: (
        (S.READY, 0.6),
        (S.SUPPLEMENT_REQUIRED, 0.1),
        (S.PAYMENT_REQUIRED, 0.12),
        (_EXTEND, 0.1),
        (S.STOPPED, 0.02),
        (S.WITHDRAWN, 0.02),
    ),
    S.SUPPLEMENT_REQUIRED: ((S.PROCESSING, 0.85), (S.WITHDRAWN, 0.1), (S.STOPPED, 0.05)),
    S.PAYMENT_REQUIRED: ((S.PROCESSING, 0.6), (S.READY, 0.4)),
    S.READY: ((S.RETURNED, 1.0),),
}


class Advancer:
    """Moves `batch` open dossiers a step every `every` seconds; files new ones sometimes."""

    def __init__(
        self,
        state: SimulatorState,
        *,
        every: float = 5.0,
        batch: int = 3,
        arrivals: float = 0.3,
        clock: Clock | None = None,
        seed: int = 0,
    ) -> None:
        if every <= 0:
            raise ValueError("every must be positive")
        self._state = state
        self._every = every
        self._batch = batch
        self._arrivals = arrivals
        self._clock: Clock = clock or SystemClock()
        self._rng = random.Random(seed)
        self._task: asyncio.Task[None] | None = None

    def step(self) -> list[SimDossier]:
        """Advance once now; the dossiers changed or created (each at most once)."""
        rng = self._rng
        changed: list[SimDossier] = []
        touched: set[str] = set()
        if rng.random() < self._arrivals:
            arrival = self._state.create(self._clock.now())
            changed.append(arrival)
            touched.add(arrival.code)
        for _ in range(self._batch):
            statuses = [s for s in ACTIVE if self._state.count(s)]
            codes = [] if not statuses else self._state.codes_in([rng.choice(statuses)])
            codes = [code for code in codes if code not in touched]
            if not codes:
                continue
            dossier = self._state.get(rng.choice(codes))
            assert dossier is not None
            touched.add(dossier.code)
            moved = self._advance(dossier)
            if moved is not None:
                changed.append(moved)
        return changed

    def _advance(self, dossier: SimDossier) -> SimDossier | None:
        options = [
            (step, weight)
            for step, weight in _PATHS[dossier.status]
            if self._possible(dossier, step)
        ]
        if not options:
            return None
        steps, weights = zip(*options, strict=True)
        step = self._rng.choices(steps, weights)[0]
        now = self._clock.now()
        if step == _EXTEND:
            assert dossier.due_at is not None
            later = due_after(max(now, dossier.due_at), self._rng.randint(2, 10))
            try:
                return self._state.move(dossier.code, dossier.status, now, due_at=later)
            except InvalidRequest:
                return None
        assert isinstance(step, Status)
        return self._state.move(dossier.code, step, now)

    @staticmethod
    def _possible(dossier: SimDossier, step: Step) -> bool:
        if step == _EXTEND:
            return dossier.due_at is not None and dossier.original_due_at is None
        if step is S.PAYMENT_REQUIRED:
            return dossier.procedure.obligation is not None
        if step is S.READY and dossier.status is S.RECEIVED:
            return dossier.procedure.days == 0
        return True

    def start(self) -> None:
        """Run `step` every `every` seconds in a background task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="simulator-advance")

    async def stop(self) -> None:
        """Stop the background task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            changed = self.step()
            log.debug("advanced %d dossiers", len(changed))
