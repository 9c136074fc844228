"""The ``motcua simulator`` command: parsing, ``move`` against a running simulator, serving."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from bot.caseapi.simulator import RunningSimulator
from bot.caseapi.simulator.cli import add_parser, describe, request_move, resolve_token, resolve_url
from bot.domain.status import Status
from tests.support.servers import free_port


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="motcua")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["simulator", *argv])


def test_serve_options_and_defaults() -> None:
    args = parse()
    assert (args.host, args.port, args.seed, args.dossiers) == ("127.0.0.1", 8700, 1, 90_000)
    assert args.latency_ms == 0
    assert args.push_url is None
    assert args.advance_every is None
    assert args.simulator_action is None
    args = parse(
        "--port", "9000", "--seed", "4", "--dossiers", "500", "--latency-ms", "25",
        "--push-url", "http://127.0.0.1:1/hooks/case-events", "--push-secret", "s",
        "--advance-every", "2.5", "--token", "t",
    )  # fmt: skip
    assert (args.port, args.seed, args.dossiers, args.latency_ms) == (9000, 4, 500, 25.0)
    assert (args.advance_every, args.token) == (2.5, "t")


def test_move_arguments() -> None:
    args = parse("move", "000.00.15.H12-250618-0001", "ready", "--note", "Mời nhận kết quả")
    assert args.simulator_action == "move"
    assert (args.code, args.status, args.note) == (
        "000.00.15.H12-250618-0001",
        "ready",
        "Mời nhận kết quả",
    )
    with pytest.raises(SystemExit):
        parse("move", "000.00.15.H12-250618-0001", "finished")


def test_token_and_url_come_from_the_environment_then_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MOTCUA_CASE_API_TOKEN", raising=False)
    monkeypatch.delenv("MOTCUA_CASE_API_URL", raising=False)
    assert resolve_token(None) == "dev-token"
    assert resolve_url(None) == "http://127.0.0.1:8700"
    monkeypatch.setenv("MOTCUA_CASE_API_TOKEN", "from-env")
    monkeypatch.setenv("MOTCUA_CASE_API_URL", "http://10.0.0.5:9000/")
    assert resolve_token(None) == "from-env"
    assert resolve_url(None) == "http://10.0.0.5:9000"
    assert resolve_token("given") == "given"


async def test_move_command_moves_and_prints_one_line(
    sim: RunningSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code = sim.state.codes_in([Status.PROCESSING])[0]
    args = parse("move", code, "ready", "--url", sim.url, "--token", sim.token)
    assert await args.run(args) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith(f"{code}: ready (9) since ")
    dossier = sim.state.get(code)
    assert dossier is not None
    assert dossier.status is Status.READY
    assert dossier.applicant not in out


async def test_move_command_reports_a_refusal(
    sim: RunningSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code = sim.state.codes_in([Status.RETURNED])[0]
    args = parse("move", code, "processing", "--url", sim.url, "--token", sim.token)
    assert await args.run(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: HTTP 409 invalid_transition")
    args = parse(
        "move", "000.00.15.H12-991231-0001", "ready", "--url", sim.url, "--token", sim.token
    )
    assert await args.run(args) == 1
    assert "HTTP 404 not_found" in capsys.readouterr().err
    args = parse("move", code, "processing", "--url", sim.url, "--token", "wrong")
    assert await args.run(args) == 1
    assert "HTTP 401 unauthorized" in capsys.readouterr().err


async def test_move_command_reports_an_unreachable_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    args = parse("move", "000.00.15.H12-250618-0001", "ready", "--url", url)
    assert await args.run(args) == 1
    assert "cannot reach the simulator" in capsys.readouterr().err


async def test_request_move_extends_with_a_new_date(sim: RunningSimulator) -> None:
    dossier = sim.state.get(sim.state.codes_in([Status.PROCESSING])[0])
    assert dossier is not None
    assert dossier.due_at is not None
    later = dossier.due_at.replace(year=dossier.due_at.year + 1).isoformat()
    answer = await request_move(sim.url, sim.token, dossier.code, "processing", due_at=later)
    assert answer["due_at"] == later
    assert "xin lỗi" in describe(answer)


def test_serve_exits_cleanly_on_sigterm() -> None:
    port = free_port()
    env = {**os.environ, "MOTCUA_CASE_API_TOKEN": "cli-token"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.caseapi.simulator", "--port", str(port), "--dossiers", "800"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            for _ in range(300):
                try:
                    health = client.get("/healthz")
                    break
                except httpx.TransportError:
                    if process.poll() is not None:
                        pytest.fail(f"the simulator stopped: {process.communicate()}")
                    time.sleep(0.05)
            else:
                pytest.fail("the simulator did not start")
            assert health.json() == {"status": "ok", "dossiers": 800}
            denied = client.get("/v1/changes", headers={"Authorization": "Bearer dev-token"})
            assert denied.status_code == 401
            allowed = client.get("/v1/changes", headers={"Authorization": "Bearer cli-token"})
            assert allowed.status_code == 200
        process.send_signal(signal.SIGTERM)
        out, _err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "800 dossiers" in out
    assert f"serving http://127.0.0.1:{port}" in out


async def test_serve_refuses_a_push_url_without_secret(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("--push-url", "http://127.0.0.1:1/hook")
    assert await args.run(args) == 2
    assert "--push-secret" in capsys.readouterr().err
