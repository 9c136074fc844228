"""The OA token pair: seeded from the settings, refreshed once however many processes race."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from subprocess import CompletedProcess

import pytest

from bot.channels.zalo import TokenStore, ZaloApi
from bot.channels.zalo.errors import ZaloAuthError
from bot.storage.engine import DatabaseEngine, create_engine
from bot.storage.uow import SqlUnitOfWorkFactory
from tests.support.fake_zalo import APP_ID, APP_SECRET, FakeZalo, run_fake_zalo


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.current = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with run_fake_zalo() as fake:
        yield fake


class Process:
    """What one bot process has: its own engine, API client and token store."""

    def __init__(self, database_url: str, zalo: FakeZalo, clock: Clock) -> None:
        self.engine = create_engine(database_url)
        self.api = ZaloApi(
            api_url=zalo.url, oauth_url=zalo.url, zns_url=zalo.url,
            app_id=APP_ID, app_secret=APP_SECRET,
        )  # fmt: skip
        self.tokens = TokenStore(
            SqlUnitOfWorkFactory(self.engine, clock),
            self.api,
            clock,
            initial_access="access-0",
            initial_refresh="refresh-0",
        )

    async def close(self) -> None:
        await self.api.aclose()
        await self.engine.dispose()


@pytest.fixture
async def processes(database_url: str, zalo: FakeZalo) -> AsyncIterator[list[Process]]:
    clock = Clock()
    started = [Process(database_url, zalo, clock) for _ in range(3)]
    try:
        yield started
    finally:
        for process in started:
            await process.close()


async def _stored(engine: DatabaseEngine) -> tuple[str, str, int]:
    async with SqlUnitOfWorkFactory(engine)() as uow:
        tokens = await uow.zalo_tokens.get()
    assert tokens is not None
    return tokens.access_token, tokens.refresh_token, tokens.version


async def test_the_settings_seed_an_empty_table(processes: list[Process]) -> None:
    assert await processes[0].tokens.access_token() == "access-0"
    assert await _stored(processes[0].engine) == ("access-0", "refresh-0", 0)


async def test_processes_racing_to_refresh_spend_the_refresh_token_once(
    processes: list[Process], zalo: FakeZalo
) -> None:
    for process in processes:
        assert await process.tokens.access_token() == "access-0"
    zalo.expire_access_token()
    zalo.refresh_delay = 0.2  # widen the window in which the others arrive

    results = await asyncio.gather(
        *(process.tokens.refresh("access-0") for process in processes for _ in range(3))
    )

    assert zalo.refreshes == 1
    assert zalo.refused_refreshes == 0
    assert set(results) == {zalo.access_token}
    assert await _stored(processes[0].engine) == (zalo.access_token, zalo.refresh_token, 1)


async def test_a_process_with_an_old_token_takes_the_one_another_process_stored(
    processes: list[Process], zalo: FakeZalo
) -> None:
    first, second = processes[0], processes[1]
    assert await second.tokens.access_token() == "access-0"  # cached in the second process
    renewed = await first.tokens.refresh("access-0")
    # The second still holds access-0, Zalo refuses it, it asks for a refresh:
    assert await second.tokens.refresh("access-0") == renewed
    assert zalo.refreshes == 1


async def test_a_token_about_to_expire_is_refreshed_before_use(
    database_url: str, zalo: FakeZalo
) -> None:
    clock = Clock()
    process = Process(database_url, zalo, clock)
    try:
        first = await process.tokens.refresh("access-0")  # known lifetime: 25 hours
        clock.current += timedelta(hours=24)
        assert await process.tokens.access_token() == first
        clock.current += timedelta(minutes=45)  # within the 30-minute margin
        second = await process.tokens.access_token()
        assert second != first
        assert zalo.refreshes == 2
    finally:
        await process.close()


async def test_a_refused_refresh_token_is_an_auth_error(
    processes: list[Process], zalo: FakeZalo
) -> None:
    assert await processes[0].tokens.access_token() == "access-0"
    zalo.refresh_token = "issued-elsewhere"
    with pytest.raises(ZaloAuthError):
        await processes[0].tokens.refresh("access-0")
    assert await _stored(processes[0].engine) == ("access-0", "refresh-0", 0)


async def test_a_new_pair_can_be_installed(processes: list[Process], zalo: FakeZalo) -> None:
    await processes[0].tokens.install("access-new", "refresh-new")
    assert await processes[0].tokens.access_token() == "access-new"
    assert await _stored(processes[0].engine) == ("access-new", "refresh-new", 1)


async def test_no_tokens_at_all_is_an_auth_error(database_url: str, zalo: FakeZalo) -> None:
    engine = create_engine(database_url)
    api = ZaloApi(
        api_url=zalo.url, oauth_url=zalo.url, zns_url=zalo.url, app_id=APP_ID, app_secret="x"
    )
    try:
        with pytest.raises(ZaloAuthError):
            await TokenStore(SqlUnitOfWorkFactory(engine), api, Clock()).access_token()
    finally:
        await api.aclose()
        await engine.dispose()


def _install_command(database_url: str, typed: str, **tokens: str) -> CompletedProcess[str]:
    """``motcua zalo install-tokens`` in its own process, tokens from `tokens` or stdin."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MOTCUA_")}
    env.update(MOTCUA_DATABASE_URL=database_url, **tokens)
    return subprocess.run(
        [sys.executable, "-m", "bot", "zalo", "install-tokens"],
        input=typed,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_install_command_replaces_the_pair_for_running_processes(
    processes: list[Process], database_url: str
) -> None:
    assert await processes[0].tokens.access_token() == "access-0"
    done = await asyncio.to_thread(
        _install_command,
        database_url,
        "",
        MOTCUA_ZALO_ACCESS_TOKEN="access-new",
        MOTCUA_ZALO_REFRESH_TOKEN="refresh-new",
    )
    assert done.returncode == 0, done.stderr
    assert "rotation 1" in done.stdout
    assert "access-new" not in done.stdout + done.stderr
    assert await _stored(processes[0].engine) == ("access-new", "refresh-new", 1)
    # Zalo refuses the old token: the process takes the installed pair, spending no refresh.
    assert await processes[0].tokens.refresh("access-0") == "access-new"
    assert await _stored(processes[0].engine) == ("access-new", "refresh-new", 1)

    typed = await asyncio.to_thread(_install_command, database_url, "access-typed\nrefresh-typed\n")
    assert typed.returncode == 0, typed.stderr
    assert "rotation 2" in typed.stdout
    assert await _stored(processes[0].engine) == ("access-typed", "refresh-typed", 2)


async def test_the_install_command_without_tokens_says_what_to_do(database_url: str) -> None:
    done = await asyncio.to_thread(_install_command, database_url, "")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "MOTCUA_ZALO_ACCESS_TOKEN" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
