"""The embedded server (`bot.web.serve.serve_in_loop`): listening when the block starts, and
stopping cleanly at its end — a request in flight gets its answer before the app's shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.web.serve import serve_in_loop


def _app(events: list[str], started: asyncio.Event, release: asyncio.Event) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("xin chào")

    async def slow(_request: Request) -> PlainTextResponse:
        events.append("slow started")
        started.set()
        await release.wait()
        events.append("slow answered")
        return PlainTextResponse("đã xong")

    return Starlette(routes=[Route("/", hello), Route("/slow", slow)], lifespan=lifespan)


async def test_port_zero_serves_on_the_port_it_reports_and_runs_the_shutdown() -> None:
    events: list[str] = []
    async with serve_in_loop(_app(events, asyncio.Event(), asyncio.Event())) as server:
        assert server.port != 0
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{server.url}/")).text == "xin chào"
    assert events == ["startup", "shutdown"]
    async with httpx.AsyncClient() as client:
        try:
            await client.get(f"{server.url}/")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the server still answers after its block ended")


async def test_a_request_in_flight_at_the_stop_gets_its_answer() -> None:
    events: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()
    async with httpx.AsyncClient(timeout=30) as client:
        async with serve_in_loop(_app(events, started, release)) as server:
            answer = asyncio.create_task(client.get(f"{server.url}/slow"))
            await started.wait()
            asyncio.get_running_loop().call_later(0.2, release.set)
        # The block ended while /slow was still working: it was let finish first.
        assert events == ["startup", "slow started", "slow answered", "shutdown"]
        assert (await answer).text == "đã xong"


def test_checked_against_this_minor_version_of_uvicorn() -> None:
    # bot/web/serve.py overrides uvicorn.Server's main_loop and shutdown (to stop at once)
    # and reads its servers, server_state and lifespan; uvicorn may change them in any minor.
    import uvicorn

    checked = "0.54"
    found = ".".join(uvicorn.__version__.split(".")[:2])
    assert found == checked, (
        f"uvicorn {uvicorn.__version__} is installed, but bot/web/serve.py was checked against "
        f"uvicorn {checked}'s Server (main_loop, shutdown, servers, server_state, lifespan): "
        "compare them with the new version, adapt the embedded server, then update this test "
        "and the pin in pyproject.toml"
    )
