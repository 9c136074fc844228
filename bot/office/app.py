"""The workspace as routes for motcua's web app: ``Mount("/office", …)`` around a small
Starlette app with its own signed session cookie, error pages and static files."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.office import comments, delivery, feedback, satisfaction, usage
from bot.office.auth import (
    SESSION_COOKIE,
    LoginLimits,
    Office,
    current_staff,
    login,
    login_page,
    logout,
)
from bot.office.render import render
from bot.ports import Clock, UnitOfWorkFactory
from bot.settings import Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
PREFIX = "/office"


@dataclass(frozen=True, slots=True)
class OfficeConfig:
    """The workspace's settings."""

    session_secret: str
    session_ttl: timedelta
    secure_cookie: bool
    tz: ZoneInfo
    login_limits: LoginLimits
    #: The deployment's server secret (`bot.composition.resolve_server_secret`): it keys the
    #: sign-in limits.
    server_secret: str


def office_config(settings: Settings, *, server_secret: str) -> OfficeConfig:
    """The workspace's settings from motcua's (`server_secret`: see
    `bot.composition.resolve_server_secret`); a random session secret when none is set."""
    secret = settings.office_session_secret
    if secret is None:
        log.info(
            "office: MOTCUA_OFFICE_SESSION_SECRET is not set; sign-ins last until this process "
            "stops"
        )
    return OfficeConfig(
        session_secret=secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        session_ttl=timedelta(hours=settings.office_session_hours),
        secure_cookie=settings.office_cookie_secure,
        tz=settings.tz,
        login_limits=LoginLimits(
            per_account=settings.office_login_attempts_per_account,
            per_address=settings.office_login_attempts_per_address,
            window_seconds=settings.office_login_window_minutes * 60,
        ),
        server_secret=server_secret,
    )


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    office: Office = request.app.state.office
    staff = None
    if status != 403 and "session" in request.scope:
        try:
            staff = await current_staff(request)
        except Exception:  # the error page must render even when the database is down
            log.exception("office: could not read the session for an error page")
    return render(
        request, "error.html", {"status": status, "staff": staff}, tz=office.tz, status_code=status
    )


async def _root(_request: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def office_routes(
    uow_factory: UnitOfWorkFactory,
    read_factory: UnitOfWorkFactory,
    clock: Clock,
    config: OfficeConfig,
) -> list[BaseRoute]:
    """The workspace's routes, to add to the web app (``build_web_app(engine, routes)``)."""
    routes: list[BaseRoute] = [
        Route("/", satisfaction.satisfaction_page, methods=["GET"]),
        Route("/satisfaction.csv", satisfaction.satisfaction_csv, methods=["GET"]),
        Route("/comments", comments.comments_page, methods=["GET"]),
        Route("/feedback", feedback.feedback_page, methods=["GET"]),
        Route("/feedback/{feedback_id:int}", feedback.feedback_item_page, methods=["GET"]),
        Route("/feedback/{feedback_id:int}/reply", feedback.feedback_reply, methods=["POST"]),
        Route("/feedback/{feedback_id:int}/status", feedback.feedback_status, methods=["POST"]),
        Route("/unanswered", feedback.unanswered_page, methods=["GET"]),
        Route("/delivery", delivery.delivery_page, methods=["GET"]),
        Route("/delivery/retry", delivery.retry_dead, methods=["POST"]),
        Route("/usage", usage.usage_page, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=config.session_secret,
                session_cookie=SESSION_COOKIE,
                max_age=int(config.session_ttl.total_seconds()),
                path=PREFIX,
                same_site="lax",
                https_only=config.secure_cookie,
            )
        ],
        exception_handlers={HTTPException: _error, Exception: _error},
    )
    app.state.office = Office(
        uow_factory=uow_factory,
        read_factory=read_factory,
        clock=clock,
        tz=config.tz,
        session_ttl=config.session_ttl,
        login_limits=config.login_limits,
        server_secret=config.server_secret,
    )
    return [Route(PREFIX, _root, methods=["GET"]), Mount(PREFIX, app=app)]
