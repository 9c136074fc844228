"""`HttpCaseApi` against small case-API fakes speaking real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.caseapi.breaker import BreakerState, CircuitBreaker, CircuitOpen
from bot.caseapi.client import HttpCaseApi
from bot.domain.status import Status
from bot.ports import CaseApiUnavailable, DossierNotFound, DossierOffContract, MalformedAnswer
from tests.support.servers import free_port, serve_in_loop

CODE = "000.00.53.H48-220921-0099"
TOKEN = "s3cret-token"
PIN = "4711"
PHONE = "+84912345678"
APPLICANT = "Nguyễn Thị Lan"


def dossier_json(code: str = CODE, **changes: Any) -> dict[str, Any]:
    """A dossier in the contract's JSON shape."""
    body: dict[str, Any] = {
        "code": code,
        "status": "ready",
        "status_code": 9,
        "status_changed_at": "2022-09-28T09:15:00+07:00",
        "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch"},
        "agency": {"code": "000.00.53.H48", "name": "UBND phường Hải Châu I"},
        "applicant": {"name": APPLICANT},
        "received_at": "2022-09-21T08:30:00+07:00",
        "due_at": "2022-09-30T17:00:00+07:00",
        "original_due_at": "2022-09-30T17:00:00+07:00",
        "returned_at": None,
        "delivery": "counter",
        "pickup": {"place": "Quầy số 3", "hours": "7:30-17:00"},
        "fee": {"amount": 8000, "currency": "VND"},
        "note": None,
    }
    body.update(changes)
    return body


Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    raw_path: bytes
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeCaseApi:
    """A case API whose answer each test chooses; records every request it receives."""

    handler: Handler
    seen: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def endpoint(self, request: Request) -> Response:
        self.seen.append(
            Seen(
                request.method,
                request.scope["raw_path"],
                dict(request.query_params),
                dict(request.headers),
                await request.body(),
            )
        )
        return await self.handler(request)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/{path:path}", self.endpoint, methods=["GET", "POST"])],
        )


def answer(status: int, body: Any) -> Handler:
    async def handler(request: Request) -> Response:
        if isinstance(body, str):
            return PlainTextResponse(body, status_code=status, media_type="text/html")
        return JSONResponse(body, status_code=status)

    return handler


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeCaseApi, str]]:
    """A running fake answering the dossier `CODE`; tests replace `handler` as they need."""
    api = FakeCaseApi(answer(200, dossier_json()))
    async with serve_in_loop(api.app()) as server:
        try:
            yield api, server.url
        finally:
            api.release.set()  # let hanging handlers finish so the server can stop


def client(url: str, **options: Any) -> HttpCaseApi:
    options.setdefault("request_timeout", 2.0)
    options.setdefault("connect_timeout", 1.0)
    return HttpCaseApi(url, TOKEN, **options)


class CountingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, counting the requests that go through it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class DroppingServer:
    """A raw TCP server that closes the first `drop` connections without a response."""

    drop: int
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        if self.connections > self.drop:
            body = json.dumps(dossier_json()).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def dropping() -> AsyncIterator[tuple[DroppingServer, str]]:
    fake = DroppingServer(drop=1)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


# --------------------------------------------------------------------------- answers


async def test_a_dossier_is_parsed_and_the_token_is_sent(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    async with client(url) as case_api:
        dossier = await case_api.get_dossier(CODE)

    assert dossier.code == CODE
    assert dossier.status is Status.READY
    assert dossier.applicant.name == APPLICANT
    assert dossier.pickup is not None
    assert dossier.pickup.place == "Quầy số 3"
    [seen] = api.seen
    assert (seen.method, seen.raw_path) == ("GET", b"/v1/dossiers/" + CODE.encode())
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["accept"] == "application/json"


async def test_the_code_is_one_quoted_path_segment(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    api.handler = answer(404, {"error": "not_found"})

    async with client(url) as case_api:
        with pytest.raises(DossierNotFound):
            await case_api.get_dossier("../admin?x=1 #/")

    # One segment under /v1/dossiers/, whatever the transport chooses to escape in it ("=" may
    # stay literal in a path), that decodes back to exactly what was asked for.
    prefix, _, segment = api.seen[0].raw_path.partition(b"/v1/dossiers/")
    assert prefix == b""
    assert not {"/", "?", "#"} & set(segment.decode())
    assert unquote(segment.decode()) == "../admin?x=1 #/"
    assert api.seen[0].query == {}


async def test_a_base_url_with_a_path_and_trailing_slash_is_kept(
    fake: tuple[FakeCaseApi, str],
) -> None:
    api, url = fake
    async with client(url + "/case-system/") as case_api:
        with pytest.raises(MalformedAnswer):  # the fake answers the root dossier
            await case_api.get_dossier("000.00.53.H48-220921-0100")

    assert api.seen[0].raw_path == b"/case-system/v1/dossiers/000.00.53.H48-220921-0100"


async def test_not_found_is_its_own_error_and_not_a_breaker_failure(
    fake: tuple[FakeCaseApi, str],
) -> None:
    api, url = fake
    api.handler = answer(404, {"error": "not_found"})
    breaker = CircuitBreaker(failure_threshold=2)

    async with client(url, breaker=breaker) as case_api:
        for _ in range(5):
            with pytest.raises(DossierNotFound) as caught:
                await case_api.get_dossier(CODE)

    assert not isinstance(caught.value, CaseApiUnavailable)
    assert breaker.state is BreakerState.CLOSED


async def test_a_404_without_the_contract_body_is_not_a_missing_dossier(
    fake: tuple[FakeCaseApi, str],
) -> None:
    api, url = fake
    api.handler = answer(404, "<html><body>Not Found</body></html>")

    async with client(url) as case_api:
        with pytest.raises(MalformedAnswer):
            await case_api.get_dossier(CODE)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 400])
async def test_server_errors_mean_unavailable(
    fake: tuple[FakeCaseApi, str], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    api, url = fake
    api.handler = answer(status, {"error": "boom"})

    async with client(url) as case_api:
        with pytest.raises(CaseApiUnavailable) as caught:
            await case_api.get_dossier(CODE)

    assert not isinstance(caught.value, MalformedAnswer)
    assert len(api.seen) == 1  # an answer, even an error, is not retried
    [line] = [r for r in caplog.records if r.name == "bot.caseapi.client"]
    assert f"HTTP {status}" in line.getMessage()
    assert CODE in line.getMessage()


@pytest.mark.parametrize("status", [401, 403])
async def test_a_rejected_token_is_unavailable_and_logged_loudly(
    fake: tuple[FakeCaseApi, str], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    api, url = fake
    api.handler = answer(status, {"error": "unauthorized"})

    async with client(url) as case_api:
        with pytest.raises(CaseApiUnavailable):
            await case_api.get_dossier(CODE)

    [line] = [r for r in caplog.records if r.name == "bot.caseapi.client"]
    assert line.levelno == logging.ERROR
    assert "token" in line.getMessage()
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><body>Maintenance</body></html>",
        "{not json",
        "",
    ],
)
async def test_a_body_that_is_not_json_is_malformed(
    fake: tuple[FakeCaseApi, str], body: str
) -> None:
    api, url = fake
    api.handler = answer(200, body)

    async with client(url) as case_api:
        with pytest.raises(MalformedAnswer):
            await case_api.get_dossier(CODE)


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"code": CODE},
        dossier_json(status="lost"),
        dossier_json(status_code=4),
        dossier_json(status_changed_at="2022-09-28T09:15:00"),
        dossier_json(procedure=None),
    ],
)
async def test_json_of_the_wrong_shape_is_malformed_and_names_are_not_logged(
    fake: tuple[FakeCaseApi, str], body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api, url = fake
    api.handler = answer(200, body)

    async with client(url) as case_api:
        with pytest.raises(MalformedAnswer):
            await case_api.get_dossier(CODE)

    assert APPLICANT not in caplog.text
    assert len([r for r in caplog.records if r.name == "bot.caseapi.client"]) == 1


async def test_an_answer_about_another_dossier_is_refused(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    api.handler = answer(200, dossier_json(code="000.00.53.H48-220921-0100"))

    async with client(url) as case_api:
        with pytest.raises(MalformedAnswer):
            await case_api.get_dossier(CODE)


# --------------------------------------------------------------------------- verify


async def test_verify_posts_the_pin_or_the_phone(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    verdicts = iter([True, False])

    async def handler(request: Request) -> Response:
        return JSONResponse({"verified": next(verdicts)})

    api.handler = handler
    async with client(url) as case_api:
        by_pin = await case_api.verify(CODE, pin=PIN)
        by_phone = await case_api.verify(CODE, phone=PHONE)

    assert (by_pin, by_phone) == (True, False)
    assert [(s.method, s.raw_path) for s in api.seen] == [
        ("POST", f"/v1/dossiers/{CODE}/verify".encode())
    ] * 2
    assert [json.loads(s.body) for s in api.seen] == [{"pin": PIN}, {"phone": PHONE}]
    assert api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_verify_needs_exactly_one_proof(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    async with client(url) as case_api:
        with pytest.raises(ValueError, match="exactly one"):
            await case_api.verify(CODE)
        with pytest.raises(ValueError, match="exactly one"):
            await case_api.verify(CODE, pin=PIN, phone=PHONE)

    assert api.seen == []


@pytest.mark.parametrize("body", [{"verified": "yes"}, {"ok": True}, {"verified": 1}])
async def test_verify_answers_of_the_wrong_shape_are_malformed(
    fake: tuple[FakeCaseApi, str], body: Any
) -> None:
    api, url = fake
    api.handler = answer(200, body)

    async with client(url) as case_api:
        with pytest.raises(MalformedAnswer):
            await case_api.verify(CODE, pin=PIN)


async def test_verify_of_an_unknown_dossier_is_not_found(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    api.handler = answer(404, {"error": "not_found"})

    async with client(url) as case_api:
        with pytest.raises(DossierNotFound):
            await case_api.verify(CODE, phone=PHONE)


async def test_pins_and_phones_never_reach_the_logs(
    fake: tuple[FakeCaseApi, str], caplog: pytest.LogCaptureFixture
) -> None:
    api, url = fake
    api.handler = answer(503, {"error": "down"})
    caplog.set_level(logging.DEBUG)

    async with client(url) as case_api:
        with pytest.raises(CaseApiUnavailable):
            await case_api.verify(CODE, pin=PIN)
        with pytest.raises(CaseApiUnavailable):
            await case_api.verify(CODE, phone=PHONE)

    assert caplog.records
    assert PIN not in caplog.text
    assert PHONE not in caplog.text


# --------------------------------------------------------------------------- changes


async def test_changes_without_cursor_and_with_cursor(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    pages = iter(
        [
            {"items": [], "cursor": "c-41"},
            {
                "items": [dossier_json(), dossier_json(code="000.00.15.H12-230101-0001")],
                "cursor": "c-43",
            },
        ]
    )

    async def handler(request: Request) -> Response:
        return JSONResponse(next(pages))

    api.handler = handler
    async with client(url) as case_api:
        first = await case_api.changes()
        second = await case_api.changes(first.cursor, limit=1000)

    assert (list(first.items), first.cursor) == ([], "c-41")
    assert [d.code for d in second.items] == [CODE, "000.00.15.H12-230101-0001"]
    assert second.cursor == "c-43"
    assert [(s.raw_path, s.query) for s in api.seen] == [
        (b"/v1/changes", {"limit": "500"}),
        (b"/v1/changes", {"limit": "1000", "cursor": "c-41"}),
    ]


@pytest.mark.parametrize("limit", [0, -1, 1001])
async def test_changes_refuses_a_limit_outside_1_to_1000(
    fake: tuple[FakeCaseApi, str], limit: int
) -> None:
    api, url = fake
    async with client(url) as case_api:
        with pytest.raises(ValueError, match="limit"):
            await case_api.changes(limit=limit)

    assert api.seen == []


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"cursor": "c-1"},
        {"items": None, "cursor": "c-2"},
    ],
)
async def test_a_changes_page_of_the_wrong_shape_is_refused_whole(
    fake: tuple[FakeCaseApi, str], body: Any
) -> None:
    api, url = fake
    api.handler = answer(200, body)

    async with client(url) as case_api:
        with pytest.raises(MalformedAnswer):
            await case_api.changes("c-1")


async def test_an_item_off_the_contract_is_set_aside_and_the_rest_of_the_page_kept(
    fake: tuple[FakeCaseApi, str],
) -> None:
    api, url = fake
    other = "000.00.15.H12-230101-0001"
    poison = dossier_json(code=other) | {"fee": {"amount": -5, "currency": "VND"}}
    api.handler = answer(
        200, {"items": [dossier_json(), poison, {"code": CODE}, 42], "cursor": "c-2"}
    )

    async with client(url) as case_api:
        page = await case_api.changes("c-1")

    assert [d.code for d in page.items] == [CODE]
    assert page.cursor == "c-2"
    assert [(r.code, r.position) for r in page.rejected] == [(other, 1), (CODE, 1), (None, 1)]
    assert "fee.amount" in page.rejected[0].reason
    assert '"amount": -5' in page.rejected[0].raw
    assert page.rejected[2].raw == "42"


async def test_a_404_from_changes_is_not_a_missing_dossier_when_the_body_is_wrong(
    fake: tuple[FakeCaseApi, str],
) -> None:
    api, url = fake
    api.handler = answer(404, {"detail": "Not Found"})

    async with client(url) as case_api:
        with pytest.raises(MalformedAnswer):
            await case_api.changes()


# --------------------------------------------------------------------------- time and connections


async def test_a_hanging_server_costs_at_most_the_request_timeout(
    fake: tuple[FakeCaseApi, str],
) -> None:
    api, url = fake

    async def hang(request: Request) -> Response:
        await api.release.wait()
        return JSONResponse(dossier_json())

    api.handler = hang
    async with client(url, request_timeout=0.3) as case_api:
        started = time.perf_counter()
        with pytest.raises(CaseApiUnavailable) as caught:
            await case_api.get_dossier(CODE)
        elapsed = time.perf_counter() - started

    assert not isinstance(caught.value, MalformedAnswer)
    # It waited for the server (more than half the deadline: timers may fire a little early),
    # and gave up long before the server answered (never, here). No bound sits near 0.3 s.
    assert 0.15 < elapsed < 2.0
    assert not api.release.is_set()
    assert len(api.seen) == 1  # a timeout is not retried


async def test_a_server_trickling_bytes_is_cut_off_at_the_overall_deadline(
    fake: tuple[FakeCaseApi, str],
) -> None:
    """Every byte arrives well within httpx's read timeout; only the overall deadline helps."""
    api, url = fake

    async def trickle(request: Request) -> Response:
        async def spaces() -> AsyncIterator[bytes]:
            while not api.release.is_set():
                yield b" "
                await asyncio.sleep(0.05)

        return StreamingResponse(spaces(), media_type="application/json")

    api.handler = trickle
    async with client(url, request_timeout=0.4) as case_api:
        started = time.perf_counter()
        with pytest.raises(CaseApiUnavailable):
            await case_api.get_dossier(CODE)
        elapsed = time.perf_counter() - started

    # Cut off (long before the trickle would end: never) after waiting a while; no bound sits
    # near the 0.4 s deadline, whose timer may fire a little early.
    assert 0.2 < elapsed < 2.0
    assert not api.release.is_set()


async def test_connection_refused_is_retried_once_for_a_get() -> None:
    transport = CountingTransport()
    url = f"http://127.0.0.1:{free_port()}"

    async with client(url, transport=transport) as case_api:
        with pytest.raises(CaseApiUnavailable) as caught:
            await case_api.get_dossier(CODE)

    assert not isinstance(caught.value, MalformedAnswer)
    assert transport.calls == 2


async def test_connection_refused_is_not_retried_for_verify() -> None:
    transport = CountingTransport()
    url = f"http://127.0.0.1:{free_port()}"

    async with client(url, transport=transport) as case_api:
        with pytest.raises(CaseApiUnavailable):
            await case_api.verify(CODE, pin=PIN)

    assert transport.calls == 1


async def test_a_get_dropped_before_any_response_succeeds_on_the_retry(
    dropping: tuple[DroppingServer, str],
) -> None:
    server, url = dropping

    async with client(url) as case_api:
        dossier = await case_api.get_dossier(CODE)

    assert dossier.code == CODE
    assert server.connections == 2


async def test_a_verify_dropped_before_any_response_is_not_sent_again(
    dropping: tuple[DroppingServer, str],
) -> None:
    server, url = dropping

    async with client(url) as case_api:
        with pytest.raises(CaseApiUnavailable):
            await case_api.verify(CODE, pin=PIN)

    assert server.connections == 1


# --------------------------------------------------------------------------- circuit breaker


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_an_open_circuit_fails_fast_without_calling_the_server(
    fake: tuple[FakeCaseApi, str], caplog: pytest.LogCaptureFixture
) -> None:
    api, url = fake

    async def hang(request: Request) -> Response:
        await api.release.wait()
        return JSONResponse(dossier_json())

    api.handler = hang
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30)
    async with client(url, request_timeout=0.5, breaker=breaker) as case_api:
        for _ in range(2):
            with pytest.raises(CaseApiUnavailable):
                await case_api.get_dossier(CODE)
        assert breaker.state is BreakerState.OPEN

        started = time.perf_counter()
        with pytest.raises(CircuitOpen) as caught:
            await case_api.get_dossier(CODE)
        elapsed = time.perf_counter() - started

    print(f"open-circuit call returned in {elapsed * 1000:.3f} ms (request timeout 500 ms)")
    assert isinstance(caught.value, CaseApiUnavailable)
    assert len(api.seen) == 2  # the third call never reached the server
    assert elapsed < 0.4  # it did not wait for a request's 0.5 s deadline
    assert "circuit open" in caplog.records[-1].getMessage()


async def test_malformed_answers_open_the_circuit(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    api.handler = answer(200, "<html>proxy error</html>")
    breaker = CircuitBreaker(failure_threshold=3)

    async with client(url, breaker=breaker) as case_api:
        for _ in range(3):
            with pytest.raises(MalformedAnswer):
                await case_api.get_dossier(CODE)
        with pytest.raises(CircuitOpen):
            await case_api.get_dossier(CODE)

    assert len(api.seen) == 3


async def test_the_circuit_recovers_through_one_half_open_trial(
    fake: tuple[FakeCaseApi, str],
) -> None:
    api, url = fake
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30, clock=clock)
    api.handler = answer(503, {"error": "down"})

    async with client(url, breaker=breaker) as case_api:
        for _ in range(2):
            with pytest.raises(CaseApiUnavailable):
                await case_api.get_dossier(CODE)
        clock.now = 29
        with pytest.raises(CircuitOpen):
            await case_api.get_dossier(CODE)
        assert len(api.seen) == 2

        # The case system is back, but slow: the one trial is in flight, others fail fast.
        arrived, gate = asyncio.Event(), asyncio.Event()

        async def slow_ok(request: Request) -> Response:
            arrived.set()
            await gate.wait()
            return JSONResponse(dossier_json())

        api.handler = slow_ok
        clock.now = 30
        trial = asyncio.create_task(case_api.get_dossier(CODE))
        await arrived.wait()
        with pytest.raises(CircuitOpen):
            await case_api.get_dossier(CODE)
        gate.set()
        assert (await trial).code == CODE

        assert breaker.state is BreakerState.CLOSED
        assert (await case_api.get_dossier(CODE)).code == CODE

    assert len(api.seen) == 4


async def test_a_failed_trial_keeps_the_circuit_open(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10, clock=clock)
    api.handler = answer(500, {"error": "down"})

    async with client(url, breaker=breaker) as case_api:
        with pytest.raises(CaseApiUnavailable):
            await case_api.get_dossier(CODE)
        clock.now = 10
        with pytest.raises(CaseApiUnavailable) as trial:
            await case_api.get_dossier(CODE)
        assert not isinstance(trial.value, CircuitOpen)
        with pytest.raises(CircuitOpen):
            await case_api.get_dossier(CODE)

    assert len(api.seen) == 2
    assert breaker.state is BreakerState.OPEN


# --------------------------------------------------------------------------- lifecycle


async def test_a_shared_client_is_used_and_left_open(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    async with httpx.AsyncClient() as shared:
        async with HttpCaseApi(url, TOKEN, client=shared) as case_api:
            await case_api.get_dossier(CODE)

        assert not shared.is_closed
        assert api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_an_owned_client_is_closed() -> None:
    case_api = HttpCaseApi("http://127.0.0.1:9", TOKEN)
    await case_api.aclose()

    with pytest.raises(RuntimeError, match="closed"):
        await case_api.get_dossier(CODE)
    assert case_api.breaker.consecutive_failures == 0  # our bug, not the case system's


async def test_an_empty_code_is_a_programming_error(fake: tuple[FakeCaseApi, str]) -> None:
    api, url = fake
    async with client(url) as case_api:
        with pytest.raises(ValueError, match="empty"):
            await case_api.get_dossier(" ")

    assert api.seen == []


async def test_one_dossier_off_the_contract_does_not_open_the_circuit(
    fake: tuple[FakeCaseApi, str],
) -> None:
    # A negative fee: the system answered properly, this one record is bad. Citizens looking
    # up other dossiers must not be told the case system is down because of it.
    api, url = fake
    api.handler = answer(200, dossier_json(CODE) | {"fee": {"amount": -1000, "currency": "VND"}})
    breaker = CircuitBreaker(failure_threshold=3)

    async with client(url, breaker=breaker) as case_api:
        for _ in range(5):
            with pytest.raises(DossierOffContract):
                await case_api.get_dossier(CODE)
        api.handler = answer(200, dossier_json(CODE))
        assert (await case_api.get_dossier(CODE)).code == CODE

    assert breaker.state is BreakerState.CLOSED
    assert len(api.seen) == 6
