"""The simulator's HTTP face: the case API contract (design §4) plus admin endpoints."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.caseapi.simulator.advance import Advancer
from bot.caseapi.simulator.pusher import Pusher
from bot.caseapi.simulator.state import (
    BadCursor,
    InvalidRequest,
    InvalidTransition,
    SimulatorState,
    UnknownDossier,
)
from bot.domain.status import Status
from bot.ports import Clock, SystemClock

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_SAMPLES = 1000

Endpoint = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    """The request is malformed; the message says how (it never echoes secrets)."""


def _error(status_code: int, error: str, detail: str | None = None) -> JSONResponse:
    body: dict[str, str] = {"error": error}
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code)


class BearerAuth:
    """Requires ``Authorization: Bearer <token>`` on /v1 and /admin (401 otherwise)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authorised and public requests through; answer the rest with 401."""
        if scope["type"] == "http" and _protected(scope["path"]):
            scheme, _, credentials = Headers(scope=scope).get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                credentials.strip().encode(), self._token
            ):
                response = _error(401, "unauthorized")
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _protected(path: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in ("/v1", "/admin"))


async def _json_object(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip() and empty_ok:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _BadRequest("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object")
    return body


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _BadRequest(f"{key} must be a string")
    return value


def _int_param(request: Request, key: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise _BadRequest(f"{key} must be an integer") from exc
    if not 1 <= value <= maximum:
        raise _BadRequest(f"{key} must be between 1 and {maximum}")
    return value


def _status_param(raw: object) -> Status:
    if not isinstance(raw, str):
        raise _BadRequest("status must be a string")
    try:
        return Status(raw)
    except (ValueError, TypeError) as exc:
        raise _BadRequest(f"unknown status {raw!r}") from exc


def create_app(
    state: SimulatorState,
    token: str,
    *,
    latency: float = 0.0,
    pusher: Pusher | None = None,
    advancer: Advancer | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """The simulator as an ASGI app.

    `latency` seconds are awaited before answering every /v1 request (for benchmarks);
    `pusher` and `advancer` run in the background while the app is served.
    """
    the_clock: Clock = clock or SystemClock()

    def handler(endpoint: Endpoint, *, slow: bool = False) -> Endpoint:
        async def wrapped(request: Request) -> Response:
            if slow and latency > 0:
                await asyncio.sleep(latency)
            try:
                return await endpoint(request)
            except _BadRequest as exc:
                return _error(400, "bad_request", str(exc))
            except UnknownDossier:
                return _error(404, "not_found")

        return wrapped

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "dossiers": len(state)})

    async def get_dossier(request: Request) -> Response:
        dossier = state.get(request.path_params["code"])
        if dossier is None:
            return _error(404, "not_found")
        return JSONResponse(dossier.to_json())

    async def verify(request: Request) -> Response:
        body = await _json_object(request)
        pin, phone = _optional_str(body, "pin"), _optional_str(body, "phone")
        if (pin is None) == (phone is None):
            raise _BadRequest('give exactly one of "pin" and "phone"')
        verified = state.verify(request.path_params["code"], pin=pin, phone=phone)
        return JSONResponse({"verified": verified})

    async def changes(request: Request) -> Response:
        limit = _int_param(request, "limit", DEFAULT_LIMIT, MAX_LIMIT)
        cursor = request.query_params.get("cursor")
        if not cursor:
            return JSONResponse({"items": [], "cursor": state.cursor()})
        try:
            after = state.parse_cursor(cursor)
        except BadCursor as exc:
            raise _BadRequest("unknown cursor") from exc
        page = state.changes_after(after, limit)
        return JSONResponse({"items": [d.to_json() for d in page.items], "cursor": page.cursor})

    async def admin_move(request: Request) -> Response:
        body = await _json_object(request)
        status = _status_param(body.get("status"))
        note = _optional_str(body, "note")
        raw_due = _optional_str(body, "due_at")
        due_at = None
        if raw_due is not None:
            try:
                due_at = datetime.fromisoformat(raw_due)
            except ValueError as exc:
                raise _BadRequest("due_at must be an RFC 3339 time") from exc
        try:
            dossier = state.move(
                request.path_params["code"], status, the_clock.now(), note, due_at=due_at
            )
        except InvalidTransition as exc:
            return _error(409, "invalid_transition", str(exc))
        except InvalidRequest as exc:
            raise _BadRequest(str(exc)) from exc
        return JSONResponse(dossier.to_json())

    async def admin_samples(request: Request) -> Response:
        raw_status = request.query_params.get("status")
        status = _status_param(raw_status) if raw_status else None
        limit = _int_param(request, "limit", 10, MAX_SAMPLES)
        items = [d.to_admin_json() for d in state.samples(status, limit)]
        return JSONResponse({"items": items})

    async def admin_create(request: Request) -> Response:
        body = await _json_object(request, empty_ok=True)
        delivery = body.get("delivery", "counter")
        if delivery not in ("counter", "post"):
            raise _BadRequest('delivery must be "counter" or "post"')
        try:
            dossier = state.create(
                the_clock.now(),
                procedure=_optional_str(body, "procedure"),
                agency=_optional_str(body, "agency"),
                applicant=_optional_str(body, "applicant"),
                phone=_optional_str(body, "phone"),
                pin=_optional_str(body, "pin"),
                delivery=delivery,
            )
        except InvalidRequest as exc:
            raise _BadRequest(str(exc)) from exc
        return JSONResponse(dossier.to_admin_json(), status_code=201)

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, "not_found")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, "method_not_allowed" if exc.status_code == 405 else "error")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if pusher is not None:
            pusher.attach(state)
            await pusher.start()
        if advancer is not None:
            advancer.start()
        try:
            yield
        finally:
            if advancer is not None:
                await advancer.stop()
            if pusher is not None:
                await pusher.stop()
                pusher.detach()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/v1/dossiers/{code}", handler(get_dossier, slow=True), methods=["GET"]),
        Route("/v1/dossiers/{code}/verify", handler(verify, slow=True), methods=["POST"]),
        Route("/v1/changes", handler(changes, slow=True), methods=["GET"]),
        Route("/admin/dossiers", handler(admin_create), methods=["POST"]),
        Route("/admin/dossiers/{code}/status", handler(admin_move), methods=["POST"]),
        Route("/admin/samples", handler(admin_samples), methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(BearerAuth, token=token)],
        exception_handlers={404: not_found, HTTPException: http_error},
        lifespan=lifespan,
    )
