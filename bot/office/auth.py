"""Signing in and out, sessions, CSRF and who may see what.

- The session cookie (Starlette's `SessionMiddleware`: signed with itsdangerous, HttpOnly,
  SameSite=Lax, path ``/office``) carries a random session token, a CSRF token and the
  language. The database keeps only the SHA-256 of the session token (`staff_sessions`), so
  signing out, disabling the account or changing its password ends the session everywhere.
- Every form carries the CSRF token; a POST without the session's token gets 403.
- Sign-in attempts are reserved in the database before the password is checked, per account
  and per client address (token buckets of `RateLimitRepository`, all or nothing, keyed by
  `bot.domain.limits.limit_key`: neither the name nor the address is stored in the clear); a
  successful sign-in gives its attempt back. Over the limit, the password is not checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.domain.limits import LimitKind, limit_key
from bot.domain.office import ROLES, Role, StaffAccount
from bot.i18n import LANGUAGES
from bot.office.passwords import MAX_LENGTH, verify_password
from bot.office.render import render
from bot.ports import Bucket, Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

SESSION_COOKIE = "motcua_office"
MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Sign-in attempts allowed per account and per address within a window."""

    per_account: int = 5
    per_address: int = 30
    window_seconds: int = 15 * 60


@dataclass(frozen=True, slots=True)
class Office:
    """What every page of the workspace works with."""

    uow_factory: UnitOfWorkFactory  # for changes (short transactions)
    read_factory: UnitOfWorkFactory  # for reports (no write lock on SQLite)
    clock: Clock
    tz: ZoneInfo
    session_ttl: timedelta
    login_limits: LoginLimits
    #: Keys the sign-in limits (`bot.domain.limits.limit_key`): the deployment's server
    #: secret, so every process counts the same attempts under the same keys.
    server_secret: str


def office_of(request: Request) -> Office:
    """The workspace the request reached."""
    office: Office = request.app.state.office
    return office


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def remember_language(request: Request) -> None:
    """``?lang=en`` / ``?lang=vi`` switches the workspace's language for this browser."""
    wanted = request.query_params.get("lang")
    if wanted in LANGUAGES:
        request.session["lang"] = wanted


async def read_form(request: Request) -> FormData:
    """The posted form, bounded in size, after checking its CSRF token (403 otherwise)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise HTTPException(413)
    form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)
    sent = form.get("csrf")
    expected = request.session.get("csrf")
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        log.warning("office: form without a valid CSRF token refused (%s)", request.url.path)
        raise HTTPException(403)
    return form


async def current_staff(request: Request) -> StaffAccount | None:
    """The signed-in official, if the session is still valid."""
    token = request.session.get("sid")
    if not isinstance(token, str) or not token:
        return None
    office = office_of(request)
    async with office.read_factory() as uow:
        return await uow.staff.session_account(token_hash(token), now=office.clock.now())


Page = Callable[[Request, Office, StaffAccount], Awaitable[Response]]


def staff_page(*, roles: Sequence[Role] = ROLES) -> Callable[[Page], Callable[[Request], Any]]:
    """Make a page for signed-in staff of `roles`: others are sent to the sign-in page."""

    def decorate(page: Page) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            remember_language(request)
            csrf_token(request)
            staff = await current_staff(request)
            if staff is None:
                request.session.pop("sid", None)
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse(f"/office/login?next={quote(target)}", status_code=303)
            if staff.role not in roles:
                raise HTTPException(403)
            return await page(request, office_of(request), staff)

        endpoint.__name__ = page.__name__
        endpoint.__doc__ = page.__doc__
        return endpoint

    return decorate


def visible_agency(staff: StaffAccount, code: str | None) -> str | None:
    """The agency a URL names, if the official may see it; 404 if they may not."""
    if not code:
        return None
    if not staff.sees(code):
        raise HTTPException(404)
    return code


def scope_for(staff: StaffAccount, agency: str | None) -> tuple[str, ...] | None:
    """The agencies a page shows: the one asked for, else all the official sees (None: all)."""
    if agency is not None:
        return (agency,)
    return staff.scope


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/office/") and not target.startswith("//"):
        return target
    return "/office/"


async def login_page(request: Request) -> Response:
    """The sign-in form."""
    remember_language(request)
    csrf_token(request)
    office = office_of(request)
    if await current_staff(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return render(
        request,
        "login.html",
        {
            "next": _safe_next(request.query_params.get("next")),
            "error": None,
            "username": "",
            "minutes": 0,
        },
        tz=office.tz,
    )


async def login(request: Request) -> Response:
    """Check the credentials within the attempt limits; start a session."""
    office = office_of(request)
    form = await read_form(request)
    username = str(form.get("username") or "").strip().lower()[:64]
    password = str(form.get("password") or "")[:MAX_LENGTH]
    target = _safe_next(str(form.get("next") or ""))
    address = request.client.host if request.client else "unknown"
    limits = office.login_limits
    # The limits table keeps the user name and the address only as keyed hashes.
    secret = office.server_secret
    buckets = [
        Bucket(
            limit_key(LimitKind.OFFICE_LOGIN_ACCOUNT, secret, username),
            limits.per_account,
            limits.window_seconds,
        ),
        Bucket(
            limit_key(LimitKind.OFFICE_LOGIN_ADDRESS, secret, address),
            limits.per_address,
            limits.window_seconds,
        ),
    ]
    now = office.clock.now()

    def failed(error: str, status_code: int, minutes: int = 0) -> Response:
        return render(
            request,
            "login.html",
            {"next": target, "error": error, "username": username, "minutes": minutes},
            tz=office.tz,
            status_code=status_code,
        )

    # Reserve the attempt first (atomically, in the database), then check the password.
    async with office.uow_factory() as uow:
        reservation = await uow.rate_limits.reserve(buckets, now=now)
        if not reservation.granted:
            await uow.staff.audit(
                username or "-", "login.throttled", address, now=now, detail="too many attempts"
            )
            await uow.commit()
            log.warning("office: sign-in attempts throttled")
            return failed("throttled", 429, max(1, math.ceil(reservation.retry_after_seconds / 60)))
        account = await uow.staff.get(username) if username else None
        await uow.commit()

    known = account is not None and account.active
    matches = await asyncio.to_thread(
        verify_password, account.password_hash if known and account else None, password
    )
    if not known or not matches or account is None:
        async with office.uow_factory() as uow:
            await uow.staff.audit(username or "-", "login.failed", address, now=now)
            await uow.commit()
        return failed("credentials", 401)

    token = secrets.token_urlsafe(32)
    async with office.uow_factory() as uow:
        await uow.staff.open_session(
            account.id, token_hash(token), now=now, expires_at=now + office.session_ttl
        )
        await uow.rate_limits.give_back(reservation)  # a good sign-in costs no attempt
        await uow.staff.audit(account.username, "login", address, now=now)
        await uow.commit()
    language = request.session.get("lang")
    request.session.clear()
    request.session.update({"sid": token, "csrf": secrets.token_urlsafe(32)})
    if language in LANGUAGES:
        request.session["lang"] = language
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    """End the session here and in the database."""
    office = office_of(request)
    await read_form(request)
    staff = await current_staff(request)
    token = request.session.get("sid")
    if isinstance(token, str) and token:
        async with office.uow_factory() as uow:
            await uow.staff.close_session(token_hash(token))
            if staff is not None:
                await uow.staff.audit(staff.username, "logout", "-", now=office.clock.now())
            await uow.commit()
    language = request.session.get("lang")
    request.session.clear()
    if language in LANGUAGES:
        request.session["lang"] = language
    return RedirectResponse("/office/login", status_code=303)
