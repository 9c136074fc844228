"""Auto-advance: open dossiers move along the portal's workflow and new ones arrive."""

from __future__ import annotations

import httpx

from bot.caseapi.simulator import Advancer, build_state, run_simulator
from bot.caseapi.simulator.state import TRANSITIONS
from bot.domain.status import Status
from tests.caseapi.conftest import NOW, TOKEN, FakeClock, wait_until


def test_each_step_follows_the_workflow_and_is_logged() -> None:
    state = build_state(seed=2, dossiers=2_000, now=NOW)
    clock = FakeClock()
    advancer = Advancer(state, batch=5, arrivals=0.5, clock=clock, seed=9)
    before = {d.code: d.status for d in state}
    moved_total = 0
    for _ in range(200):
        clock.advance(minutes=10)
        changed = advancer.step()
        moved_total += len(changed)
        for dossier in changed:
            previous = before.get(dossier.code)
            if previous is None:
                assert dossier.status is Status.RECEIVED  # a new arrival
            elif previous is dossier.status:
                assert dossier.original_due_at is not None  # an extension
            else:
                assert dossier.status in TRANSITIONS[previous]
            assert dossier.status_changed_at <= clock.now()
            before[dossier.code] = dossier.status
    assert state.sequence == moved_total
    page = state.changes_after(0, 1000)
    assert {d.code for d in page.items} <= set(before)
    # Over 200 steps the district has handed results over, and people have filed new dossiers.
    assert len(state) > 2_000
    assert sum(1 for _ in page.items) > 100


def test_a_state_without_open_dossiers_only_gets_arrivals() -> None:
    state = build_state(seed=2, dossiers=0, now=NOW)
    advancer = Advancer(state, arrivals=1.0, clock=FakeClock())
    changed = advancer.step()
    assert [d.status for d in changed] == [Status.RECEIVED]


async def test_the_background_task_feeds_the_changes_feed() -> None:
    async with (
        run_simulator(
            dossiers=1_500, token=TOKEN, now=NOW, clock=FakeClock(), advance_every=0.02
        ) as sim,
        httpx.AsyncClient(base_url=sim.url, headers=sim.headers) as client,
    ):
        cursor = (await client.get("/v1/changes")).json()["cursor"]
        await wait_until(lambda: sim.state.sequence >= 5, within=20)  # generous on a busy machine
        body = (await client.get("/v1/changes", params={"cursor": cursor})).json()
    assert body["items"]
