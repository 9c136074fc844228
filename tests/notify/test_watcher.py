"""The watcher against the real case API simulator on loopback, on the in-memory twin of the
storage (the watcher's SQL is checked by the conformance suite, test_events.py and
test_watcher_e2e.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, timedelta

import pytest

from bot.caseapi.client import HttpCaseApi
from bot.caseapi.simulator import RunningSimulator, run_simulator
from bot.domain.status import Status
from bot.notify.watcher import Watcher
from bot.storage.memory import MemoryUnitOfWorkFactory
from tests.notify.watch_support import (
    T0,
    FakeClock,
    add_subscriber,
    outbox_rows,
    subscription_row,
)


@dataclass
class Rig:
    """A simulator, a case API client on it, and a watcher on the test database."""

    sim: RunningSimulator
    api: HttpCaseApi
    clock: FakeClock
    factory: MemoryUnitOfWorkFactory
    watcher: Watcher

    def pick(self, status: Status, index: int = 0) -> str:
        """The code of a simulated dossier currently in `status`."""
        return self.sim.state.codes_in([status])[index]

    def move(self, code: str, status: Status, **kwargs: object) -> None:
        """Change a dossier in the simulator at the rig's current time."""
        self.sim.state.move(code, status, self.clock.now(), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = FakeClock(T0)
    factory = MemoryUnitOfWorkFactory(clock=clock)
    async with (
        run_simulator(seed=7, dossiers=1500, now=T0, token="t") as sim,
        HttpCaseApi(sim.url, sim.token) as api,
    ):
        watcher = Watcher(factory, api, clock, poll_interval=1.0)
        yield Rig(sim, api, clock, factory, watcher)
        await watcher.release()


async def stored_cursor(factory: MemoryUnitOfWorkFactory) -> str | None:
    async with factory() as uow:
        return await uow.watch.cursor()


async def test_the_first_poll_starts_from_now(rig: Rig) -> None:
    report = await rig.watcher.poll_once()
    assert report.requests == 1
    assert report.dossiers == 0
    assert await stored_cursor(rig.factory) == rig.sim.state.cursor()
    assert await outbox_rows(rig.factory) == []


async def test_a_dossier_turning_ready_queues_the_pickup_notice_for_its_owner(rig: Rig) -> None:
    await rig.watcher.poll_once()
    code = rig.pick(Status.PROCESSING)
    other = rig.pick(Status.PROCESSING, 1)
    owner = await add_subscriber(rig.factory, code)
    rig.clock.advance(timedelta(minutes=5))
    rig.move(code, Status.READY)
    rig.move(other, Status.READY)  # nobody follows it: only a snapshot

    report = await rig.watcher.poll_once()

    assert report.dossiers == 2
    assert report.requests == 1  # the page was not full: the feed is drained
    [ready] = await outbox_rows(rig.factory, kind="ready")
    assert ready["user_id"] == owner
    assert ready["dossier_code"] == code
    assert ready["state"] == "queued"
    assert ready["params"]["place"]
    assert ready["params"]["hours"]
    reminders = await outbox_rows(rig.factory, kind="reminder")
    ready_at = rig.sim.state.get(code).status_changed_at  # type: ignore[union-attr]
    assert sorted(r["not_before"] for r in reminders) == [
        ready_at + timedelta(days=3),
        ready_at + timedelta(days=7),
    ]
    stored = rig.factory.database.tables.snapshots.values()
    assert {(s.code, s.status) for s in stored} == {(code, "ready"), (other, "ready")}

    again = await rig.watcher.poll_once()
    assert again.dossiers == 0
    assert len(await outbox_rows(rig.factory)) == 3


async def test_a_page_processed_twice_queues_nothing_twice(rig: Rig) -> None:
    await rig.watcher.poll_once()
    before = await stored_cursor(rig.factory)
    codes = [rig.pick(Status.PROCESSING, i) for i in range(5)]
    for i, code in enumerate(codes):
        await add_subscriber(rig.factory, code, channel_user_id=str(2000 + i))
        rig.move(code, Status.SUPPLEMENT_REQUIRED)
    await rig.watcher.poll_once()
    first = await outbox_rows(rig.factory)
    assert len(first) == 5
    assert all(row["urgent"] for row in first)

    # As if the process had died after the page's work but before the cursor moved.
    async with rig.factory() as uow:
        assert await uow.watch.advance_cursor(await uow.watch.cursor(), before, now=T0)  # type: ignore[arg-type]
        await uow.commit()
    replay = await rig.watcher.poll_once()
    assert replay.dossiers == 5
    assert replay.queued == 0
    assert len(await outbox_rows(rig.factory)) == 5


async def test_returned_ends_the_subscription_cancels_reminders_and_invites_to_the_survey(
    rig: Rig,
) -> None:
    await rig.watcher.poll_once()
    code = rig.pick(Status.PROCESSING)
    owner = await add_subscriber(rig.factory, code)
    rig.move(code, Status.READY)
    await rig.watcher.poll_once()
    assert {r["state"] for r in await outbox_rows(rig.factory, kind="reminder")} == {"queued"}

    rig.clock.advance(timedelta(days=1))
    rig.move(code, Status.RETURNED)
    await rig.watcher.poll_once()

    assert {r["state"] for r in await outbox_rows(rig.factory, kind="reminder")} == {"cancelled"}
    [thanks] = await outbox_rows(rig.factory, kind="returned")
    assert thanks["user_id"] == owner
    [invitation] = await outbox_rows(rig.factory, kind="survey_invitation")
    assert invitation["user_id"] == owner
    assert invitation["dedup_key"] == f"survey:{code}"
    assert invitation["not_before"] == rig.clock.now() + timedelta(seconds=1800)
    assert invitation["expires_at"] == rig.clock.now() + timedelta(days=7)
    subscription = await subscription_row(rig.factory, owner, code)
    assert subscription["active"] is False
    assert subscription["end_reason"] == "returned"


async def test_an_extension_and_a_passed_appointment_are_told_once(rig: Rig) -> None:
    await rig.watcher.poll_once()
    code = rig.pick(Status.PROCESSING)
    await add_subscriber(rig.factory, code)
    assert await rig.watcher.seed_snapshots() == 1  # learns the appointment date
    assert await rig.watcher.seed_snapshots() == 0
    due = rig.sim.state.get(code).due_at  # type: ignore[union-attr]
    assert due is not None
    new_due = due + timedelta(days=5)
    rig.move(code, Status.PROCESSING, due_at=new_due)
    await rig.watcher.poll_once()
    [extension] = await outbox_rows(rig.factory, kind="extension")
    assert extension["params"]["due_at"] == new_due.astimezone(UTC).isoformat()
    assert extension["params"]["note"]  # the agency's apology

    rig.clock.current = new_due - timedelta(hours=1)
    assert await rig.watcher.sweep_overdue() == 0
    rig.clock.current = new_due + timedelta(hours=1)
    assert await rig.watcher.sweep_overdue() == 1
    assert await rig.watcher.sweep_overdue() == 0
    rig.clock.advance(timedelta(days=2))
    assert await rig.watcher.sweep_overdue() == 0
    [overdue] = await outbox_rows(rig.factory, kind="overdue")
    assert overdue["params"]["due_at"] == new_due.astimezone(UTC).isoformat()


async def test_a_user_who_blocked_the_bot_gets_nothing_new(rig: Rig) -> None:
    await rig.watcher.poll_once()
    code = rig.pick(Status.PROCESSING)
    await add_subscriber(rig.factory, code, blocked=True)
    rig.move(code, Status.READY)
    report = await rig.watcher.poll_once()
    assert report.dossiers == 1
    assert await outbox_rows(rig.factory) == []


async def test_only_one_watcher_polls_and_another_takes_over_when_it_stops(rig: Rig) -> None:
    second = Watcher(rig.factory, rig.api, rig.clock, poll_interval=1.0)
    try:
        assert (await rig.watcher.poll_once()).leader
        assert not (await second.poll_once()).leader
        code = rig.pick(Status.PROCESSING)
        await add_subscriber(rig.factory, code)
        rig.move(code, Status.READY)
        await rig.watcher.release()  # gives leadership up
        taken = await second.poll_once()
        assert taken.leader
        assert taken.dossiers == 1
        assert len(await outbox_rows(rig.factory, kind="ready")) == 1
    finally:
        await second.release()


async def test_an_unavailable_case_api_loses_nothing(rig: Rig) -> None:
    await rig.watcher.poll_once()
    cursor = await stored_cursor(rig.factory)
    code = rig.pick(Status.PROCESSING)
    await add_subscriber(rig.factory, code)
    rig.move(code, Status.READY)
    async with HttpCaseApi("http://127.0.0.1:9", "t", connect_timeout=0.2) as down:
        broken = Watcher(rig.factory, down, rig.clock, leader_lock=_AlwaysLeader())
        report = await broken.poll_once()
    assert report.error is not None
    assert await stored_cursor(rig.factory) == cursor
    assert (await rig.watcher.poll_once()).queued == 3  # pickup notice and two reminders


class _AlwaysLeader:
    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


async def test_stopping_notices_cancels_what_is_queued_for_later(rig: Rig) -> None:
    await rig.watcher.poll_once()
    first, second = rig.pick(Status.PROCESSING), rig.pick(Status.PROCESSING, 1)
    owner = await add_subscriber(rig.factory, first)
    async with rig.factory() as uow:
        await uow.subscriptions.subscribe(owner, second, now=rig.clock.now())
        await uow.commit()
    other = await add_subscriber(rig.factory, first, channel_user_id="9999")
    rig.move(first, Status.READY)
    rig.move(second, Status.READY)
    await rig.watcher.poll_once()

    async with rig.factory() as uow:  # "stop notices" for the first dossier
        await uow.subscriptions.unsubscribe(owner, first)
        assert await uow.outbox.cancel_for_user(owner, dossier_code=first, now=T0) == 3
        await uow.commit()
    mine = await outbox_rows(rig.factory, user_id=owner)
    assert {(r["dossier_code"], r["state"]) for r in mine} == {
        (first, "cancelled"),
        (second, "queued"),
    }
    assert {r["state"] for r in await outbox_rows(rig.factory, user_id=other)} == {"queued"}

    async with rig.factory() as uow:  # "stop all notices"
        await uow.subscriptions.unsubscribe_all(owner)
        queued = [
            r for r in await outbox_rows(rig.factory, user_id=owner) if r["state"] == "queued"
        ]
        assert await uow.outbox.cancel_for_user(owner, now=T0) == len(queued) > 0
        await uow.commit()
    assert {r["state"] for r in await outbox_rows(rig.factory, user_id=owner)} == {"cancelled"}
