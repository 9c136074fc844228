"""One bad record never stops every push (issue 12 finding 5), on SQLite and PostgreSQL.

A scripted case API on loopback serves changes pages holding a poison item; the watcher
queues the other citizens' notices, moves its cursor on, and sets the poison item aside where
`motcua quarantine` lists it, until a valid version supersedes it. The same for pushed case
events. Also: texts longer than their columns, and times stamped far in the future.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.caseapi.client import HttpCaseApi
from bot.caseapi.simulator import sign
from bot.composition import notice_renderers
from bot.domain.snapshot import Snapshot
from bot.domain.status import Status
from bot.notify import cli as outbox_cli
from bot.notify import quarantine_cli
from bot.notify.dispatcher import Dispatcher
from bot.notify.throttle import ChannelLimit
from bot.notify.watcher import Watcher
from bot.ports import SystemClock
from bot.settings import Settings
from bot.storage.delivery import OutboxDeliveryQueue
from bot.storage.engine import DatabaseEngine
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.web.case_events import SIGNATURE_HEADER, routes
from tests.notify.outbox_support import telegram_sender
from tests.notify.watch_support import T0, FakeClock, add_subscriber, dossier, outbox_rows
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import serve_in_loop

A = "000.00.15.H12-250310-0001"
B = "000.00.15.H12-250310-0002"
C = "000.00.15.H12-250310-0003"
SECRET = "quarantine-test-secret"


def item(code: str, status: Status, **changes: Any) -> dict[str, Any]:
    """A dossier in the contract's JSON shape, changed at T0 unless said otherwise."""
    body: dict[str, Any] = json.loads(dossier(status, code=code).model_dump_json())
    body.update(changes)
    return body


def poison(code: str) -> dict[str, Any]:
    """Off the contract: a negative fee."""
    return item(code, Status.PAYMENT_REQUIRED, fee={"amount": -8000, "currency": "VND"})


@dataclass
class Feed:
    """A scripted changes feed: page n is served for cursor ``c-n``."""

    pages: list[list[Any]] = field(default_factory=list)
    dossiers: dict[str, Any] = field(default_factory=dict)

    async def dossier(self, request: Request) -> JSONResponse:
        found = self.dossiers.get(request.path_params["code"])
        if found is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse(found)

    async def changes(self, request: Request) -> JSONResponse:
        cursor = request.query_params.get("cursor")
        number = 0 if cursor is None else int(cursor.removeprefix("c-"))
        if cursor is None or number >= len(self.pages):
            return JSONResponse({"items": [], "cursor": f"c-{number}"})
        return JSONResponse({"items": self.pages[number], "cursor": f"c-{number + 1}"})


@dataclass
class Rig:
    feed: Feed
    clock: FakeClock
    factory: SqlUnitOfWorkFactory
    watcher: Watcher
    settings: Settings

    async def poll(self, *items: Any) -> None:
        """Serve `items` as the next page and poll it."""
        self.feed.pages.append(list(items))
        await self.watcher.poll_once()

    async def quarantine(self, *argv: str) -> str:
        """What `motcua quarantine` prints."""
        return await run_cli(quarantine_cli, self.settings, "quarantine", *argv)


async def run_cli(module: Any, settings: Settings, *argv: str) -> str:
    parser = argparse.ArgumentParser(prog="motcua")
    module.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await module.run(args, settings) == 0
    return out.getvalue()


@pytest.fixture
async def rig(engine: DatabaseEngine, database_url: str) -> AsyncIterator[Rig]:
    feed = Feed()
    clock = FakeClock(T0 + timedelta(minutes=1))
    factory = SqlUnitOfWorkFactory(engine, clock)
    app = Starlette(
        routes=[Route("/v1/changes", feed.changes), Route("/v1/dossiers/{code}", feed.dossier)]
    )
    async with serve_in_loop(app) as server, HttpCaseApi(server.url, "t") as api:
        watcher = Watcher(factory, api, clock)
        await watcher.poll_once()  # "from now": the cursor c-0
        yield Rig(feed, clock, factory, watcher, Settings(database_url=database_url))
        await watcher.release()  # gives the leader lock (and its connection) back


async def kinds_for(engine: DatabaseEngine, user_id: int) -> list[str]:
    return [row["kind"] for row in await outbox_rows(engine, user_id=user_id)]


async def stored_cursor(rig: Rig) -> str | None:
    async with rig.factory() as uow:
        return await uow.watch.cursor()


async def snapshot(rig: Rig, code: str) -> Snapshot:
    async with rig.factory() as uow:
        return (await uow.watch.snapshots([code]))[code]


async def test_a_poison_item_is_set_aside_and_the_others_are_told(
    rig: Rig, engine: DatabaseEngine
) -> None:
    users = [
        await add_subscriber(rig.factory, code, channel_user_id=str(1000 + n))
        for n, code in enumerate((A, B, C))
    ]

    await rig.poll(item(A, Status.READY), poison(B), item(C, Status.READY))

    assert "ready" in await kinds_for(engine, users[0])
    assert "ready" in await kinds_for(engine, users[2])
    assert await kinds_for(engine, users[1]) == []
    assert await stored_cursor(rig) == "c-1"
    listed = await rig.quarantine()
    assert listed.startswith("1 item set aside\n")
    assert f"  {B}  feed  seen 1×" in listed
    assert "fee.amount: greater_than_equal" in listed
    assert "Nguyễn Văn An" not in listed  # the applicant's name only with --show
    assert "quarantined          1  (dossier changes set aside" in await run_cli(
        outbox_cli, rig.settings, "outbox"
    )

    item_id = listed.splitlines()[1].split()[0].removeprefix("#")
    shown = await rig.quarantine("--show", item_id)
    assert '"amount": -8000' in shown

    # The case system corrects the dossier: the valid version supersedes the poison one.
    rig.clock.advance(timedelta(minutes=5))
    await rig.poll(item(B, Status.PAYMENT_REQUIRED, status_changed_at=rig.clock.now().isoformat()))

    assert await kinds_for(engine, users[1]) == ["payment_required"]
    assert (await rig.quarantine()).startswith("0 items set aside")
    assert "superseded" in await rig.quarantine("--all")


async def test_the_other_citizens_pickup_notices_arrive_in_their_chats(rig: Rig) -> None:
    """End to end: the poison item sits in the middle of the page; the dispatcher delivers
    the other two owners' notices through python-telegram-bot to the fake Bot API."""
    chats = {A: 5001, B: 5002, C: 5003}
    for code, chat in chats.items():
        await add_subscriber(rig.factory, code, channel_user_id=str(chat))

    await rig.poll(item(A, Status.READY), poison(B), item(C, Status.READY))

    fast = {"telegram": ChannelLimit(per_second=1000, per_chat_interval=0)}
    async with FakeTelegram().serve() as fake, telegram_sender(fake) as channel:
        queue = OutboxDeliveryQueue(rig.factory)
        dispatcher = Dispatcher(
            queue, {"telegram": channel}, SystemClock(), renderers=notice_renderers(), limits=fast
        )
        await dispatcher.run_once()
    for code in (A, C):
        texts = fake.texts(chats[code])
        assert any(t.startswith(f"✅ Hồ sơ {code}") and "đã có kết quả" in t for t in texts)
    assert fake.texts(chats[B]) == []
    assert f"  {B}  feed" in await rig.quarantine()


async def test_the_same_poison_again_is_one_item_seen_twice(rig: Rig) -> None:
    await rig.poll(poison(B), {"code": 12}, "not an object")
    await rig.poll(poison(B))

    listed = await rig.quarantine()
    assert listed.startswith("3 items set aside\n")
    assert f"  {B}  feed  seen 2×" in listed
    assert listed.count("(no readable code)") == 2

    # An item without a code is never superseded: the operator closes it once dealt with.
    item_id = listed.splitlines()[-1 - 1].split()[0].removeprefix("#")
    assert await rig.quarantine("--dismiss", item_id) == f"item {item_id} dismissed\n"
    assert (await rig.quarantine()).startswith("2 items set aside\n")


async def test_a_valid_version_later_in_the_same_page_supersedes_the_poison(rig: Rig) -> None:
    later = (T0 + timedelta(seconds=30)).isoformat()
    await rig.poll(poison(B), item(B, Status.PAYMENT_REQUIRED, status_changed_at=later))
    assert (await rig.quarantine()).startswith("0 items set aside")

    # The other way round the poison is the latest word on the dossier: it stays.
    await rig.poll(item(C, Status.PAYMENT_REQUIRED), poison(C))
    assert f"  {C}  feed" in await rig.quarantine()


async def test_an_item_the_database_refuses_is_set_aside_and_the_page_goes_through(
    rig: Rig, engine: DatabaseEngine
) -> None:
    owner_a = await add_subscriber(rig.factory, A, channel_user_id="2001")
    owner_c = await add_subscriber(rig.factory, C, channel_user_id="2003")
    # In the contract's shape, but no database can hold the year 1 in UTC.
    unstorable = item(B, Status.READY, received_at="0001-01-01T00:00:00+07:00")

    await rig.poll(item(A, Status.READY), unstorable, item(C, Status.READY))

    assert "ready" in await kinds_for(engine, owner_a)
    assert "ready" in await kinds_for(engine, owner_c)
    assert await stored_cursor(rig) == "c-1"
    listed = await rig.quarantine()
    assert f"  {B}  feed  seen 1×" in listed
    assert "could not be stored" in listed


async def test_texts_longer_than_their_columns_are_cut_with_a_mark_on_every_database(
    rig: Rig, engine: DatabaseEngine
) -> None:
    owner = await add_subscriber(rig.factory, A)
    long = item(
        A,
        Status.READY,
        agency={"code": "H" * 80, "name": "Ủy ban nhân dân " * 30},
        procedure={"code": "1." + "9" * 80, "name": "Đăng ký " * 100, "field": "Hộ\x00 tịch " * 40},
    )

    await rig.poll(long)

    stored = await snapshot(rig, A)
    assert len(stored.agency_code) == 64 and stored.agency_code.endswith("…")
    assert len(stored.agency_name) == 255 and stored.agency_name.endswith("…")
    assert len(stored.procedure_code) == 64 and stored.procedure_code.endswith("…")
    assert len(stored.procedure_name) == 500 and stored.procedure_name.endswith("…")
    assert "\x00" not in stored.field
    assert "ready" in await kinds_for(engine, owner)
    assert (await rig.quarantine()).startswith("0 items set aside")


async def test_a_far_future_time_is_taken_as_now_and_does_not_mute_later_changes(
    rig: Rig, engine: DatabaseEngine, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await add_subscriber(rig.factory, A)
    future = item(A, Status.READY, status_changed_at="2099-01-01T00:00:00+07:00")

    await rig.poll(future)
    assert (await snapshot(rig, A)).status_changed_at == rig.clock.now()
    assert f"dossier {A} has status_changed_at more than 0:05:00 ahead" in caplog.text

    # The same item seen again later is a repeat, not a new change of status.
    rig.clock.advance(timedelta(hours=1))
    await rig.poll(future)
    assert (await kinds_for(engine, owner)).count("ready") == 1

    # The real next change goes through.
    rig.clock.advance(timedelta(hours=1))
    await rig.poll(item(A, Status.RETURNED, status_changed_at=rig.clock.now().isoformat()))
    assert "returned" in await kinds_for(engine, owner)


async def test_a_far_future_time_in_a_looked_up_dossier_is_taken_as_now(rig: Rig) -> None:
    await add_subscriber(rig.factory, A)  # followed, never seen in the feed
    rig.feed.dossiers[A] = item(A, Status.PROCESSING, status_changed_at="2099-01-01T00:00:00Z")

    assert await rig.watcher.seed_snapshots() == 1
    assert (await snapshot(rig, A)).status_changed_at == rig.clock.now()


async def test_a_followed_dossier_off_the_contract_does_not_stop_the_others_being_seeded(
    rig: Rig,
) -> None:
    # Codes are seeded in order: B, off the contract, used to end the round before C.
    for code in (A, B, C):
        await add_subscriber(rig.factory, code)
    rig.feed.dossiers[A] = item(A, Status.PROCESSING)
    rig.feed.dossiers[B] = item(B, Status.PROCESSING, fee={"amount": -5, "currency": "VND"})
    rig.feed.dossiers[C] = item(C, Status.PROCESSING)

    assert await rig.watcher.seed_snapshots() == 2
    assert (await snapshot(rig, C)).status is Status.PROCESSING


async def test_a_time_within_the_skew_is_kept(rig: Rig, engine: DatabaseEngine) -> None:
    soon = rig.clock.now() + timedelta(minutes=4)
    await rig.poll(item(A, Status.READY, status_changed_at=soon.isoformat()))
    assert (await snapshot(rig, A)).status_changed_at == soon


# --------------------------------------------------------------------------- pushed events


@pytest.fixture
async def hook(engine: DatabaseEngine, database_url: str) -> AsyncIterator[tuple[str, Rig]]:
    clock = FakeClock(T0 + timedelta(minutes=1))
    factory = SqlUnitOfWorkFactory(engine, clock)
    watcher = Watcher(factory, HttpCaseApi("http://127.0.0.1:9", "t"), clock)
    async with serve_in_loop(Starlette(routes=routes(watcher, SECRET))) as server:
        settings = Settings(database_url=database_url)
        yield f"{server.url}/hooks/case-events", Rig(Feed(), clock, factory, watcher, settings)
    await watcher.release()


async def push(url: str, *events: tuple[str, Any]) -> httpx.Response:
    body = json.dumps({"events": [{"id": i, "dossier": d} for i, d in events]}).encode()
    async with httpx.AsyncClient() as client:
        return await client.post(url, content=body, headers={SIGNATURE_HEADER: sign(SECRET, body)})


@pytest.mark.parametrize(
    "bad",
    [poison(B), item(B, Status.READY, received_at="0001-01-01T00:00:00+07:00")],
    ids=["off-contract", "unstorable"],
)
async def test_a_poison_event_is_set_aside_and_the_batch_answered_200(
    hook: tuple[str, Rig], engine: DatabaseEngine, bad: dict[str, Any]
) -> None:
    url, rig = hook
    owner_a = await add_subscriber(rig.factory, A, channel_user_id="3001")
    owner_c = await add_subscriber(rig.factory, C, channel_user_id="3003")

    answer = await push(
        url, ("e-1", item(A, Status.READY)), ("e-2", bad), ("e-3", item(C, Status.READY))
    )
    again = await push(url, ("e-2", bad))

    assert answer.status_code == 200
    assert answer.json() == {"accepted": 3, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 1}
    assert "ready" in await kinds_for(engine, owner_a)
    assert "ready" in await kinds_for(engine, owner_c)
    listed = await rig.quarantine()
    assert listed.startswith("1 item set aside\n")
    assert f"  {B}  event  seen 1×" in listed
    assert "event id: e-2" in await rig.quarantine("--show", listed.split()[4][1:])
