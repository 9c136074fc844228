"""Signed pushes of changes to a receiver on loopback, as the bot's webhook would get them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.caseapi.simulator import SIGNATURE_HEADER, Pusher, run_simulator, sign
from bot.domain.dossier import Dossier
from bot.domain.status import Status
from tests.caseapi.conftest import NOW, TOKEN, FakeClock, wait_until
from tests.support.servers import free_port, serve_in_loop

SECRET = "shared-secret"


@dataclass
class Receiver:
    """A tiny webhook: checks the signature like the bot must, records what it accepted."""

    secret: str = SECRET
    fail_first: int = 0
    requests: int = 0
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    url: str = ""

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch]

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        self.requests += 1
        self.bodies.append(body)
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"error": "bad_signature"}, 401)
        if self.requests <= self.fail_first:
            return JSONResponse({"error": "busy"}, 503)
        self.batches.append(json.loads(body)["events"])
        return JSONResponse({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = Starlette(routes=[Route("/hooks/case-events", hook.hook, methods=["POST"])])
    async with serve_in_loop(app) as server:
        hook.url = f"{server.url}/hooks/case-events"
        yield hook


def test_the_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"events": []}'
    assert sign("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


async def test_every_change_is_pushed_signed_with_a_unique_id(receiver: Receiver) -> None:
    clock = FakeClock()
    async with run_simulator(
        seed=5,
        dossiers=1_500,
        token=TOKEN,
        now=NOW,
        clock=clock,
        push_url=receiver.url,
        push_secret=SECRET,
    ) as sim:
        ready = sim.state.codes_in([Status.READY])[:3]
        for code in ready:
            sim.state.move(code, Status.RETURNED, clock.now())
        created = sim.state.create(clock.now())
        assert sim.pusher is not None
        await wait_until(lambda: len(receiver.events) == 4)

    events = receiver.events
    assert [e["dossier"]["code"] for e in events] == [*ready, created.code]
    assert len({e["id"] for e in events}) == 4
    for event in events:
        dossier = Dossier.model_validate(event["dossier"])
        assert dossier.status in (Status.RETURNED, Status.RECEIVED)
    assert "pin" not in receiver.bodies[0].decode()


async def test_a_dossier_changed_twice_gives_two_events_with_their_states(
    receiver: Receiver,
) -> None:
    clock = FakeClock()
    async with run_simulator(
        dossiers=1_500, token=TOKEN, now=NOW, clock=clock, push_url=receiver.url, push_secret=SECRET
    ) as sim:
        code = sim.state.codes_in([Status.PROCESSING])[0]
        sim.state.move(code, Status.READY, clock.now())
        clock.advance(hours=1)
        sim.state.move(code, Status.RETURNED, clock.now())
        await wait_until(lambda: len(receiver.events) == 2)
    assert [e["dossier"]["status"] for e in receiver.events] == ["ready", "returned"]


async def test_a_failed_batch_is_retried_with_the_same_ids(receiver: Receiver) -> None:
    receiver.fail_first = 2
    clock = FakeClock()
    pusher = Pusher(receiver.url, SECRET, backoff=0.01, max_backoff=0.05)
    async with run_simulator(
        dossiers=1_500, token=TOKEN, now=NOW, clock=clock, pusher=pusher
    ) as sim:
        codes = sim.state.codes_in([Status.READY])[:2]
        for code in codes:
            sim.state.move(code, Status.RETURNED, clock.now())
        await wait_until(lambda: pusher.delivered == 2)
        assert pusher.failures == 2

    assert receiver.requests == 3
    assert receiver.bodies[0] == receiver.bodies[1] == receiver.bodies[2]  # same ids, same body
    assert [e["dossier"]["code"] for e in receiver.events] == codes


async def test_a_burst_is_sent_in_batches(receiver: Receiver) -> None:
    clock = FakeClock()
    pusher = Pusher(receiver.url, SECRET, batch_size=100)
    async with run_simulator(
        dossiers=1_500, token=TOKEN, now=NOW, clock=clock, pusher=pusher
    ) as sim:
        for _ in range(250):
            sim.state.create(clock.now())
        await wait_until(lambda: len(receiver.events) == 250)
    assert all(len(batch) <= 100 for batch in receiver.batches)
    assert len(receiver.batches) >= 3
    ids = [e["id"] for e in receiver.events]
    assert len(set(ids)) == 250


async def test_a_refused_signature_drops_the_batch_without_looping(receiver: Receiver) -> None:
    clock = FakeClock()
    pusher = Pusher(receiver.url, "not-the-secret", backoff=0.01)
    async with run_simulator(
        dossiers=1_500, token=TOKEN, now=NOW, clock=clock, pusher=pusher
    ) as sim:
        sim.state.create(clock.now())
        await wait_until(lambda: pusher.rejected == 1)
    assert receiver.events == []
    assert receiver.requests == 1


async def test_events_still_queued_are_flushed_on_shutdown(receiver: Receiver) -> None:
    clock = FakeClock()
    pusher = Pusher(receiver.url, SECRET, linger=0.5)
    async with run_simulator(
        dossiers=1_500, token=TOKEN, now=NOW, clock=clock, pusher=pusher
    ) as sim:
        sim.state.create(clock.now())
    assert len(receiver.events) == 1
    assert pusher.pending == 0


async def test_an_unreachable_receiver_is_retried_until_it_comes_back() -> None:
    clock = FakeClock()
    hook = Receiver()
    app = Starlette(routes=[Route("/hooks/case-events", hook.hook, methods=["POST"])])
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/case-events"
    pusher = Pusher(url, SECRET, backoff=0.02, max_backoff=0.05)
    async with run_simulator(
        dossiers=1_500, token=TOKEN, now=NOW, clock=clock, pusher=pusher
    ) as sim:
        sim.state.create(clock.now())
        await wait_until(lambda: pusher.failures >= 2)
        assert hook.events == []
        async with serve_in_loop(app, port=port):
            await wait_until(lambda: len(hook.events) == 1)
    assert pusher.delivered == 1
