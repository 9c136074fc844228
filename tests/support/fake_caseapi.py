"""A misbehaving case API on loopback: 500s, HTML, wrong JSON, or no answer at all."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route


@dataclass
class Misbehaviour:
    """What the fake does on every request; change it between requests."""

    mode: str = "500"  # "500" | "503" | "html" | "wrong_json" | "hang"
    hang_seconds: float = 3.0  # longer than any client deadline in the tests
    requests: int = 0


def broken_case_api(behaviour: Misbehaviour) -> Starlette:
    """A Starlette app that answers every case API request the way `behaviour` says."""

    async def answer(request: Request) -> Response:
        behaviour.requests += 1
        if behaviour.mode == "hang":
            await asyncio.sleep(behaviour.hang_seconds)
        if behaviour.mode == "html":
            return HTMLResponse("<html><body><h1>502 Bad Gateway</h1></body></html>")
        if behaviour.mode == "wrong_json":
            return JSONResponse({"ok": True, "data": {"trang_thai": "xong"}})
        if behaviour.mode == "503":
            return JSONResponse({"error": "maintenance"}, status_code=503)
        return JSONResponse({"error": "internal"}, status_code=500)

    return Starlette(
        routes=[
            Route("/v1/dossiers/{code}", answer),
            Route("/v1/dossiers/{code}/verify", answer, methods=["POST"]),
            Route("/v1/changes", answer),
        ]
    )
