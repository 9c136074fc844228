"""The dispatcher against the fake Telegram Bot API (and, for our own seam, a recording sender):
every channel answer ends as it should, quiet hours, several dispatchers on one database.

On the in-memory twin of the storage; two dispatchers with their own connection pools, as two
processes, share SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.notify.dispatcher import Backoff, Dispatcher
from bot.notify.throttle import ChannelLimit
from bot.push import ChannelWindowClosed
from bot.storage.engine import create_engine
from bot.storage.memory import MemoryOutboxRepository, MemoryUnitOfWorkFactory
from tests.notify.outbox_support import (
    KIND,
    RENDERERS,
    T0,
    FakeClock,
    RecordingSender,
    Store,
    TemplateRecordingSender,
    enqueue,
    is_blocked,
    make_users,
    notice,
    queue_of,
    rows,
    states,
    telegram_sender,
)
from tests.support.fake_telegram import FakeTelegram

FAST = {"telegram": ChannelLimit(per_second=1000, per_chat_interval=0)}
QUIET = (time(21, 0), time(7, 0))
CHAT = 10_000  # the Telegram id of the first user make_users creates


@pytest.fixture
def store() -> MemoryUnitOfWorkFactory:
    """The in-memory twin of the storage: these tests are about the dispatcher, not SQL (the
    outbox's SQL is checked by tests/storage/test_outbox.py and the conformance suite)."""
    return MemoryUnitOfWorkFactory()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram().serve() as server:
        yield server


def dispatcher(engine: Store, sender: Any, clock: FakeClock, **options: Any) -> Dispatcher:
    options.setdefault("limits", FAST)
    options.setdefault("renderers", RENDERERS)
    return Dispatcher(queue_of(engine), {"telegram": sender}, clock, **options)


async def test_delivers_in_the_users_language_of_the_moment(
    store: MemoryUnitOfWorkFactory, fake: FakeTelegram
) -> None:
    users = await make_users(store, 2)
    await enqueue(store, [notice(users[0], 1), notice(users[1], 2)])
    async with store() as uow:  # switched after the notice was queued
        await uow.users.set_language(users[1], "en")
        await uow.commit()
    async with telegram_sender(fake) as channel:
        assert await dispatcher(store, channel, FakeClock()).run_once() == 2
    assert fake.texts(CHAT) == ["Thông báo số 1"]
    assert fake.texts(CHAT + 1) == ["Notice 2"]
    assert (await states(store))["sent"] == 2


async def test_quiet_hours_hold_pushes_then_urgent_ones_go_first(
    store: MemoryUnitOfWorkFactory,
) -> None:
    users = await make_users(store, 3)
    evening = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)  # 22:30 in Hà Nội
    await enqueue(
        store,
        [notice(users[0], 1), notice(users[1], 2, urgent=True), notice(users[2], 3)],
        now=evening,
    )
    clock = FakeClock(evening)
    sender = RecordingSender()
    quiet = dispatcher(store, sender, clock, quiet_hours=QUIET)

    assert await quiet.run_once() == 0
    clock.current = datetime(2025, 3, 14, 23, 59, tzinfo=UTC)  # 06:59
    assert await quiet.run_once() == 0
    assert sender.sent == []

    clock.current = datetime(2025, 3, 15, 0, 0, tzinfo=UTC)  # 07:00: the window ends
    assert await quiet.run_once() == 3
    assert [text for _, text in sender.sent] == [
        "Thông báo số 2",
        "Thông báo số 1",
        "Thông báo số 3",
    ]


async def test_flood_control_waits_exactly_retry_after(
    store: MemoryUnitOfWorkFactory, fake: FakeTelegram
) -> None:
    [user] = await make_users(store, 1)
    await enqueue(store, [notice(user, 1)])
    fake.fail("sendMessage", 429, retry_after=3)
    clock = FakeClock()
    async with telegram_sender(fake) as channel:
        run = dispatcher(store, channel, clock)
        assert await run.run_once() == 1
        [row] = await rows(store)
        assert (row["state"], row["attempts"]) == ("queued", 0)
        assert row["next_attempt_at"] == T0 + timedelta(seconds=3)
        assert row["last_error"] == "retry after 3 s"

        clock.advance(seconds=2.9)
        assert await run.run_once() == 0
        clock.advance(seconds=0.1)
        assert await run.run_once() == 1
    assert fake.texts(CHAT) == ["Thông báo số 1"]
    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 200]


async def test_flood_control_pauses_the_channel_for_another_dispatcher(
    store: MemoryUnitOfWorkFactory,
) -> None:
    users = await make_users(store, 2)
    await enqueue(store, [notice(users[0], 1)])
    clock = FakeClock()
    limited = RecordingSender(errors=[_retry_after(5)])
    await dispatcher(store, limited, clock).run_once()

    await enqueue(store, [notice(users[1], 2)])
    other = RecordingSender()
    assert await dispatcher(store, other, clock).run_once() == 0
    clock.advance(seconds=5)
    assert await dispatcher(store, other, clock).run_once() == 2
    assert sorted(text for _, text in other.sent) == ["Thông báo số 1", "Thông báo số 2"]


def _retry_after(seconds: float) -> Exception:
    from bot.push import ChannelRetryAfter

    return ChannelRetryAfter(seconds)


async def test_server_errors_are_retried_with_backoff_then_dead(
    store: MemoryUnitOfWorkFactory, fake: FakeTelegram
) -> None:
    users = await make_users(store, 2)
    await enqueue(store, [notice(users[0], 1), notice(users[1], 2)])
    fake.fail("sendMessage", 500, chat_id=CHAT, times=1)
    fake.fail("sendMessage", 502, chat_id=CHAT + 1, times=10)
    clock = FakeClock()
    retry = Backoff(max_attempts=3, base=10, cap=60)
    async with telegram_sender(fake) as channel:
        run = dispatcher(store, channel, clock, retry=retry)
        await run.run_once()
        first = {r["user_id"]: r for r in await rows(store)}
        for row in first.values():
            assert (row["state"], row["attempts"]) == ("retrying", 1)
            assert T0 + timedelta(seconds=5) <= row["next_attempt_at"] <= T0 + timedelta(seconds=10)
        assert first[users[0]]["last_error"] == "ChannelTemporaryError"

        clock.advance(seconds=10)
        await run.run_once()
        clock.advance(seconds=20)  # after the second failure: 10..20 s
        await run.run_once()
        clock.advance(seconds=40)
        await run.run_once()

    assert fake.texts(CHAT) == ["Thông báo số 1"]
    assert fake.texts(CHAT + 1) == []
    final = {r["user_id"]: r for r in await rows(store)}
    assert final[users[0]]["state"] == "sent"
    assert (final[users[1]]["state"], final[users[1]]["attempts"]) == ("dead", 3)
    assert final[users[1]]["last_error"] == "gave up after 3 attempts: ChannelTemporaryError"
    assert len([c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == CHAT + 1]) == 3


class SlowTelegram(FakeTelegram):
    """The fake Bot API, taking `delay` seconds to answer sendMessage for chats in `slow`."""

    def __init__(self) -> None:
        super().__init__()
        self.slow: set[int] = set()
        self.delay = 1.0

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        if int(params["chat_id"]) in self.slow:
            self.slow.discard(int(params["chat_id"]))
            await asyncio.sleep(self.delay)
        return await super()._m_sendMessage(params)


async def test_a_send_that_times_out_is_retried(store: MemoryUnitOfWorkFactory) -> None:
    [user] = await make_users(store, 1)
    await enqueue(store, [notice(user, 1)])
    slow = SlowTelegram()
    slow.slow.add(CHAT)
    clock = FakeClock()
    async with slow.serve(), telegram_sender(slow) as channel:
        run = dispatcher(store, channel, clock, send_timeout=0.2, retry=Backoff(base=1))
        await run.run_once()
        [row] = await rows(store)
        assert (row["state"], row["attempts"], row["last_error"]) == ("retrying", 1, "timeout")
        clock.advance(seconds=1)
        await run.run_once()
        await asyncio.sleep(slow.delay)  # the abandoned first request completes meanwhile
    [row] = await rows(store)
    assert row["state"] == "sent"
    assert "Thông báo số 1" in slow.texts(CHAT)


async def test_a_user_who_blocked_the_bot_gets_nothing_more(
    store: MemoryUnitOfWorkFactory, fake: FakeTelegram
) -> None:
    [user] = await make_users(store, 1)
    await enqueue(store, [notice(user, 1)])
    fake.fail("sendMessage", 403)
    async with telegram_sender(fake) as channel:
        run = dispatcher(store, channel, FakeClock())
        await run.run_once()
        assert await is_blocked(store, user)
        await enqueue(store, [notice(user, 2)])
        await run.run_once()
    assert [r["state"] for r in await rows(store)] == ["dead", "dead"]
    assert [r["last_error"] for r in await rows(store)] == ["user blocked the bot"] * 2
    assert len(fake.calls_of("sendMessage")) == 1
    assert fake.texts(CHAT) == []


async def test_a_refused_message_and_an_unknown_kind_are_dead(
    store: MemoryUnitOfWorkFactory, fake: FakeTelegram
) -> None:
    users = await make_users(store, 2)
    await enqueue(store, [notice(users[0], 1), notice(users[1], 2, kind="no.such.kind")])
    fake.fail("sendMessage", 400, description="Bad Request: can't parse entities")
    async with telegram_sender(fake) as channel:
        await dispatcher(store, channel, FakeClock()).run_once()
    found = {r["user_id"]: r for r in await rows(store)}
    assert found[users[0]]["state"] == "dead"
    assert found[users[0]]["last_error"] == "refused by the channel (ChannelPermanentError)"
    assert found[users[1]]["state"] == "dead"
    assert found[users[1]]["last_error"] == "unknown notice kind no.such.kind"
    assert not await is_blocked(store, users[0])


async def test_a_closed_chat_window_holds_until_the_user_writes(
    store: MemoryUnitOfWorkFactory,
) -> None:
    [user] = await make_users(store, 1, channel="zalo")
    await enqueue(store, [notice(user, 1)])
    sender = RecordingSender(errors=[ChannelWindowClosed()])
    run = Dispatcher(
        queue_of(store),
        {"zalo": sender},
        FakeClock(),
        renderers=RENDERERS,
        limits={"zalo": FAST["telegram"]},
    )
    await run.run_once()
    [row] = await rows(store)
    assert row["state"] == "held"
    assert await run.run_once() == 0

    async with store() as uow:  # the user writes again
        assert await uow.outbox.release_held(user, now=T0) == 1
        await uow.commit()
    await run.run_once()
    assert sender.sent == [("10000", "Thông báo số 1")]


async def test_a_closed_chat_window_falls_back_to_a_template(
    store: MemoryUnitOfWorkFactory,
) -> None:
    users = await make_users(store, 2, channel="zalo")
    await enqueue(store, [notice(users[0], 1), notice(users[1], 2, kind="other.kind")])
    sender = TemplateRecordingSender(
        errors=[ChannelWindowClosed(), ChannelWindowClosed()], template_kinds={KIND}
    )
    run = Dispatcher(
        queue_of(store),
        {"zalo": sender},
        FakeClock(),
        renderers=RENDERERS,
        limits={"zalo": FAST["telegram"]},
    )
    await run.run_once()
    found = {r["user_id"]: r["state"] for r in await rows(store)}
    assert found == {users[0]: "sent", users[1]: "dead"}  # other.kind has no renderer
    [(to, details)] = sender.templates
    assert (to, details.kind, dict(details.params)) == ("10000", KIND, {"n": 1})


async def test_the_background_loop_delivers_promptly_and_stops(
    store: MemoryUnitOfWorkFactory, fake: FakeTelegram
) -> None:
    [user] = await make_users(store, 1)
    async with telegram_sender(fake) as channel:
        run = Dispatcher(
            queue_of(store),
            {"telegram": channel},
            renderers=RENDERERS,
            limits=FAST,
            poll_interval=0.1,
        )
        await run.start()
        try:
            await enqueue(store, [notice(user, 1)], now=datetime.now(UTC))
            await fake.wait_for_messages(CHAT, 1, within=3)
        finally:
            await run.stop()
    await asyncio.sleep(0)
    assert (await states(store))["sent"] == 1


async def test_two_dispatchers_deliver_each_notice_once_within_the_limits(
    database_url: str, fake: FakeTelegram
) -> None:
    """Two dispatchers with their own connection pools (as two processes would have) share
    one database and the fake's flood control: no 429, no duplicate, no loss."""
    chats, per_chat = 20, 4
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        users = await make_users(engines[0], chats)
        queued = [notice(u, i * per_chat + k) for i, u in enumerate(users) for k in range(per_chat)]
        await enqueue(engines[0], queued, now=datetime.now(UTC))
        fake.rate_limit(per_second=25, per_chat_per_second=1)
        # The two dispatchers share a budget of 20/s and 1 per 1.5 s per chat: uncoordinated
        # they would send 40/s and double up on chats; the margin under the fake's limits
        # absorbs scheduling jitter on a busy CI machine (the benchmark measures the accuracy;
        # with 1.25 s it failed once in a full parallel run, most likely a 429 from a pause of
        # a quarter second between two sends to one chat).
        limits = {"telegram": ChannelLimit(per_second=20, per_chat_interval=1.5, safety=0.05)}
        async with telegram_sender(fake) as one, telegram_sender(fake) as two:
            runs = [
                Dispatcher(
                    queue_of(e),
                    {"telegram": s},
                    renderers=RENDERERS,
                    limits=limits,
                    poll_interval=0.05,
                    batch_size=10,
                )
                for e, s in zip(engines, (one, two), strict=True)
            ]
            for run in runs:
                await run.start()
            try:
                total = chats * per_chat
                await fake.wait_until(
                    lambda: sum(len(fake.texts(CHAT + i)) for i in range(chats)) >= total,
                    within=30,
                )
            finally:
                for run in runs:
                    await run.stop()
        sent = Counter(text for i in range(chats) for text in fake.texts(CHAT + i))
        assert sent == Counter(f"Thông báo số {n}" for n in range(chats * per_chat))
        assert [c.status for c in fake.calls_of("sendMessage") if c.status != 200] == []
        assert all(run.settled > 0 for run in runs)  # both took part
        assert (await states(engines[0]))["sent"] == chats * per_chat
    finally:
        for engine in engines:
            await engine.dispose()


async def test_slots_lead_a_slow_claim_by_twice_its_time(
    store: MemoryUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a slow claim the next one places its first slot further ahead, so that its slots
    are still to come when it commits; the lead stays within half the horizon."""
    users = await make_users(store, 3)
    await enqueue(store, [notice(user, n) for n, user in enumerate(users)])
    leads: list[float] = []
    claim = MemoryOutboxRepository.claim

    async def slow_claim(self: MemoryOutboxRepository, **kwargs: Any) -> Any:
        leads.append(kwargs["lead"])
        # The slow claim must stand out from the real ones (which take a few ms, or a few
        # tenths of a second on a loaded machine) and stay clear of the cap, or the lead
        # after it is capped and cannot be seen shrinking.
        await asyncio.sleep(0.5 if len(leads) == 1 else 0)
        kwargs["limit"] = 1
        return await claim(self, **kwargs)

    monkeypatch.setattr(MemoryOutboxRepository, "claim", slow_claim)
    sender = RecordingSender()
    assert await dispatcher(store, sender, FakeClock(), lead=0.1, horizon=4.0).run_once() == 3
    assert leads[0] == 0.1
    assert 1.0 <= leads[1] <= 2.0  # twice the 0.5 s claim, at most half the horizon
    assert leads[2] < leads[1]  # the slow claim is forgotten bit by bit
