"""``POST /hooks/case-events``: signed pushes from the simulator, bad signatures, repeats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from bot.caseapi.simulator import Pusher, run_simulator, sign
from bot.domain.status import Status
from bot.notify.watcher import Watcher
from bot.storage.engine import DatabaseEngine
from bot.storage.probe import row_count
from bot.storage.uow import SqlUnitOfWorkFactory
from bot.web.case_events import MAX_BODY_BYTES, SIGNATURE_HEADER, routes
from tests.notify.watch_support import (
    T0,
    FakeClock,
    add_subscriber,
    dossier,
    outbox_rows,
)
from tests.support.raw_http import post_and_wait
from tests.support.servers import serve_in_loop

SECRET = "shared-secret-for-tests"


class _NoCaseApi:
    """The webhook path never asks the case API anything."""

    async def get_dossier(self, code: str) -> object:
        raise AssertionError("unexpected case API call")

    async def verify(self, code: str, **_: object) -> bool:
        raise AssertionError("unexpected case API call")

    async def changes(self, cursor: str | None = None, limit: int = 500) -> object:
        raise AssertionError("unexpected case API call")


@pytest.fixture
async def hook(engine: DatabaseEngine) -> AsyncIterator[tuple[str, SqlUnitOfWorkFactory]]:
    """The URL of a loopback web server serving the case-events route, and its UoW factory."""
    factory = SqlUnitOfWorkFactory(engine, FakeClock(T0 + timedelta(minutes=1)))
    watcher = Watcher(factory, _NoCaseApi(), factory.clock)  # type: ignore[arg-type]
    async with serve_in_loop(Starlette(routes=routes(watcher, SECRET))) as server:
        yield f"{server.url}/hooks/case-events", factory


def body_of(*events: tuple[str, Status]) -> bytes:
    items = [
        {
            "id": event_id,
            "dossier": json.loads(dossier(status, status_changed_at=T0).model_dump_json()),
        }
        for event_id, status in events
    ]
    return json.dumps({"events": items}).encode()


async def test_a_pushed_change_from_the_simulator_queues_the_pickup_notice(
    hook: tuple[str, SqlUnitOfWorkFactory], engine: DatabaseEngine
) -> None:
    url, factory = hook
    pusher = Pusher(url, SECRET, linger=0.0)
    async with run_simulator(seed=7, dossiers=1500, now=T0, pusher=pusher) as sim:
        code = sim.state.codes_in([Status.PROCESSING])[0]
        owner = await add_subscriber(factory, code)
        sim.state.move(code, Status.READY, T0)
        async with asyncio.timeout(10):
            while pusher.delivered < 1:  # noqa: ASYNC110 - the pusher only offers a counter
                await asyncio.sleep(0.02)
    [ready] = await outbox_rows(engine, kind="ready")
    assert ready["user_id"] == owner
    assert ready["dossier_code"] == code
    assert ready["params"]["place"]
    assert pusher.failures == 0
    assert await row_count(engine, "processed_case_events") == 1


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "sha256=deadbeef", sign("another-secret", b"{}")],
)
async def test_a_bad_or_missing_signature_is_refused_and_nothing_stored(
    hook: tuple[str, SqlUnitOfWorkFactory], engine: DatabaseEngine, signature: str | None
) -> None:
    url, factory = hook
    await add_subscriber(factory, dossier().code)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, content=body_of(("e-1", Status.READY)), headers=headers)
    assert answer.status_code == 401
    assert await outbox_rows(engine) == []
    assert await row_count(engine, "dossier_snapshots") == 0
    assert await row_count(engine, "processed_case_events") == 0


async def test_a_repeated_event_id_is_acknowledged_and_ignored(
    hook: tuple[str, SqlUnitOfWorkFactory], engine: DatabaseEngine
) -> None:
    url, factory = hook
    await add_subscriber(factory, dossier().code)
    body = body_of(("e-1", Status.READY))
    headers = {SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"}
    async with httpx.AsyncClient() as client:
        first = await client.post(url, content=body, headers=headers)
        queued = len(await outbox_rows(engine))
        again = await client.post(url, content=body, headers=headers)
    assert first.status_code == 200
    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert queued == 3  # the pickup notice and two reminders
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 1}
    assert len(await outbox_rows(engine)) == queued


@pytest.mark.parametrize(
    "body",
    [b'{"events": [{"id": "e-1"}]}', b'{"events": {"id": "e-1"}}', b'{"events": [', b"[]"],
)
async def test_a_signed_but_malformed_body_is_refused(
    hook: tuple[str, SqlUnitOfWorkFactory], engine: DatabaseEngine, body: bytes
) -> None:
    url, _ = hook
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            url, content=body, headers={SIGNATURE_HEADER: sign(SECRET, body)}
        )
    assert answer.status_code == 400
    assert await row_count(engine, "processed_case_events") == 0


NESTED = b"[" * 30_000 + b"]" * 30_000  # 60 KB that would overflow Python's JSON decoder


async def test_deeply_nested_json_is_refused_by_its_signature_before_parsing(
    hook: tuple[str, SqlUnitOfWorkFactory], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = hook
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(url, content=NESTED)
        signed = await client.post(
            url, content=NESTED, headers={SIGNATURE_HEADER: sign(SECRET, NESTED)}
        )
    assert unsigned.status_code == 401
    assert signed.status_code == 400
    assert not any(record.exc_info for record in caplog.records)
    assert "Traceback" not in caplog.text


async def test_a_body_above_the_limit_is_refused_413_without_reading_further(
    hook: tuple[str, SqlUnitOfWorkFactory], engine: DatabaseEngine
) -> None:
    url, _ = hook
    signed = {SIGNATURE_HEADER: sign(SECRET, b"{}")}
    declared = await post_and_wait(url, signed, declared_length=MAX_BODY_BYTES + 1)
    chunked = await post_and_wait(url, signed, chunks=(b" " * MAX_BODY_BYTES, b" "))
    assert (declared, chunked) == (413, 413)
    assert await row_count(engine, "processed_case_events") == 0
