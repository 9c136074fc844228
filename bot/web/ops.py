"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics`` (see `bot.ops.health` and
`bot.ops.metrics`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.ops.health import HealthChecks
from bot.ops.metrics import CONTENT_TYPE_LATEST, Metrics


def ops_routes(health: HealthChecks, metrics: Metrics | None) -> list[BaseRoute]:
    """The operator's endpoints."""

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse(health.liveness())

    async def readyz(_request: Request) -> JSONResponse:
        ready, body = await health.readiness()
        return JSONResponse(body, status_code=200 if ready else 503)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if metrics is not None:

        async def exposition(_request: Request) -> Response:
            return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

        routes.append(Route("/metrics", exposition, methods=["GET"]))
    return routes
