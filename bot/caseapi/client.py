"""`HttpCaseApi`: the case API port (design §4) over httpx.

One shared `httpx.AsyncClient`, a Bearer token, a connect timeout and an overall deadline on
every call (httpx's own timeouts are per socket operation, so a server trickling bytes could
otherwise hold a call for ever). A GET is tried a second time, at once, when the connection
failed before any response arrived (refused, reset, a stale keep-alive connection closed
under us); a timeout is never retried, so a dead host costs about `connect_timeout`, and the
POST of a verification is never retried at all. A circuit breaker makes calls fail fast while
the case system is down.

Failures map to the port's errors: `DossierNotFound` for the contract's 404, `MalformedAnswer`
for an answer not in the contract's shape, `CaseApiUnavailable` for everything else (5xx,
timeouts, connection errors, 401/403, an open circuit). Each failure is logged on one line
with its kind and the dossier code; PINs, phone numbers and applicant names never are.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from bot import httptransport
from bot.caseapi.breaker import CircuitBreaker, CircuitOpen
from bot.domain.dossier import Dossier
from bot.domain.intake import RejectedItem, parse_item
from bot.ports import (
    CaseApiUnavailable,
    ChangesPage,
    DossierNotFound,
    DossierOffContract,
    MalformedAnswer,
)

log = logging.getLogger(__name__)

MAX_CHANGES_LIMIT = 1000
MAX_BODY_BYTES = 32 * 1024 * 1024  # a full changes page is a few MB at most
_RETRYABLE = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)
_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)


class _VerifyAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    verified: StrictBool


class _ChangesAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # Each item is checked on its own (`bot.domain.intake.parse_item`): one off the contract
    # is set aside, it does not make the page (and every other citizen's change) unreadable.
    items: list[Any]
    cursor: str


class _Failure(CaseApiUnavailable):
    """Internal: carries the kind of failure to the single log line in `_call`."""

    def __init__(self, kind: str, *, malformed: bool = False, loud: bool = False) -> None:
        super().__init__(kind)
        self.kind = kind
        self.malformed = malformed
        self.level = logging.ERROR if loud else logging.WARNING


class _OffContract(_Failure, DossierOffContract):
    """Internal: a well-formed answer whose one dossier breaks the contract."""


class HttpCaseApi:
    """The one-stop-shop case system, reached over HTTP. Implements `bot.ports.CaseApi`.

    Pass `client` to share an existing `httpx.AsyncClient` (it is then not closed here), or
    `transport` to give the internally made client another transport (tests, proxies).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout: float = 2.0,
        request_timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if client is not None and transport is not None:
            raise ValueError("pass either client or transport, not both")
        if connect_timeout <= 0 or request_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": "motcua",
        }
        self._request_timeout = request_timeout
        self._owns_client = client is None
        self._client = client or httptransport.DirectAsyncClient(
            timeout=httpx.Timeout(request_timeout, connect=connect_timeout),
            transport=transport or httptransport.transport(),
            follow_redirects=False,
        )
        self._breaker = breaker or CircuitBreaker()

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker guarding the calls (for health reporting)."""
        return self._breaker

    async def aclose(self) -> None:
        """Close the HTTP client, unless it was passed in."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ the port

    async def get_dossier(self, code: str) -> Dossier:
        """The dossier with `code`. Raises DossierNotFound or CaseApiUnavailable."""
        path = f"/v1/dossiers/{_quote(code)}"

        def parse(body: Any) -> Dossier:
            if not isinstance(body, dict):
                raise _Failure("JSON is not a Dossier (not an object)", malformed=True)
            try:
                dossier = _validate(Dossier, body)
            except _Failure as failure:
                # An object, so the system answered: this one record is off the contract.
                raise _OffContract(failure.kind, malformed=True) from None
            if dossier.code.strip().upper() != code.strip().upper():
                # Showing somebody else's dossier would be far worse than showing none.
                raise _Failure(f"answer is for dossier {dossier.code}", malformed=True)
            return dossier

        return await self._call("get_dossier", "GET", path, parse, code=code)

    async def verify(self, code: str, *, pin: str | None = None, phone: str | None = None) -> bool:
        """Whether `pin` or `phone` (exactly one of them) proves ownership of dossier `code`.

        Raises DossierNotFound or CaseApiUnavailable. Never retried: a repeated attempt could
        count twice against the case system's own attempt limits.
        """
        if (pin is None) == (phone is None):
            raise ValueError("pass exactly one of pin and phone")
        payload = {"pin": pin} if pin is not None else {"phone": phone}
        path = f"/v1/dossiers/{_quote(code)}/verify"
        answer = await self._call(
            "verify", "POST", path, _validator(_VerifyAnswer), code=code, json_body=payload
        )
        return answer.verified

    async def changes(self, cursor: str | None = None, limit: int = 500) -> ChangesPage:
        """Dossiers changed after `cursor`, oldest first; no cursor means "from now".

        `limit` must be 1..1000. A page whose envelope is not in the contract's shape is
        rejected as a whole (MalformedAnswer); an item that is not a contract Dossier comes
        back in `ChangesPage.rejected`, with its reason and place, and the others in `items`.
        """
        if not 1 <= limit <= MAX_CHANGES_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_CHANGES_LIMIT}, not {limit}")
        params: dict[str, str] = {"limit": str(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        answer = await self._call(
            "changes", "GET", "/v1/changes", _validator(_ChangesAnswer), params=params
        )
        items: list[Dossier] = []
        rejected: list[RejectedItem] = []
        for raw in answer.items:
            parsed = parse_item(raw, position=len(items))
            if isinstance(parsed, RejectedItem):
                rejected.append(parsed)
            else:
                items.append(parsed)
        if rejected:
            log.warning(
                "case API changes: %d of %d items not in the contract's shape, set aside: %s",
                len(rejected),
                len(answer.items),
                rejected[0].reason,
            )
        return ChangesPage(items=tuple(items), cursor=answer.cursor, rejected=tuple(rejected))

    # ------------------------------------------------------------------ plumbing

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[Any], _T],
        *,
        code: str | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> _T:
        """One guarded call: breaker, deadline, retry, status mapping, decoding, `parse`.

        `parse` turns the decoded JSON into the result and runs inside the breaker's guard,
        so an answer of the wrong shape counts as a failure of the case system.
        """
        request = self._client.build_request(
            method,
            self._base_url + path,
            params=params,
            json=json_body,
            headers=self._headers,
        )
        try:
            async with self._breaker.guard():
                try:
                    async with asyncio.timeout(self._request_timeout):
                        body = await self._exchange(request, retry=method == "GET")
                except TimeoutError:
                    raise _Failure(f"no answer within {self._request_timeout} s") from None
                return parse(body)
        except CircuitOpen:
            log.warning("case API %s failed: circuit open code=%s", operation, code)
            raise
        except _Failure as failure:
            kind = "malformed answer" if failure.malformed else "unavailable"
            log.log(
                failure.level, "case API %s failed: %s: %s code=%s", operation, kind, failure, code
            )
            error_type: type[CaseApiUnavailable] = CaseApiUnavailable
            if isinstance(failure, DossierOffContract):
                error_type = DossierOffContract
            elif failure.malformed:
                error_type = MalformedAnswer
            raise error_type(f"case API {operation}: {failure.kind}") from failure
        except DossierNotFound:
            log.info("case API %s: not found code=%s", operation, code)
            raise

    async def _exchange(self, request: httpx.Request, *, retry: bool) -> Any:
        """Send `request` (twice for a retryable connection failure) and decode the answer."""
        attempts = 2 if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.send(request, stream=True)
            except _RETRYABLE as exc:
                if attempt < attempts:
                    log.debug("case API connection failed (%s), retrying", type(exc).__name__)
                    continue
                raise _Failure(f"connection failed: {type(exc).__name__}") from exc
            except httpx.TimeoutException as exc:
                raise _Failure(f"timed out: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise _Failure(f"transport error: {type(exc).__name__}") from exc
            try:
                body = await _read_body(response)
            finally:
                await response.aclose()
            return _decode(response, body)
        raise AssertionError("unreachable")  # pragma: no cover


async def _read_body(response: httpx.Response) -> bytes:
    """The whole body, refusing absurd sizes; transport errors become `_Failure`."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _Failure(f"answer larger than {MAX_BODY_BYTES} bytes", malformed=True)
            chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise _Failure(f"timed out reading the answer: {type(exc).__name__}") from exc
    except httpx.HTTPError as exc:
        raise _Failure(f"answer cut off: {type(exc).__name__}") from exc
    return b"".join(chunks)


def _decode(response: httpx.Response, body: bytes) -> Any:
    """The JSON of a 200, or the port error the status means."""
    status = response.status_code
    if status == 200:
        return _json(body, status)
    if status == 404:
        try:
            error = json.loads(body)
        except ValueError:
            error = None
        if isinstance(error, dict) and error.get("error") == "not_found":
            raise DossierNotFound("no such dossier")
        # A 404 without the contract's body is a wrong URL or a proxy, not a missing dossier:
        # telling citizens their code does not exist would be the wrong message.
        raise _Failure("404 without the contract's body (check the case API URL)", malformed=True)
    if status in (401, 403):
        raise _Failure(
            f"HTTP {status}: the case API rejected our token, check MOTCUA_CASE_API_TOKEN",
            loud=True,
        )
    raise _Failure(f"HTTP {status}")


def _json(body: bytes, status: int) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        start = body[:20].lstrip().lower()
        what = "HTML" if start.startswith((b"<!doctype", b"<html")) else "not JSON"
        raise _Failure(f"HTTP {status} body is {what}", malformed=True) from None


def _validator(model: type[_M]) -> Callable[[Any], _M]:
    def parse(body: Any) -> _M:
        return _validate(model, body)

    return parse


def _validate(model: type[_M], body: Any) -> _M:
    """`body` as `model`, or a malformed-answer `_Failure` naming the fields that do not fit.

    Only field locations are reported: the input values may hold applicants' names.
    """
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        locations = sorted({".".join(str(p) for p in e["loc"]) or "(root)" for e in exc.errors()})
        shown = ", ".join(locations[:5]) + (", …" if len(locations) > 5 else "")
        raise _Failure(
            f"JSON is not a {model.__name__.lstrip('_')} ({shown})", malformed=True
        ) from None


def _quote(code: str) -> str:
    """`code` as one URL path segment (a slash or `?` in it cannot change the path)."""
    if not code or not code.strip():
        raise ValueError("empty dossier code")
    return quote(code, safe="")


__all__ = ["MAX_BODY_BYTES", "MAX_CHANGES_LIMIT", "HttpCaseApi"]
