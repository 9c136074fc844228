"""``motcua run`` end to end: the real wiring of channels, watcher, dispatcher and web server.

A citizen on the fake Telegram Bot API (polling and webhook) confirms a dossier with the
receipt's deep link; the dossier becomes ready in the case API simulator; the pickup notice
arrives in their chat, pushed through the watcher, the outbox and the dispatcher.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from bot.deeplink import make_payload
from bot.domain.status import Status
from tests.support.running import running_bot

CITIZEN = 8801
SECRET = "run-test-deep-link-secret"


@pytest.fixture
def database_backend() -> str:
    return "sqlite"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_run_serves_a_citizen_and_pushes_the_pickup_notice(
    database_url: str, mode: str
) -> None:
    async with running_bot(database_url, mode, deep_link_secret=SECRET) as bot:
        fake, sample = bot.fake, bot.samples["processing"]
        assert (fake.webhook_url is not None) == (mode == "webhook")
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{bot.port}/healthz")
        assert health.json()["status"] == "ok"

        await fake.send_text(CITIZEN, f"/start {make_payload(sample.code, SECRET)}")
        confirmed = await fake.wait_for_messages(CITIZEN, 1)
        assert any("Đã xác minh" in m.text for m in confirmed)
        await fake.send_text(CITIZEN, sample.code)
        await fake.wait_until(
            lambda: any("Tình trạng: Đang xử lý" in t for t in fake.texts(CITIZEN))
        )

        bot.simulator.state.move(sample.code, Status.READY, datetime.now(UTC))
        await fake.wait_until(
            lambda: any("nhận kết quả" in t.lower() for t in fake.texts(CITIZEN)[-1:]),
            within=10,
        )
        notice = fake.texts(CITIZEN)[-1]
        assert sample.code in notice
        assert "căn cước" in notice  # what to bring
