"""Reading an untrusted request body with a hard size limit, enforced while it is read.

Starlette's ``request.body()`` reads everything the client sends before the caller can look
at its size; a chunked upload without ``Content-Length`` can then grow the process by as much
as the sender likes. `read_limited` refuses a declared length above the limit before reading
a byte, and otherwise streams the body and stops at the first chunk that goes past the limit.
The server then answers without reading the rest.

Every refusal of an untrusted request is made with `refusal`, which closes the connection:
otherwise the server (uvicorn) goes on reading, and throwing away, whatever the sender still
streams, to keep the connection open for a next request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

log = logging.getLogger(__name__)

TOO_LARGE = 413


class BodyRefused(Exception):
    """The body cannot be read: too large, or the client went away; `response` says so."""

    def __init__(self, response: Response, reason: str) -> None:
        super().__init__(reason)
        self.response = response


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body of `request`, at most `limit` bytes; BodyRefused (413) beyond that."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BodyRefused(refusal(400, "bad length"), "bad length")
        if int(declared) > limit:
            raise BodyRefused(_too_large(), f"declared {int(declared)} bytes")
    body = bytearray()
    try:
        async for chunk in request.stream():
            if len(body) + len(chunk) > limit:
                raise BodyRefused(_too_large(), f"more than {limit} bytes")
            body += chunk
    except ClientDisconnect:
        raise BodyRefused(refusal(400, ""), "client went away") from None
    return bytes(body)


def _too_large() -> Response:
    return refusal(TOO_LARGE, "too large")


def refusal(status: int, text: str) -> Response:
    """A short plain-text refusal that closes the connection (`closing`)."""
    return closing(PlainTextResponse(text, status_code=status))


def closing(response: Response) -> Response:
    """`response`, closing the connection after it, so that no more of the request's body is
    read (see the module's docstring)."""
    response.headers["Connection"] = "close"
    return response


class MalformedJson(ValueError):
    """The bytes are not a JSON document we are willing to decode."""


def decode_json(body: bytes) -> Any:
    """`body` decoded as JSON; MalformedJson for invalid text, bad UTF-8 or absurd nesting.

    Only call it on a body whose signature has been checked: it is the first parse.
    Python's decoder raises RecursionError on deeply nested arrays; that is turned into
    MalformedJson too, so the caller answers 400 instead of 500.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise MalformedJson(type(exc).__name__) from None
