"""``motcua run`` end to end: the real wiring of channels, watcher, dispatcher and web server.

A citizen on the fake Telegram Bot API (polling and webhook) confirms a dossier with the
receipt's deep link; the dossier becomes ready in the case API simulator; the pickup notice
arrives in their chat, pushed through the watcher, the outbox and the dispatcher.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from bot.caseapi.simulator import run_simulator
from bot.composition import open_runtime
from bot.deeplink import make_payload
from bot.demo import fetch_samples
from bot.domain.status import Status
from bot.runner import serving
from bot.settings import load_settings
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import free_port

CITIZEN = 8801
SECRET = "run-test-deep-link-secret"


@pytest.fixture
def database_backend() -> str:
    return "sqlite"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_run_serves_a_citizen_and_pushes_the_pickup_notice(
    database_url: str, mode: str
) -> None:
    fake = FakeTelegram()
    port = free_port()
    async with (
        run_simulator(seed=3, dossiers=1500, token="sim") as sim,
        fake.serve(),
    ):
        sample = (await fetch_samples(sim.url, "sim"))["processing"]
        webhook = f"http://127.0.0.1:{port}/hooks/telegram" if mode == "webhook" else None
        settings = load_settings(
            database_url=database_url,
            case_api_url=sim.url,
            case_api_token=SecretStr("sim"),
            telegram_token=SecretStr(fake.token),
            telegram_api_url=fake.api_url,
            telegram_webhook_url=webhook,
            telegram_webhook_secret=SecretStr("hook-secret") if webhook else None,
            deep_link_secret=SecretStr(SECRET),
            http_port=port,
            poll_interval=0.3,
            quiet_hours="off",
        )
        async with open_runtime(settings) as runtime, serving(runtime) as channels:
            assert channels == ["telegram"]
            assert (fake.webhook_url is not None) == (mode == "webhook")
            async with httpx.AsyncClient() as client:
                health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.json()["status"] == "ok"

            await fake.send_text(CITIZEN, f"/start {make_payload(sample.code, SECRET)}")
            confirmed = await fake.wait_for_messages(CITIZEN, 1)
            assert any("Đã xác minh" in m.text for m in confirmed)
            await fake.send_text(CITIZEN, sample.code)
            await fake.wait_until(
                lambda: any("Tình trạng: Đang xử lý" in t for t in fake.texts(CITIZEN))
            )

            sim.state.move(sample.code, Status.READY, datetime.now(UTC))
            await fake.wait_until(
                lambda: any("nhận kết quả" in t.lower() for t in fake.texts(CITIZEN)[-1:]),
                within=10,
            )
            notice = fake.texts(CITIZEN)[-1]
            assert sample.code in notice
            assert "căn cước" in notice  # what to bring
