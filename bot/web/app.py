"""The project's own web server: health, and the routes the adapters contribute (webhooks)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

log = logging.getLogger(__name__)


def build_web_app(
    database_check: Callable[[], Awaitable[None]], routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """A Starlette app with ``GET /healthz`` and the adapters' `routes`.

    `database_check` raises when the database does not answer (`bot.storage.engine.ping`).
    """

    async def healthz(_request: Request) -> JSONResponse:
        try:
            await database_check()
        except Exception:
            log.exception("health check: the database does not answer")
            return JSONResponse({"status": "unhealthy", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *routes])
