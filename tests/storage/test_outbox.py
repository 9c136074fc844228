"""The SQL outbox: queuing with dedup keys, held and cancelled rows, claiming, settling."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bot.domain.outbox import OutboxState
from bot.notify.throttle import ChannelLimit
from bot.ports import ClaimedNotice
from bot.ports import DeliveryOutcome as Outcome
from bot.storage.engine import DatabaseEngine, write_transaction
from bot.storage.outbox import SqlOutboxRepository
from bot.storage.tables_outbox import outbox, outbox_channel_pacing
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.notify.outbox_support import (
    T0,
    enqueue,
    is_blocked,
    make_users,
    notice,
    rows,
    states,
)

FAST = {"telegram": ChannelLimit(per_second=1000, per_chat_interval=0)}
LEASE = timedelta(seconds=60)


async def claim(
    engine: DatabaseEngine,
    now: object = T0,
    *,
    limits: dict[str, ChannelLimit] | None = None,
    token: str = "w:1",
    limit: int = 100,
) -> list[ClaimedNotice]:
    async with write_transaction(engine) as conn:
        return await SqlOutboxRepository(conn).claim(
            now=now,  # type: ignore[arg-type]
            limits=limits or FAST,
            token=token,
            lease=LEASE,
            limit=limit,
        )


async def settle(engine: DatabaseEngine, outcomes: list[Outcome], now: object = T0) -> int:
    async with write_transaction(engine) as conn:
        return await SqlOutboxRepository(conn).settle(outcomes, now=now)  # type: ignore[arg-type]


async def test_enqueue_deduplicates_by_key(engine: DatabaseEngine) -> None:
    [user] = await make_users(engine, 1)
    factory = SqlUnitOfWorkFactory(engine)
    async with factory() as uow:
        assert await uow.outbox.enqueue(notice(user, 1), now=T0) is True
        assert await uow.outbox.enqueue(notice(user, 1), now=T0) is False
        assert await uow.outbox.enqueue_many([notice(user, 1), notice(user, 2)], now=T0) == 1
        await uow.commit()
    assert await enqueue(engine, [notice(user, 2), notice(user, 3)]) == 1
    assert [r["params"] for r in await rows(engine)] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert {r["state"] for r in await rows(engine)} == {"queued"}


async def test_enqueue_belongs_to_the_callers_transaction(engine: DatabaseEngine) -> None:
    [user] = await make_users(engine, 1)
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.outbox.enqueue(notice(user, 1), now=T0)
        # no commit: the cause of the notice was rolled back, so is the notice
    assert await rows(engine) == []
    assert await enqueue(engine, [notice(user, 1)]) == 1


async def test_claim_takes_due_rows_once_urgent_first(engine: DatabaseEngine) -> None:
    users = await make_users(engine, 4)
    await enqueue(
        engine,
        [
            notice(users[0], 1),
            notice(users[1], 2, not_before=T0 + timedelta(seconds=30)),  # not yet
            notice(users[2], 3, urgent=True),
            notice(users[3], 4, expires_at=T0 - timedelta(seconds=1)),  # too late
        ],
    )
    claimed = await claim(engine)
    assert [c.params["n"] for c in claimed] == [3, 1]
    assert claimed[0].channel == "telegram"
    assert claimed[0].channel_user_id == "10002"
    assert await claim(engine, token="w:2") == []  # already claimed
    counts = await states(engine)
    assert (counts["sending"], counts["queued"], counts["expired"]) == (2, 1, 1)

    later = await claim(engine, T0 + timedelta(seconds=30), token="w:3")
    assert [c.params["n"] for c in later] == [2]


async def test_a_claim_whose_lease_passed_is_taken_back(engine: DatabaseEngine) -> None:
    [user] = await make_users(engine, 1)
    await enqueue(engine, [notice(user, 1)])
    [first] = await claim(engine, token="dead-worker:1")

    assert await claim(engine, T0 + LEASE, token="w:2") == []  # lease still running
    [again] = await claim(engine, T0 + LEASE + timedelta(seconds=1), token="w:2")
    assert again.id == first.id

    # the dead worker's late result is ignored; the live one's counts
    assert await settle(engine, [Outcome(first, "sent")]) == 0
    assert await settle(engine, [Outcome(again, "sent")]) == 1
    [row] = await rows(engine)
    assert row["state"] == "sent"
    assert row["claim_token"] is None
    assert row["sent_at"] == T0


async def test_one_row_per_user_per_claim_and_per_chat_spacing(engine: DatabaseEngine) -> None:
    users = await make_users(engine, 2)
    await enqueue(engine, [notice(users[0], n) for n in (1, 2, 3)] + [notice(users[1], 4)])
    exact = ChannelLimit(per_second=10, per_chat_interval=1.0, safety=0, chat_safety=0)
    limits = {"telegram": exact}

    first = await claim(engine, limits=limits)
    assert [c.params["n"] for c in first] == [1, 4]
    assert first[1].slot - first[0].slot == timedelta(seconds=0.1)  # the channel's interval

    # the first user's next message waits a second after the slot of the first
    assert await claim(engine, T0 + timedelta(seconds=0.5), limits=limits, token="b") == []
    [second] = await claim(engine, T0 + timedelta(seconds=1), limits=limits, token="c")
    assert second.params["n"] == 2
    assert second.slot == T0 + timedelta(seconds=1)


async def test_slots_never_exceed_the_channel_rate(engine: DatabaseEngine) -> None:
    users = await make_users(engine, 50)
    await enqueue(engine, [notice(u, i) for i, u in enumerate(users)])
    exact = ChannelLimit(per_second=10, per_chat_interval=1.0, safety=0, chat_safety=0)
    limits = {"telegram": exact}

    batches = [await claim(engine, limits=limits, token=f"w:{i}") for i in range(3)]
    # one second ahead at 10/s: 11 slots (now, +0.1 … +1.0), then nothing until time passes
    assert [len(b) for b in batches] == [11, 0, 0]
    later = await claim(engine, T0 + timedelta(seconds=1), limits=limits, token="w:9")
    slots = [c.slot for c in batches[0] + later]
    assert all(b - a == timedelta(seconds=0.1) for a, b in itertools.pairwise(slots))


async def test_flood_control_pauses_the_channel_for_every_claim(engine: DatabaseEngine) -> None:
    [user] = await make_users(engine, 1)
    await enqueue(engine, [notice(user, 1)])
    async with write_transaction(engine) as conn:
        await SqlOutboxRepository(conn).pause_channel("telegram", T0 + timedelta(seconds=5))
    assert await claim(engine) == []
    [claimed] = await claim(engine, T0 + timedelta(seconds=4.5))
    assert claimed.slot == T0 + timedelta(seconds=5)


async def test_rows_of_other_channels_and_blocked_users_are_not_sent(
    engine: DatabaseEngine,
) -> None:
    [zalo_user] = await make_users(engine, 1, channel="zalo")
    [blocked_user, ok_user] = await make_users(engine, 2, first_id=500)
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.users.set_blocked(blocked_user, True)
        await uow.commit()
    await enqueue(engine, [notice(zalo_user, 1), notice(blocked_user, 2), notice(ok_user, 3)])
    claimed = await claim(engine)
    assert [c.params["n"] for c in claimed] == [3]
    by_n = {r["params"]["n"]: r for r in await rows(engine)}
    assert by_n[1]["state"] == "queued"
    assert by_n[2]["state"] == "dead"
    assert by_n[2]["last_error"] == "user blocked the bot"


async def test_settle_records_each_outcome(engine: DatabaseEngine) -> None:
    users = await make_users(engine, 5)
    await enqueue(engine, [notice(u, i) for i, u in enumerate(users)])
    a, b, c, d, e = await claim(engine)
    later = T0 + timedelta(seconds=30)
    await settle(
        engine,
        [
            Outcome(a, "sent"),
            Outcome(b, "retrying", next_attempt_at=later, error="ChannelTemporaryError"),
            Outcome(c, "queued", next_attempt_at=later, error="retry after 30 s"),
            Outcome(d, "dead", error="user blocked the bot", block_user=True),
            Outcome(e, "held", error="chat window closed"),
        ],
    )
    found = {r["id"]: r for r in await rows(engine)}
    assert [found[x.id]["state"] for x in (a, b, c, d, e)] == [
        "sent",
        "retrying",
        "queued",
        "dead",
        "held",
    ]
    assert [found[x.id]["attempts"] for x in (a, b, c, d, e)] == [0, 1, 0, 1, 0]
    assert found[b.id]["next_attempt_at"] == later
    assert await is_blocked(engine, d.user_id)
    assert not await is_blocked(engine, a.user_id)
    # retrying and re-queued rows come back when their time has come
    assert await claim(engine, later - timedelta(seconds=1), token="x") == []
    assert {n.id for n in await claim(engine, later, token="y")} == {b.id, c.id}


async def test_release_held_and_cancel(engine: DatabaseEngine) -> None:
    users = await make_users(engine, 2)
    code = "000.00.15.H12-250314-0001"
    await enqueue(
        engine,
        [
            notice(users[0], 1),
            notice(users[1], 2, kind="reminder"),
            notice(users[1], 3, kind="reminder", dossier_code="OTHER"),
        ],
    )
    [held] = await claim(engine, limit=1)
    await settle(engine, [Outcome(held, "held", error="chat window closed")])
    factory = SqlUnitOfWorkFactory(engine)
    async with factory() as uow:
        assert await uow.outbox.cancel([code], ["reminder"], now=T0) == 1
        assert await uow.outbox.release_held(users[1], now=T0) == 0
        assert await uow.outbox.release_held(users[0], now=T0) == 1
        await uow.commit()
    by_n = {r["params"]["n"]: r["state"] for r in await rows(engine)}
    assert by_n == {1: "queued", 2: "cancelled", 3: "queued"}


async def test_counts_and_requeue_dead(engine: DatabaseEngine) -> None:
    users = await make_users(engine, 3)
    await enqueue(engine, [notice(u, i) for i, u in enumerate(users)])
    a, b, _c = await claim(engine)
    await settle(engine, [Outcome(a, "sent"), Outcome(b, "dead", error="gave up")])
    counts = await states(engine)
    assert (counts["sent"], counts["dead"], counts["sending"], counts["queued"]) == (1, 1, 1, 0)
    async with write_transaction(engine) as conn:
        assert await SqlOutboxRepository(conn).requeue_dead(now=T0) == 1
    [row] = [r for r in await rows(engine) if r["id"] == b.id]
    assert (row["state"], row["attempts"], row["last_error"]) == ("queued", 0, None)


async def test_deleting_a_user_deletes_their_notices(engine: DatabaseEngine) -> None:
    [user] = await make_users(engine, 1)
    await enqueue(engine, [notice(user, 1)])
    await claim(engine)
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.users.erase(user)
        await uow.commit()
    assert await rows(engine) == []


async def test_concurrent_claims_never_share_a_row(engine: DatabaseEngine) -> None:
    users = await make_users(engine, 120)
    await enqueue(engine, [notice(u, i) for i, u in enumerate(users)])
    batches = await asyncio.gather(*(claim(engine, token=f"w:{i}", limit=7) for i in range(24)))
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == 120
    async with engine.connect() as conn:
        pacing = (await conn.execute(select(outbox_channel_pacing))).all()
    assert len(pacing) == 1


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_sqlite_claims_hold_the_write_lock(engine: DatabaseEngine, database_url: str) -> None:
    """The claim runs under BEGIN IMMEDIATE: no other writer can start until it ends."""
    [user] = await make_users(engine, 1)
    await enqueue(engine, [notice(user, 1)])
    path = make_url(database_url).database
    assert path is not None
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        async with write_transaction(engine) as conn:
            # the BEGIN IMMEDIATE runs with the claim's first statement (a read), so the lock
            # is held from then until the commit (test_engine shows it covers that read)
            await SqlOutboxRepository(conn).claim(now=T0, limits=FAST, token="w", lease=LEASE)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            assert mode == "wal"
        other.execute("BEGIN IMMEDIATE")  # free again after commit
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_the_database_takes_every_outbox_state_and_no_other(engine: DatabaseEngine) -> None:
    """The migrated CHECK constraint knows each `OutboxState` (the table's is built from the
    enum; a state added to the enum needs a migration too)."""
    [user] = await make_users(engine, 1)
    await enqueue(engine, [notice(user, 1)])
    for state in OutboxState:
        async with engine.begin() as conn:
            await conn.execute(update(outbox).values(state=state.value))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(update(outbox).values(state="lost"))
