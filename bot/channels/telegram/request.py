"""python-telegram-bot's Bot API requests over motcua's httpx client, sent as JSON.

python-telegram-bot posts every call as an HTML form: each parameter JSON-encoded on its own,
then the whole form percent-encoded byte by byte. A lookup answer in Vietnamese with its
inline keyboard comes to about 1.1 kB that way and 85 µs of CPU to build; the Bot API takes
the same call as one JSON document (``application/json``, UTF-8) in 0.7 kB and 45 µs. Calls
that upload files keep python-telegram-bot's multipart form. Errors are mapped as
python-telegram-bot maps them (`TimedOut`, `NetworkError`), so its retry and error handling
see no difference. Only python-telegram-bot's public request interface is used: `BaseRequest`,
which it documents for custom networking backends, and `RequestData`'s public properties.
"""

from __future__ import annotations

import json

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot import httptransport

__all__ = ["BotApiRequest", "bot_api_request"]

_JSON_CONTENT = "application/json"
# python-telegram-bot marks "no timeout given" with this sentinel's type.
_DefaultValue = type(BaseRequest.DEFAULT_NONE)


def bot_api_request(
    pool_size: int, *, pool_timeout: float = 1.0, read_timeout: float = 5.0
) -> BotApiRequest:
    """A request object for python-telegram-bot over motcua's aiohttp-backed httpx transport
    (`bot.httptransport`), with at most `pool_size` connections to the Bot API."""
    return BotApiRequest(
        transport=httptransport.transport(max_connections=pool_size),
        pool_timeout=pool_timeout,
        read_timeout=read_timeout,
    )


class BotApiRequest(BaseRequest):
    """python-telegram-bot's request interface (`telegram.request.BaseRequest`, public and
    meant for this) over a `bot.httptransport.DirectAsyncClient`: the Bot API sets no cookies
    and redirects nowhere. Calls without files go as one JSON document; uploads as a
    multipart form, as python-telegram-bot's own `HTTPXRequest` sends them."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._transport = transport
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=write_timeout, pool=pool_timeout
        )
        self._media_write_timeout = media_write_timeout
        self._client = self._new_client()

    def _new_client(self) -> httpx.AsyncClient:
        return httptransport.DirectAsyncClient(transport=self._transport, timeout=self._timeout)

    @property
    def read_timeout(self) -> float | None:
        """The read timeout of calls that name none (`BaseRequest.read_timeout`)."""
        return self._timeout.read

    async def initialize(self) -> None:
        """Open the client again if it was shut down (`BaseRequest.initialize`)."""
        if self._client.is_closed:
            self._client = self._new_client()

    async def shutdown(self) -> None:
        """Close the client and its connections (`BaseRequest.shutdown`)."""
        if not self._client.is_closed:
            await self._client.aclose()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one Bot API call; see `telegram.request.BaseRequest.do_request`."""
        if self._client.is_closed:
            raise RuntimeError("This BotApiRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        defaults = self._timeout
        timeout = httpx.Timeout(
            connect=_given(connect_timeout, defaults.connect),
            read=_given(read_timeout, defaults.read),
            write=_given(write_timeout, self._media_write_timeout if uploads else defaults.write),
            pool=_given(pool_timeout, defaults.pool),
        )
        headers = {"User-Agent": self.USER_AGENT}
        try:
            if request_data is None:
                response = await self._client.request(method, url, headers=headers, timeout=timeout)
            elif uploads:
                response = await self._client.request(
                    method,
                    url,
                    headers=headers,
                    timeout=timeout,
                    files=request_data.multipart_data,
                    data=request_data.json_parameters,
                )
            else:
                body = json.dumps(
                    request_data.parameters, ensure_ascii=False, separators=(",", ":")
                )
                headers["Content-Type"] = _JSON_CONTENT
                response = await self._client.request(
                    method, url, content=body.encode(), headers=headers, timeout=timeout
                )
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.PoolTimeout):
                raise TimedOut(
                    "Pool timeout: all connections to the Bot API are busy; "
                    "the request was not sent."
                ) from exc
            raise TimedOut from exc
        except httpx.HTTPError as exc:
            raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
        return response.status_code, response.content


def _given(value: object, default: float | None) -> float | None:
    """A timeout passed to a call, or the client's own when none was."""
    if isinstance(value, _DefaultValue):
        return default
    assert value is None or isinstance(value, int | float)
    return value
