"""`DirectAsyncClient`: httpx requests handed straight to the transport."""

from __future__ import annotations

import httpx
import pytest

from bot.httptransport import DirectAsyncClient


def recording_transport(seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "/here"})
        return httpx.Response(
            200, json={"path": request.url.path}, headers={"Set-Cookie": "session=abc"}
        )

    return httpx.MockTransport(answer)


async def test_requests_reach_the_transport_with_timeouts_and_come_back_read() -> None:
    seen: list[httpx.Request] = []
    async with DirectAsyncClient(
        transport=recording_transport(seen), base_url="http://api.test", timeout=3.0
    ) as client:
        response = await client.post("/v1/x", json={"a": 1}, headers={"X-Token": "t"})
        assert response.json() == {"path": "/v1/x"}
        assert response.request is seen[0]
        assert seen[0].headers["X-Token"] == "t"
        assert seen[0].extensions["timeout"]["read"] == 3.0
        # No cookie jar in the way: an upstream's cookie is not sent back.
        await client.get("/v1/y")
        assert "cookie" not in seen[1].headers


async def test_a_streamed_response_is_read_by_the_caller() -> None:
    async with DirectAsyncClient(transport=recording_transport([])) as client:
        request = client.build_request("GET", "http://api.test/stream")
        response = await client.send(request, stream=True)
        try:
            body = b"".join([chunk async for chunk in response.aiter_bytes()])
        finally:
            await response.aclose()
        assert body == b'{"path":"/stream"}'


async def test_redirects_asked_for_go_the_usual_way() -> None:
    seen: list[httpx.Request] = []
    async with DirectAsyncClient(transport=recording_transport(seen)) as client:
        not_followed = await client.get("http://api.test/moved")
        assert not_followed.status_code == 302
        followed = await client.get("http://api.test/moved", follow_redirects=True)
        assert followed.json() == {"path": "/here"}
    assert [r.url.path for r in seen] == ["/moved", "/moved", "/here"]


async def test_a_closed_client_sends_nothing() -> None:
    client = DirectAsyncClient(transport=recording_transport([]))
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("http://api.test/late")


def test_hooks_and_extra_transports_are_refused() -> None:
    with pytest.raises(ValueError, match="one transport"):
        DirectAsyncClient(transport=recording_transport([]), event_hooks={"request": []})
