"""`motcua run` as a real subprocess, for tests that kill it or measure its memory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx


@asynccontextmanager
async def bot_process(
    env: Mapping[str, str], port: int
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot run` with `env` (over this process's), healthy on `port` when the block
    starts; SIGTERM at the end if it still runs."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env={**os.environ, **env}, stdin=subprocess.DEVNULL
    )
    try:
        await _wait_healthy(process, port)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_healthy(process: asyncio.subprocess.Process, port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError(f"motcua run exited with {process.returncode}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("motcua run did not become healthy")
