"""A bare HTTP/1.1 client for requests httpx will not send: bodies that lie or never end.

`post_and_wait` sends the head and the given bytes, then only reads: the server must answer
with what it has. Used to prove a server answers 413 without waiting for the rest of a body.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


async def post_and_wait(
    url: str,
    headers: dict[str, str],
    *,
    declared_length: int | None = None,
    chunks: tuple[bytes, ...] = (),
) -> int:
    """POST to `url` with `declared_length` (else chunked `chunks`, never terminated); the status.

    The body is left unfinished on purpose: only a server that answers without reading further
    answers at all.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = [f"POST {parts.path} HTTP/1.1", f"Host: {host}:{port}"]
        if declared_length is not None:
            head.append(f"Content-Length: {declared_length}")
        else:
            head.append("Transfer-Encoding: chunked")
        head += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        for chunk in chunks:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
        async with asyncio.timeout(30):
            status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()
