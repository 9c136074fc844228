"""The deployment files: compose.yaml, the Dockerfile, the Caddyfile, the systemd unit.

There is no Docker daemon here, so what can be checked without one is: the compose file
against the Compose specification's JSON schema (as vendored by check-jsonschema), the
services, volumes and secrets docs/deploy.md describes; the Dockerfile with hadolint; the
image's entrypoint and health check run outside a container, with the image's environment
and the secrets as files; the systemd unit with ``systemd-analyze verify``; and every
``MOTCUA_*`` variable these files set is a real setting.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.caseapi.simulator import run_simulator
from bot.settings import SECRET_SETTINGS, Settings, env_name
from tests.support.fake_telegram import FakeTelegram
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
SIM_TOKEN = "deploy-sim-token"


def known_variable(name: str) -> bool:
    """Whether `name` is a motcua setting (or the file form of a secret)."""
    fields = {env_name(field) for field in Settings.model_fields}
    files_ = {f"{env_name(field)}_FILE" for field in SECRET_SETTINGS}
    return name in fields or name in files_ or name.startswith("MOTCUA_ZNS_TEMPLATE_")


def require_tool(name: str) -> str:
    """The path of a command-line tool the test extras install; CI must have it."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (pip install -e '.[test]')", pytrace=False)
        pytest.skip(f"{name} is not installed")
    return found


# --------------------------------------------------------------------------- compose.yaml


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_file_is_valid_against_the_compose_schema(compose: dict[str, Any]) -> None:
    schema_file = files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: e.json_path)
    assert [f"{e.json_path}: {e.message}" for e in errors] == []
    # The schema really rejects a wrong file (so the check above means something).
    broken = {**compose, "services": {"motcua": {"image": "motcua", "replica": 2}}}
    assert list(validator_class(schema).iter_errors(broken))


def test_compose_names_the_services_volumes_and_secrets_of_the_guide(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "motcua", "caddy"}
    assert set(compose["volumes"]) == {"postgres-data", "motcua-data", "caddy-data", "caddy-config"}

    bot = services["motcua"]
    assert bot["command"] == ["run"]
    assert bot["deploy"]["replicas"] == 2
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "motcua-data:/var/lib/motcua" in bot["volumes"]
    assert "caddy-data:/data" in services["caddy"]["volumes"]

    env = bot["environment"]
    # Webhook mode, over HTTPS, with its secret: several replicas cannot long-poll.
    assert env["MOTCUA_TELEGRAM_WEBHOOK_URL"].startswith("https://")
    assert env["MOTCUA_TELEGRAM_WEBHOOK_SECRET_FILE"].startswith("/run/secrets/")
    assert env["MOTCUA_HTTP_HOST"] == "0.0.0.0"
    assert all(known_variable(name) for name in env), sorted(env)
    # Secrets only through files: no secret's plain variable is set.
    assert not any(env_name(name) in env for name in SECRET_SETTINGS)
    for name, value in env.items():
        if name.endswith("_FILE"):
            secret = value.removeprefix("/run/secrets/")
            assert secret in bot["secrets"] and secret in compose["secrets"]
    assert "postgres_password" in services["postgres"]["secrets"]
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_the_caddyfile_serves_only_the_webhooks_over_https() -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "{$MOTCUA_DOMAIN} {" in caddyfile  # a site address: automatic HTTPS
    assert "handle /hooks/*" in caddyfile
    assert "dynamic a motcua 8080" in caddyfile
    assert "respond 404" in caddyfile  # /metrics and /readyz are not public


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's final stage, continuations joined."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, rest = stripped.partition(" ")
        if keyword.upper() == "FROM":
            instructions = []  # a new stage
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def exec_form(arguments: str) -> list[str]:
    parsed = json.loads(arguments)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


def image_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = require_tool("hadolint")
    done = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_runs_motcua_as_an_unprivileged_user_with_a_healthcheck() -> None:
    instructions = dict(dockerfile_instructions())
    assert instructions["FROM"].startswith("python:3.11-slim")
    assert instructions["USER"] not in ("root", "0", "0:0")
    assert exec_form(instructions["ENTRYPOINT"]) == ["motcua"]
    assert exec_form(instructions["CMD"]) == ["run"]
    assert instructions["HEALTHCHECK"].split("CMD", 1)[1].strip() == '["motcua", "healthcheck"]'
    env = image_environment()
    assert env["MOTCUA_DATA_DIR"] == "/var/lib/motcua"
    assert all(known_variable(name) for name in env if name.startswith("MOTCUA_"))
    build = (ROOT / "Dockerfile").read_text()
    assert '".[postgres]"' in build  # the PostgreSQL driver is in the image


async def _run_until(command: list[str], env: dict[str, str], *, within: float) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode == 0:
            return out.decode()
        if loop.time() > deadline:
            raise AssertionError(f"{command} kept failing: {err.decode()}")
        await asyncio.sleep(0.3)


def _motcua_command() -> list[str]:
    # The image's entrypoint is the `motcua` script; here the one on PATH, else the module.
    script = shutil.which("motcua")
    return [script] if script else [sys.executable, "-m", "bot"]


async def test_the_image_entrypoint_serves_and_its_healthcheck_passes(tmp_path: Path) -> None:
    """`motcua run` with the image's environment, secrets as files, outside a container."""
    instructions = dict(dockerfile_instructions())
    entry = exec_form(instructions["ENTRYPOINT"]) + exec_form(instructions["CMD"])
    check = exec_form(instructions["HEALTHCHECK"].split("CMD", 1)[1].strip())
    motcua = _motcua_command()
    fake = FakeTelegram()
    port = free_port()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    async with run_simulator(seed=9, dossiers=300, token=SIM_TOKEN) as sim, fake.serve():
        (secrets / "case_api_token").write_text(SIM_TOKEN + "\n")
        (secrets / "telegram_token").write_text(fake.token + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
        env.update({k: v for k, v in image_environment().items() if k.startswith("MOTCUA_")})
        env.update(
            PYTHONPATH=str(ROOT),
            MOTCUA_DATA_DIR=str(tmp_path / "var-lib-motcua"),  # the image's volume
            MOTCUA_HTTP_PORT=str(port),
            MOTCUA_CASE_API_URL=sim.url,
            MOTCUA_CASE_API_TOKEN_FILE=str(secrets / "case_api_token"),
            MOTCUA_TELEGRAM_TOKEN_FILE=str(secrets / "telegram_token"),
            MOTCUA_TELEGRAM_API_URL=fake.api_url,
        )
        assert env["MOTCUA_HTTP_HOST"] == "0.0.0.0"
        process = await asyncio.create_subprocess_exec(
            *motcua,
            *entry[1:],
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            health = await _run_until([*motcua, *check[1:]], env, within=60)
            assert json.loads(health)["status"] == "ok"
            ready = await _run_until([*motcua, *check[1:], "--ready"], env, within=30)
            assert json.loads(ready)["status"] == "ready"
            assert (tmp_path / "var-lib-motcua" / "motcua.db").exists()
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()[-2000:]
    for line in err.decode().splitlines():  # the image logs JSON
        json.loads(line)
    assert fake.token not in err.decode()


async def test_the_healthcheck_fails_in_one_line_when_nothing_listens(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(PYTHONPATH=str(ROOT), MOTCUA_HTTP_PORT=str(free_port()))
    done = await asyncio.to_thread(
        subprocess.run,
        [*_motcua_command(), "healthcheck", "--timeout", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no answer" in lines[0] and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- systemd


def unit_entries(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) of a systemd unit, repeated keys kept."""
    section, entries = "", []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def test_the_systemd_unit_runs_motcua_with_its_environment_file() -> None:
    unit = ROOT / "deploy" / "motcua.service"
    entries = unit_entries(unit)
    service = {(k, v) for s, k, v in entries if s == "Service"}
    assert ("ExecStart", "/opt/motcua/bin/motcua run") in service
    assert ("ExecStartPre", "/opt/motcua/bin/motcua db upgrade") in service
    assert ("EnvironmentFile", "/etc/motcua/motcua.env") in service
    assert ("User", "motcua") in service and ("KillSignal", "SIGTERM") in service
    for _, key, value in entries:
        if key == "Environment":
            name = value.partition("=")[0]
            assert known_variable(name), name
        if key == "LoadCredential":
            credential = value.partition(":")[0]
            assert f"%d/{credential}" in unit.read_text()

    example = ROOT / "deploy" / "motcua.env.example"
    names = []
    for raw in example.read_text().splitlines():
        line = raw.strip().lstrip("#")
        if re.match(r"^MOTCUA_[A-Z0-9_]+=", line):
            names.append(line.partition("=")[0])
    assert names and all(known_variable(name) for name in names), names
    assert not any(name in [env_name(s) for s in SECRET_SETTINGS] for name in names)


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    # systemd is not a Python package: where it is missing, the structural test above stands.
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    script = shutil.which("motcua") or sys.executable
    text = (ROOT / "deploy" / "motcua.service").read_text()
    unit = tmp_path / "motcua.service"
    unit.write_text(text.replace("/opt/motcua/bin/motcua", script))
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if str(unit) in line or "motcua.service" in line
    ]
    assert done.returncode == 0 and complaints == [], done.stdout + done.stderr
