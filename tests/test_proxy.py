"""Outbound HTTP honours the standard proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).

A tiny forward proxy on loopback answers every request itself and records the request line;
the case API client, pointed at a host that does not exist, must reach it through the proxy.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.caseapi.client import HttpCaseApi
from bot.ports import DossierNotFound

CODE = "000.00.53.H48-220921-0099"


class ForwardProxy:
    """Records request lines and answers each with a 404 in the case API's shape."""

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.request_lines.append(head.split(b"\r\n", 1)[0].decode())
        body = json.dumps({"error": "not_found"}).encode()
        writer.write(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


async def test_the_case_api_is_reached_through_http_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        api = HttpCaseApi("http://case-system.example.invalid:8700", "t0ken")
        try:
            with pytest.raises(DossierNotFound):
                await api.get_dossier(CODE)
        finally:
            await api.aclose()
    assert proxy.request_lines == [
        f"GET http://case-system.example.invalid:8700/v1/dossiers/{CODE} HTTP/1.1"
    ]


async def test_no_proxy_hosts_are_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ForwardProxy() as proxy, ForwardProxy() as upstream:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        api = HttpCaseApi(f"http://127.0.0.1:{upstream.port}", "t0ken")
        try:
            with pytest.raises(DossierNotFound):
                await api.get_dossier(CODE)
        finally:
            await api.aclose()
    assert proxy.request_lines == []
    assert upstream.request_lines == [f"GET /v1/dossiers/{CODE} HTTP/1.1"]
