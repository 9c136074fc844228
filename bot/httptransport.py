"""The transport under motcua's httpx clients: aiohttp moves the bytes, httpx stays the API.

httpx's default transport (httpcore) spends about 2 ms of CPU per request once a few dozen
connections are open: on every request it walks the whole pool and probes each idle socket.
That alone held the lookup path under 500 case-API calls per second on one core. Through
httpx's transport seam, `httpx-aiohttp` sends the same requests with aiohttp for about a
quarter of the CPU, while clients, timeouts, errors and test transports stay httpx's.

Its exception mapping reports a refused or dropped connection as `httpx.ConnectTimeout`,
which would make callers treat "nobody listens" like "the host is silent" (and not retry).
`AiohttpTransport` here maps aiohttp's errors to the httpx errors the callers expect:
refused → ConnectError, dropped → RemoteProtocolError, reset → ReadError, malformed answer
→ RemoteProtocolError; the timeouts stay timeouts.
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import httpx_aiohttp

__all__ = ["AiohttpTransport", "DirectAsyncClient", "transport"]


def transport(*, max_connections: int = 100, keepalive_expiry: float = 30.0) -> AiohttpTransport:
    """A transport for one httpx client: at most `max_connections` open, idle ones kept
    `keepalive_expiry` seconds. Pass it as ``httpx.AsyncClient(transport=…)``."""
    return AiohttpTransport(
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
        ),
        trust_env=False,
        use_env_proxies=proxies_configured(),
    )


def proxies_configured() -> bool:
    """Whether the environment names an outbound proxy (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY,
    in either case; NO_PROXY lists the hosts reached directly)."""
    return any(scheme in ("http", "https", "all") for scheme in urllib.request.getproxies())


class DirectAsyncClient(httpx.AsyncClient):
    """An httpx client that hands each request straight to its one transport.

    `httpx.AsyncClient.send` wraps the transport in cookie persistence, auth flows, redirect
    following and event hooks. motcua's clients use none of them: the case API and the Bot
    API set no cookies, credentials travel as headers, redirects are not followed. On a busy
    bot that layer cost about 75 µs of CPU per request, a third of the whole request.
    Building requests, timeouts, errors and the transport seam stay httpx's; a call that does
    ask for auth or redirects goes the usual way.
    """

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        if kwargs.get("mounts") or kwargs.get("proxy") or kwargs.get("event_hooks"):
            raise ValueError("a direct client has one transport and no hooks")
        super().__init__(transport=transport, **kwargs)
        self._direct = transport

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send `request` through the transport; the body is read unless `stream`."""
        uses_auth = auth is not httpx.USE_CLIENT_DEFAULT or self.auth is not None
        follows = follow_redirects is True or (
            follow_redirects is httpx.USE_CLIENT_DEFAULT and self.follow_redirects
        )
        if uses_auth or follows:
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        if self.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        response = await self._direct.handle_async_request(request)
        response.request = request
        if not stream:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response


class AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """`httpx_aiohttp.AiohttpTransport` with aiohttp's errors mapped as httpx would raise them.

    With `use_env_proxies`, requests go through the proxy the standard variables name for
    their URL (aiohttp's ``trust_env``: HTTP_PROXY / HTTPS_PROXY, NO_PROXY honoured). It is
    decided once, when the transport is made: without a proxy no request pays for the lookup.
    """

    def __init__(self, *, use_env_proxies: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._use_env_proxies = use_env_proxies

    def get_client(self) -> aiohttp.ClientSession:
        """The aiohttp session; one that reads the proxy variables when asked to."""
        if not self._use_env_proxies or self.client is not None:
            return super().get_client()
        limit = self.limits.max_connections
        connector = aiohttp.TCPConnector(
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
            limit=limit if limit is not None else 100,
        )
        return aiohttp.ClientSession(connector=connector, trust_env=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` with aiohttp; the response body is read through the same mapping."""
        with _mapped_errors(request):
            response = await super().handle_async_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_MappedStream(stream, request),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the connections; a later request opens new ones (python-telegram-bot closes
        and re-initialises its clients)."""
        await super().aclose()
        self.client = None


class _MappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._request):
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _mapped_errors(self._request):
            await self._inner.aclose()


@contextlib.contextmanager
def _mapped_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpx.TransportError as exc:
        cause = exc.__cause__
        if isinstance(cause, aiohttp.ClientError):
            raise _to_httpx(cause, request) from cause
        raise
    except aiohttp.ClientError as exc:  # what httpx-aiohttp leaves unmapped
        raise _to_httpx(exc, request) from exc


def _to_httpx(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientOSError | aiohttp.ClientPayloadError):
        return httpx.ReadError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    return httpx.RemoteProtocolError(message, request=request)
