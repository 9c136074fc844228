"""End to end: a dossier turns ready in the simulator → its owner's Telegram chat (the fake
Bot API, spoken to by python-telegram-bot) receives the pickup notice within a poll interval;
and the same through a signed pushed case event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from bot.caseapi.client import HttpCaseApi
from bot.caseapi.simulator import Pusher, run_simulator
from bot.composition import watcher_schedule
from bot.domain.status import Status
from bot.notify.dispatcher import Dispatcher
from bot.notify.throttle import ChannelLimit
from bot.notify.watcher import Watcher
from bot.ports import SystemClock
from bot.storage.engine import DatabaseEngine
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.web.case_events import routes
from tests.notify.outbox_support import RENDERERS, queue_of, telegram_sender
from tests.notify.watch_support import add_subscriber
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import serve_in_loop

CHAT = 424_242
POLL_INTERVAL = 1.0
SECRET = "e2e-secret"
FAST = {"telegram": ChannelLimit(per_second=1000, per_chat_interval=0)}


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram().serve() as server:
        yield server


@pytest.fixture
async def dispatching(engine: DatabaseEngine, fake: FakeTelegram) -> AsyncIterator[Dispatcher]:
    """A running dispatcher delivering to the fake Bot API through the real Telegram channel."""
    async with telegram_sender(fake) as channel:
        dispatcher = Dispatcher(
            queue_of(engine),
            {"telegram": channel},
            SystemClock(),
            renderers=RENDERERS,
            limits=FAST,
            poll_interval=0.1,
        )
        await dispatcher.start()
        try:
            yield dispatcher
        finally:
            await dispatcher.stop()


def assert_pickup_notice(text: str, code: str) -> None:
    assert text.startswith(f"✅ Hồ sơ {code}")
    assert "đã có kết quả, mời ông/bà đến nhận" in text
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in text


async def test_polled_change_reaches_the_owners_chat_within_one_poll_interval(
    engine: DatabaseEngine, fake: FakeTelegram, dispatching: Dispatcher
) -> None:
    factory = SqlUnitOfWorkFactory(engine)
    async with (
        run_simulator(seed=7, dossiers=1500, token="t") as sim,
        HttpCaseApi(sim.url, sim.token) as api,
    ):
        watcher = Watcher(factory, api, SystemClock(), poll_interval=POLL_INTERVAL)
        await watcher.poll_once()  # the cursor: "from now"
        code = sim.state.codes_in([Status.PROCESSING])[0]
        await add_subscriber(factory, code, channel_user_id=str(CHAT))
        jobs = watcher_schedule(watcher, poll_interval=POLL_INTERVAL)
        await jobs.start()
        try:
            sim.state.move(code, Status.READY, datetime.now(UTC))
            # One poll interval, plus a little for the dispatcher and the Bot API round trip.
            [message] = await fake.wait_for_messages(CHAT, 1, within=POLL_INTERVAL + 1.5)
        finally:
            await jobs.stop()
            await watcher.release()
    assert_pickup_notice(message.text, code)
    pickup = sim.state.get(code).to_json()["pickup"]  # type: ignore[union-attr]
    assert pickup["place"] in message.text
    assert message.buttons == [[("🔄 Cập nhật", f"lk:{code}"), ("🔕 Tắt thông báo", f"us:{code}")]]


async def test_pushed_change_reaches_the_owners_chat(
    engine: DatabaseEngine, fake: FakeTelegram, dispatching: Dispatcher
) -> None:
    factory = SqlUnitOfWorkFactory(engine)
    never = HttpCaseApi("http://127.0.0.1:9", "t")  # pushes need no case API call
    watcher = Watcher(factory, never, SystemClock())
    try:
        async with serve_in_loop(Starlette(routes=routes(watcher, SECRET))) as web:
            pusher = Pusher(f"{web.url}/hooks/case-events", SECRET, linger=0.0)
            async with run_simulator(seed=7, dossiers=1500, pusher=pusher) as sim:
                code = sim.state.codes_in([Status.PROCESSING])[0]
                await add_subscriber(factory, code, channel_user_id=str(CHAT))
                sim.state.move(code, Status.READY, datetime.now(UTC))
                [message] = await fake.wait_for_messages(CHAT, 1, within=5.0)
    finally:
        await never.aclose()
    assert_pickup_notice(message.text, code)
