"""Run the simulator inside the current event loop (the demo, and other parts' tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from bot.caseapi.simulator.advance import Advancer
from bot.caseapi.simulator.app import create_app
from bot.caseapi.simulator.generator import generate
from bot.caseapi.simulator.pusher import Pusher
from bot.caseapi.simulator.state import SimulatorState
from bot.ports import Clock
from bot.web.serve import serve_in_loop


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    """A simulator being served: where, with which token, and its state to poke at."""

    url: str
    token: str
    state: SimulatorState
    pusher: Pusher | None = None
    advancer: Advancer | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header a client needs."""
        return {"Authorization": f"Bearer {self.token}"}


def build_state(
    seed: int = 1, dossiers: int = 90_000, now: datetime | None = None
) -> SimulatorState:
    """A state holding `dossiers` generated dossiers for `seed`, as of `now`."""
    return SimulatorState(generate(seed, dossiers, now), seed=seed)


@asynccontextmanager
async def run_simulator(
    *,
    seed: int = 1,
    dossiers: int = 2_000,
    token: str = "dev-token",  # noqa: S107 - the documented development default
    now: datetime | None = None,
    clock: Clock | None = None,
    latency: float = 0.0,
    push_url: str | None = None,
    push_secret: str | None = None,
    pusher: Pusher | None = None,
    advance_every: float | None = None,
    state: SimulatorState | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[RunningSimulator]:
    """Serve a simulator on `host` (a free port by default) until the block ends.

    ``async with run_simulator(seed=1, dossiers=2000, token="t") as sim:`` then talk to
    ``sim.url`` with ``sim.headers``, or move dossiers with ``sim.state.move(...)``.
    Pushes go to `push_url` signed with `push_secret` (or through a ready `pusher`);
    `advance_every` seconds starts the auto-advance. A given `state` is served as is.
    """
    if pusher is None and push_url is not None:
        if not push_secret:
            raise ValueError("push_url needs push_secret")
        pusher = Pusher(push_url, push_secret)
    if state is None:
        # In a worker thread, so a large generation does not stall tasks already running.
        state = await asyncio.to_thread(build_state, seed, dossiers, now)
    advancer = None
    if advance_every is not None:
        advancer = Advancer(state, every=advance_every, clock=clock, seed=seed)
    app = create_app(state, token, latency=latency, pusher=pusher, advancer=advancer, clock=clock)
    async with serve_in_loop(app, host, port) as server:
        yield RunningSimulator(server.url, token, state, pusher, advancer)
