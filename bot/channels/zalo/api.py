"""The Zalo HTTP APIs the channel calls, over one shared httpx client.

- ``POST {api_url}/v3.0/oa/message/cs`` — a consultation message to a user (header
  ``access_token``), allowed within 7 days of the user's last interaction.
- ``POST {zns_url}/message/template`` — a ZNS template message to a phone number.
- ``POST {oauth_url}/v4/oa/access_token`` — refresh the OA access token (form fields
  ``refresh_token``, ``app_id``, ``grant_type=refresh_token``; header ``secret_key``). The
  answer carries a new access token *and* a new refresh token: the old one is spent.

Zalo reports failures as ``{"error": <non-zero>, "message": …}`` with HTTP 200; they raise
`ZaloApiError`. Network trouble, timeouts and 5xx raise `ChannelTemporaryError`. Calls are
paced by a `RateLimiter` (Zalo allows about 4,000 API calls a minute per app).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bot import httptransport
from bot.channels.zalo.errors import ZaloApiError, ZaloAuthError
from bot.push import ChannelRetryAfter, ChannelTemporaryError

log = logging.getLogger(__name__)

CS_PATH = "/v3.0/oa/message/cs"
ZNS_PATH = "/message/template"
OAUTH_PATH = "/v4/oa/access_token"


@dataclass(frozen=True, slots=True)
class TokenPair:
    """A fresh access token, the refresh token that replaces the spent one, and its lifetime."""

    access_token: str
    refresh_token: str
    expires_in: float | None


class RateLimiter:
    """Spaces calls at least ``1 / per_second`` seconds apart, across all tasks of a process."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("the rate must be positive")
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Wait for the next free slot."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        delay = start - now
        if delay > 0:
            await asyncio.sleep(delay)


class ZaloApi:
    """Calls to Zalo's OA, ZNS and OAuth endpoints. Close with `aclose`."""

    def __init__(
        self,
        *,
        api_url: str,
        oauth_url: str,
        zns_url: str,
        app_id: str,
        app_secret: str,
        timeout: float = 10.0,
        oauth_timeout: float = 4.0,
        rate_per_second: float = 50.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._cs_url = api_url.rstrip("/") + CS_PATH
        self._zns_url = zns_url.rstrip("/") + ZNS_PATH
        self._oauth_url = oauth_url.rstrip("/") + OAUTH_PATH
        self._app_id = app_id
        self._app_secret = app_secret
        # Short: the refresh holds the token row's lock while it waits for Zalo.
        self._oauth_timeout = httpx.Timeout(oauth_timeout)
        self._limiter = RateLimiter(rate_per_second)
        self._client = httptransport.DirectAsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport or httptransport.transport(),
            headers={"User-Agent": "motcua"},
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    async def send_cs(self, access_token: str, user_id: str, message: Mapping[str, Any]) -> str:
        """Send one consultation message; its message id."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        data = await self._post_json(self._cs_url, access_token, body)
        return str(data.get("message_id", ""))

    async def send_zns(
        self,
        access_token: str,
        *,
        phone: str,
        template_id: str,
        template_data: Mapping[str, Any],
        tracking_id: str,
    ) -> str:
        """Send one ZNS template message to `phone` (``84…``); its message id."""
        body = {
            "phone": phone,
            "template_id": template_id,
            "template_data": dict(template_data),
            "tracking_id": tracking_id,
        }
        data = await self._post_json(self._zns_url, access_token, body)
        return str(data.get("msg_id", ""))

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Trade `refresh_token` (spent by this call) for a new pair.

        Raises `ZaloAuthError` when Zalo refuses (the refresh token is invalid or expired:
        an operator must issue a new pair) and `ChannelTemporaryError` on network trouble.
        """
        await self._limiter.wait()
        try:
            response = await self._client.post(
                self._oauth_url,
                data={
                    "refresh_token": refresh_token,
                    "app_id": self._app_id,
                    "grant_type": "refresh_token",
                },
                headers={"secret_key": self._app_secret},
                timeout=self._oauth_timeout,
            )
        except httpx.HTTPError as exc:
            raise ChannelTemporaryError(f"zalo oauth: {type(exc).__name__}") from exc
        payload = _json(response)
        access = payload.get("access_token")
        refresh = payload.get("refresh_token")
        if isinstance(access, str) and access and isinstance(refresh, str) and refresh:
            return TokenPair(access, refresh, _seconds(payload.get("expires_in")))
        if response.status_code >= 500:
            raise ChannelTemporaryError(f"zalo oauth: HTTP {response.status_code}")
        code = payload.get("error")
        name = payload.get("error_name") or payload.get("message") or "no token in the answer"
        raise ZaloAuthError(f"zalo oauth refused the refresh token: {code} {name}"[:200])

    async def _post_json(
        self, url: str, access_token: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        await self._limiter.wait()
        try:
            response = await self._client.post(
                url, json=body, headers={"access_token": access_token}
            )
        except httpx.HTTPError as exc:
            raise ChannelTemporaryError(f"zalo: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise ChannelRetryAfter(_seconds(response.headers.get("Retry-After")) or 60.0)
        if response.status_code >= 500:
            raise ChannelTemporaryError(f"zalo: HTTP {response.status_code}")
        payload = _json(response)
        code = payload.get("error")
        if not isinstance(code, int):
            raise ChannelTemporaryError(f"zalo: unexpected answer (HTTP {response.status_code})")
        if code != 0:
            raise ZaloApiError(code, str(payload.get("message", "")))
        data = payload.get("data")
        return data if isinstance(data, dict) else {}


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _seconds(value: object) -> float | None:
    """Zalo sends ``expires_in`` as a string of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
