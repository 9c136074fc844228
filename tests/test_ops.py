"""What an operator watches: ``/metrics``, ``/healthz``, ``/readyz`` and the JSON logs.

The first test starts the real ``motcua run`` command in a subprocess (SQLite, the fake Bot
API in polling mode, the case API simulator), has a citizen look a dossier up and follow it,
moves the dossier to "ready", and reads what an operator would: the Prometheus text (it
parses; the counters moved after the lookup and after the push), the health endpoints and
every JSON log line (each parses; none carries the phone number, PIN or bot token).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from bot.caseapi.breaker import BreakerState
from bot.caseapi.simulator import run_simulator
from bot.deeplink import make_payload
from bot.demo import fetch_samples
from bot.domain.status import Status
from bot.ops.health import HealthChecks
from bot.ops.metrics import Metrics
from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade
from bot.storage.readiness import schema_status
from bot.version import version
from bot.web.ops import ops_routes
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
CITIZEN = 7701
SIM_TOKEN = "ops-sim-token"
LINK_SECRET = "ops-test-deep-link-secret"


def samples_of(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = frozenset((k, v) for k, v in sample.labels.items() if k != "process")
            found[(sample.name, labels)] = sample.value
    return found


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def wait_for(url: str, within: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                raise AssertionError(f"{url} did not answer")
            await asyncio.sleep(0.1)


async def test_motcua_run_serves_metrics_health_and_json_logs(tmp_path: Path) -> None:
    fake = FakeTelegram()
    port = free_port()
    log_file = tmp_path / "motcua.log"
    async with (
        run_simulator(seed=5, dossiers=800, token=SIM_TOKEN) as sim,
        fake.serve(),
    ):
        samples = await fetch_samples(sim.url, SIM_TOKEN)
        sample = samples["processing"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
        env.update(
            PYTHONPATH=str(ROOT),
            MOTCUA_DATA_DIR=str(tmp_path / "data"),
            MOTCUA_LOG_FORMAT="json",
            MOTCUA_LOG_LEVEL="DEBUG",
            MOTCUA_CASE_API_URL=sim.url,
            MOTCUA_CASE_API_TOKEN=SIM_TOKEN,
            MOTCUA_TELEGRAM_TOKEN=fake.token,
            MOTCUA_TELEGRAM_API_URL=fake.api_url,
            MOTCUA_DEEP_LINK_SECRET=LINK_SECRET,
            MOTCUA_HTTP_PORT=str(port),
            MOTCUA_POLL_INTERVAL="0.3",
            MOTCUA_QUIET_HOURS="off",
        )
        with log_file.open("w") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, stderr=log, stdout=log
            )
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_for(f"{base}/readyz")
            async with httpx.AsyncClient(base_url=base) as client:
                health = (await client.get("/healthz")).json()
                assert health == {"status": "ok", "version": version()}
                ready = (await client.get("/readyz")).json()
                assert ready["status"] == "ready" and ready["version"] == version()
                assert ready["case_api"] == {"breaker": "closed", "required": False}

                before = samples_of((await client.get("/metrics")).text)

                # A lookup: the citizen sends the code.
                await fake.send_text(CITIZEN, sample.code)
                await fake.wait_until(lambda: len(fake.texts(CITIZEN)) >= 1, within=20)
                # Follow it with the receipt's link, then share a phone number (never logged).
                await fake.send_text(CITIZEN, f"/start {make_payload(sample.code, LINK_SECRET)}")
                await fake.wait_until(
                    lambda: any("Đã xác minh" in t for t in fake.texts(CITIZEN)), within=20
                )
                await fake.share_contact(CITIZEN, sample.phone)
                after_lookup = samples_of((await client.get("/metrics")).text)

                # A push: the dossier becomes ready, the pickup notice arrives.
                sim.state.move(sample.code, Status.READY, datetime.now(UTC))
                await fake.wait_until(
                    lambda: any("nhận kết quả" in t.lower() for t in fake.texts(CITIZEN)),
                    within=30,
                )
                await asyncio.sleep(0.5)  # the outcome is counted as the send returns
                after_push = samples_of((await client.get("/metrics")).text)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                raise

    assert process.returncode == 0

    def moved(name: str, **labels: str) -> tuple[float, float]:
        return value(before, name, **labels), value(after_lookup, name, **labels)

    assert value(before, "motcua_build_info", version=version()) == 1.0
    was, now = moved("motcua_messages_total", channel="telegram", outcome="answered")
    assert now >= was + 2
    was, now = moved("motcua_lookups_total", result="found")
    assert now >= was + 1
    count = "motcua_case_api_request_seconds_count"
    was, now = moved(count, client="chat", call="get_dossier", outcome="ok")
    assert now >= was + 1
    assert (
        value(
            after_lookup, "motcua_case_api_breaker", client="chat", motcua_case_api_breaker="closed"
        )
        == 1.0
    )
    assert value(after_lookup, "motcua_watcher_leader") == 1.0
    assert 0 <= value(after_lookup, "motcua_watcher_lag_seconds") < 30

    sent_before = value(after_lookup, "motcua_sends_total", channel="telegram", result="sent")
    sent_after = value(after_push, "motcua_sends_total", channel="telegram", result="sent")
    assert sent_after >= sent_before + 1
    assert value(after_push, "motcua_outbox_notices", state="sent") >= 1
    assert ("motcua_outbox_oldest_waiting_age_seconds", frozenset()) in after_push
    assert ("motcua_surveys_answered", frozenset()) in after_push

    lines = [line for line in log_file.read_text().splitlines() if line.strip()]
    assert lines, "motcua run logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
    assert any(entry["logger"].startswith("uvicorn") for entry in entries)
    assert any("user_id" in entry and entry.get("channel") == "telegram" for entry in entries)
    everything = log_file.read_text()
    digits = sample.phone.lstrip("+").removeprefix("84").lstrip("0")
    assert digits not in everything
    assert sample.pin not in everything
    assert fake.token not in everything and fake.token.split(":")[1] not in everything


async def test_readyz_fails_before_the_migrations_and_passes_after(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ready.db'}"
    engine = create_engine(url)
    try:
        health = HealthChecks(schema=lambda: schema_status(engine))
        app = Starlette(routes=ops_routes(health, Metrics(process="test")))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            before = await client.get("/readyz")
            assert before.status_code == 503
            assert before.json()["database"]["status"] == "migrations pending"
            assert before.json()["version"] == version()
            assert (await client.get("/healthz")).status_code == 200  # alive all the same

            await upgrade(url)
            after = await client.get("/readyz")
            assert after.status_code == 200
            body = after.json()
            assert body["status"] == "ready"
            assert body["database"]["revision"] == body["database"]["head"]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("required", [False, True])
async def test_an_open_breaker_fails_readiness_only_when_the_operator_asks(
    tmp_path: Path, required: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'breaker.db'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        health = HealthChecks(
            schema=lambda: schema_status(engine),
            breaker_state=lambda: BreakerState.OPEN.value,
            require_case_api=required,
        )
        ready, body = await health.readiness()
    finally:
        await engine.dispose()
    assert body["case_api"] == {"breaker": "open", "required": required}
    assert ready is (not required)


async def test_readyz_says_the_database_is_down() -> None:
    async def unreachable() -> object:
        raise OSError("connection refused")

    health = HealthChecks(schema=unreachable)  # type: ignore[arg-type]
    ready, body = await health.readiness()
    assert not ready
    assert body["database"] == {"status": "down", "error": "OSError"}
