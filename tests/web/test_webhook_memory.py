"""A real `motcua run` refuses huge unsigned webhook bodies without reading them into memory.

Each route is offered a 200 MB chunked body (no Content-Length) by a raw HTTP client that
keeps sending until the server answers; the server process's peak resident memory (VmHWM)
may grow by less than 64 MB over all of them, four at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.channels.zalo.signature import SIGNATURE_HEADER as ZALO_SIGNATURE
from bot.web.case_events import SIGNATURE_HEADER as CASE_SIGNATURE
from tests.support.bot_process import bot_process
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import free_port

OFFERED = 200 * 1024 * 1024
CHUNK = 1024 * 1024
MAX_GROWTH = 64 * 1024 * 1024
HOOK_SECRET = "hook-secret"
RESET = 0


def peak_rss(pid: int) -> int:
    """The process's peak resident set size (VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[int, int]]:
    """`motcua run` with the case-events, Zalo and Telegram webhooks configured: its port
    and process id."""
    fake = FakeTelegram()
    port = free_port()
    async with fake.serve():
        env = {
            "MOTCUA_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "MOTCUA_DATA_DIR": str(tmp_path),
            "MOTCUA_CASE_API_URL": f"http://127.0.0.1:{free_port()}",
            "MOTCUA_CASE_EVENTS_SECRET": "case-secret",
            "MOTCUA_ZALO_APP_ID": "app-1",
            "MOTCUA_ZALO_APP_SECRET": "app-secret",
            "MOTCUA_ZALO_OA_SECRET": "oa-secret",
            "MOTCUA_ZALO_API_URL": f"http://127.0.0.1:{free_port()}",
            "MOTCUA_TELEGRAM_TOKEN": fake.token,
            "MOTCUA_TELEGRAM_API_URL": fake.api_url,
            "MOTCUA_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/hooks/telegram",
            "MOTCUA_TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET,
            "MOTCUA_HTTP_PORT": str(port),
            "MOTCUA_LOG_LEVEL": "WARNING",
        }
        async with bot_process(env, port) as process:
            yield port, process.pid
            assert process.returncode is None, "the server survived"


async def offer_chunked(port: int, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """Send up to `OFFERED` bytes chunked until the server answers: (status, bytes sent).

    The status is `RESET` when the server closed the connection and the reset it causes (the
    body was not read) overtook its answer: TCP may drop an answer that way.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Transfer-Encoding: chunked"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    answer = asyncio.create_task(reader.readline())
    chunk = b"[" * CHUNK
    sent = 0
    try:
        while sent < OFFERED and not answer.done():
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            try:
                await writer.drain()
            except (ConnectionError, OSError):
                break
            sent += len(chunk)
        if sent >= OFFERED and not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        try:
            status_line = await asyncio.wait_for(answer, 60)
        except ConnectionResetError:
            return RESET, sent
    finally:
        writer.close()
    return int(status_line.split()[1]), sent


async def test_huge_unsigned_chunked_bodies_are_refused_without_growing_memory(
    server: tuple[int, int],
) -> None:
    port, pid = server
    # Warm up: one small refused request per route, so lazily built code is in memory.
    async with httpx.AsyncClient() as client:
        for path in ("/hooks/case-events", "/hooks/zalo", "/hooks/telegram"):
            await client.post(f"http://127.0.0.1:{port}{path}", content=b"{}")
    before = peak_rss(pid)

    offers = [
        ("/hooks/case-events", {}, 401),  # no signature: refused before reading
        ("/hooks/case-events", {CASE_SIGNATURE: "sha256=" + "0" * 64}, 413),  # read to the cap
        ("/hooks/zalo", {}, 403),
        ("/hooks/zalo", {ZALO_SIGNATURE: "mac=" + "0" * 64}, 413),
        ("/hooks/telegram", {}, 403),
        ("/hooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, 403),
        ("/hooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET}, 413),
        ("/hooks/case-events", {CASE_SIGNATURE: "sha256=" + "1" * 64}, 413),
    ]
    results: list[tuple[int, int]] = []
    for start in range(0, len(offers), 4):  # four at once
        batch = offers[start : start + 4]
        results += await asyncio.gather(
            *(offer_chunked(port, path, headers) for path, headers, _ in batch)
        )
    growth = peak_rss(pid) - before

    print(f"peak memory growth over {len(offers)} offers of 200 MB: {growth / 2**20:.1f} MB")
    print("answers (status, bytes sent):", results)
    for (status, sent), (path, _, expected) in zip(results, offers, strict=True):
        assert status in (expected, RESET), (path, status)
        assert sent < OFFERED, f"{path}: the server read the whole body"
    assert growth < MAX_GROWTH
