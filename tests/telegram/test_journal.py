"""No acknowledged chat update is lost when the process is killed, and none is answered twice.

A real `motcua run` (a subprocess) serves Telegram against the fake Bot API, with the case
API simulator answering slowly so that thirty lookups are in flight; once Telegram has been
told it has them (the next getUpdates offset, or the webhook's 200) the process gets SIGKILL,
as from the out-of-memory killer. The restarted process answers all thirty, each once.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from bot.caseapi.simulator import run_simulator
from bot.channels.telegram import SECRET_HEADER
from bot.demo import fetch_samples
from tests.support.bot_process import bot_process
from tests.support.fake_telegram import FakeTelegram
from tests.support.running import running_bot
from tests.support.servers import free_port

IN_FLIGHT = 30
FIRST_USER = 880_000
CASE_API_LATENCY = 4.0  # seconds: the lookups are still waiting when the process is killed
HOOK_SECRET = "journal-hook-secret"


async def _killed_with_updates_in_flight(database_url: str, mode: str) -> None:
    fake = FakeTelegram()
    port = free_port()
    users = range(FIRST_USER, FIRST_USER + IN_FLIGHT)
    async with (
        run_simulator(seed=5, dossiers=1500, token="sim", latency=CASE_API_LATENCY) as sim,
        fake.serve(),
    ):
        code = (await fetch_samples(sim.url, "sim"))["processing"].code
        env = {
            "MOTCUA_DATABASE_URL": database_url,
            "MOTCUA_CASE_API_URL": sim.url,
            "MOTCUA_CASE_API_TOKEN": "sim",
            "MOTCUA_CASE_API_CHAT_TIMEOUT": "20",
            "MOTCUA_TELEGRAM_TOKEN": fake.token,
            "MOTCUA_TELEGRAM_API_URL": fake.api_url,
            "MOTCUA_HTTP_PORT": str(port),
            "MOTCUA_INBOUND_LEASE": "2",
            "MOTCUA_POLL_INTERVAL": "600",
            "MOTCUA_LOG_LEVEL": "WARNING",
        }
        if mode == "webhook":
            env["MOTCUA_TELEGRAM_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/hooks/telegram"
            env["MOTCUA_TELEGRAM_WEBHOOK_SECRET"] = HOOK_SECRET

        async with bot_process(env, port) as first:
            await asyncio.gather(*(fake.send_text(user, code) for user in users))
            if mode == "polling":
                async with asyncio.timeout(30):
                    while fake.unconfirmed:  # noqa: ASYNC110 - the fake offers a counter
                        await asyncio.sleep(0.01)
            else:
                assert fake.webhook_statuses[-IN_FLIGHT:] == [200] * IN_FLIGHT
            first.send_signal(signal.SIGKILL)
            await first.wait()
        answered_before = {user for user in users if fake.messages(user)}
        assert answered_before == set(), [fake.texts(u) for u in answered_before]

        async with bot_process(env, port):
            await fake.wait_until(lambda: all(fake.messages(user) for user in users), within=90)
            await asyncio.sleep(CASE_API_LATENCY + 1)  # time for any second answer to arrive
        counts = {user: len(fake.messages(user)) for user in users}
    assert counts == dict.fromkeys(users, 1)
    assert all(code in fake.texts(user)[0] for user in users)


async def test_polling_killed_with_updates_in_flight_answers_all_after_restart(
    database_url: str,
) -> None:
    await _killed_with_updates_in_flight(database_url, "polling")


async def test_webhook_killed_with_updates_in_flight_answers_all_after_restart(
    tmp_path: Path,
) -> None:
    await _killed_with_updates_in_flight(f"sqlite:///{tmp_path / 'bot.db'}", "webhook")


@pytest.mark.parametrize("mode", ["webhook"])
async def test_a_repeated_update_id_is_answered_once(database_url: str, mode: str) -> None:
    async with running_bot(database_url, mode, deep_link_secret="s") as bot:
        fake = bot.fake
        assert fake.webhook_url is not None and fake.webhook_secret is not None
        update = {
            "update_id": 777_001,
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": 5150, "type": "private", "first_name": "A"},
                "from": {"id": 5150, "is_bot": False, "first_name": "A", "language_code": "vi"},
                "text": bot.samples["processing"].code,
            },
        }
        headers = {SECRET_HEADER: fake.webhook_secret}
        async with httpx.AsyncClient() as client:
            statuses = [
                (await client.post(fake.webhook_url, json=update, headers=headers)).status_code
                for _ in range(3)
            ]
        await fake.wait_for_messages(5150, 1)
        await asyncio.sleep(1.0)  # a second answer would have come by now
        assert statuses == [200, 200, 200]
        assert len(fake.messages(5150)) == 1
