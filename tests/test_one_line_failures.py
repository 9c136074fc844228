"""Every way an operator can get a setting or a command wrong ends in one line on stderr.

Each case runs the real ``motcua`` command (``python -m bot``) in a subprocess with a clean
``MOTCUA_*`` environment and asserts the exit status and that stderr is exactly one line
without a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import PostgresServer

ROOT = Path(__file__).resolve().parents[1]


def motcua(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``motcua ARGS`` with only the given MOTCUA_* variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line (asserting there is exactly one and no traceback)."""
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def data_dir(tmp_path: Path) -> dict[str, str]:
    return {"MOTCUA_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"MOTCUA_TELEGRAM_TOKEN": "1:x", "MOTCUA_TELEGRAM_WEBHOOK_SECRET": "bad secret!"},
            "MOTCUA_TELEGRAM_WEBHOOK_SECRET: must be 1-256 characters",
        ),
        ({"MOTCUA_LOG_LEVEL": "LOUD"}, "MOTCUA_LOG_LEVEL: must be one of DEBUG"),
        ({"MOTCUA_LOG_FORMAT": "xml"}, "MOTCUA_LOG_FORMAT: must be text or json"),
        (
            {
                "MOTCUA_TELEGRAM_TOKEN": "1:x",
                "MOTCUA_TELEGRAM_WEBHOOK_URL": "http://bot.example.vn/hooks/telegram",
                "MOTCUA_TELEGRAM_WEBHOOK_SECRET": "s3cret",
            },
            "Telegram only calls https:// webhooks",
        ),
        (
            {
                "MOTCUA_TELEGRAM_TOKEN": "1:x",
                "MOTCUA_TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/hooks/telegram",
            },
            "needs MOTCUA_TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            {"MOTCUA_TELEGRAM_WEBHOOK_URL": "https://bot.example.vn/hooks/telegram"},
            "MOTCUA_TELEGRAM_TOKEN is not",
        ),
        (
            {"MOTCUA_ZALO_APP_ID": "123", "MOTCUA_ZALO_OA_SECRET": "x"},
            "Zalo is half configured: MOTCUA_ZALO_APP_SECRET missing",
        ),
        (
            {"MOTCUA_CASE_API_TOKEN": "a", "MOTCUA_CASE_API_TOKEN_FILE": "/nonexistent"},
            "MOTCUA_CASE_API_TOKEN and MOTCUA_CASE_API_TOKEN_FILE are both set",
        ),
        (
            {"MOTCUA_TELEGRAM_TOKEN_FILE": "/nonexistent/token"},
            "MOTCUA_TELEGRAM_TOKEN_FILE: cannot read /nonexistent/token",
        ),
    ],
)
def test_a_bad_setting_stops_run_before_anything_happens(
    env: dict[str, str], expected: str, data_dir: dict[str, str], tmp_path: Path
) -> None:
    done = motcua("run", env={**data_dir, **env})
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith("motcua: bad setting: ") and expected in line
    assert not (tmp_path / "data").exists()  # no migration ran, no database was made


def test_a_local_bot_api_server_may_call_an_http_webhook() -> None:
    from bot.settings import load_settings

    settings = load_settings(
        telegram_token="1:x",
        telegram_api_url="http://127.0.0.1:8081",
        telegram_webhook_url="http://bot:8080/hooks/telegram",
        telegram_webhook_secret="s3cret",
    )
    assert settings.channels == ("telegram",)


def test_run_without_a_channel_says_which_settings_turn_one_on(
    data_dir: dict[str, str], tmp_path: Path
) -> None:
    done = motcua("run", env=data_dir)
    assert done.returncode == 2
    line = one_line(done)
    assert "no chat channel is configured" in line
    assert "MOTCUA_TELEGRAM_TOKEN" in line and "MOTCUA_ZALO_APP_ID" in line
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "command", [["outbox"], ["outbox", "--requeue-dead"], ["housekeep"], ["index"]]
)
def test_commands_on_a_database_never_created_say_to_upgrade_and_create_nothing(
    command: list[str], data_dir: dict[str, str], tmp_path: Path
) -> None:
    done = motcua(*command, env=data_dir)
    assert done.returncode == 1
    line = one_line(done)
    assert "run `motcua db upgrade`" in line and str(tmp_path / "data" / "motcua.db") in line
    assert not (tmp_path / "data").exists()


def test_commands_on_an_empty_database_say_to_upgrade(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "empty.db"
    sqlite3.connect(database).close()
    done = motcua("outbox", env={"MOTCUA_DATABASE_URL": f"sqlite:///{database}"})
    assert done.returncode == 1
    assert "has no tables yet: run `motcua db upgrade`" in one_line(done)
    upgraded = motcua("db", "upgrade", env={"MOTCUA_DATABASE_URL": f"sqlite:///{database}"})
    assert upgraded.returncode == 0, upgraded.stderr
    again = motcua("outbox", env={"MOTCUA_DATABASE_URL": f"sqlite:///{database}"})
    assert again.returncode == 0 and "Traceback" not in again.stderr


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_one_line_without_the_password(
    postgres_server: PostgresServer,
) -> None:
    name = f"motcua_missing_{uuid.uuid4().hex[:8]}"
    url = postgres_server.admin_url.set(database=name, password="hunter2")
    rendered = url.render_as_string(hide_password=False)
    for command in (["db", "upgrade"], ["outbox"]):
        done = motcua(*command, env={"MOTCUA_DATABASE_URL": rendered})
        assert done.returncode == 1
        line = one_line(done)
        assert f'database "{name}" does not exist' in line
        assert "hunter2" not in line and "***" in line


def test_an_unreachable_postgresql_server_is_one_line() -> None:
    url = "postgresql://motcua:hunter2@127.0.0.1:9/motcua"  # port 9 (discard): nobody listens
    done = motcua("db", "upgrade", env={"MOTCUA_DATABASE_URL": url})
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith("motcua: cannot open the database postgresql://motcua:***@127.0.0.1:9")
    assert "hunter2" not in line


def test_the_default_data_folder_does_not_depend_on_the_working_directory(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": ""}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = motcua("db", "upgrade", env=env, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    expected = home / ".local" / "share" / "motcua" / "motcua.db"
    assert str(expected) in done.stdout
    assert expected.exists()
    assert list(elsewhere.iterdir()) == []


def test_a_relative_data_folder_is_made_absolute(tmp_path: Path) -> None:
    done = motcua("db", "upgrade", env={"MOTCUA_DATA_DIR": "var"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"sqlite+aiosqlite:///{tmp_path / 'var' / 'motcua.db'}" in done.stdout


def test_secrets_are_read_from_files(tmp_path: Path) -> None:
    from bot.settings import SECRET_SETTINGS, load_settings

    token = tmp_path / "telegram_token"
    token.write_text("123:from-a-file\n")
    env = {"MOTCUA_TELEGRAM_TOKEN_FILE": str(token)}
    original = dict(os.environ)
    try:
        os.environ.update(env)
        settings = load_settings()
    finally:
        os.environ.clear()
        os.environ.update(original)
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "123:from-a-file"
    assert "telegram_token" in SECRET_SETTINGS and "database_url" in SECRET_SETTINGS


def test_version() -> None:
    from bot.version import version

    done = motcua("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"motcua {version()}"


def test_ctrl_d_at_the_token_prompt_ends_cleanly(data_dir: dict[str, str]) -> None:
    # Not a terminal: the tokens are read as lines; end of input gives no token.
    done = motcua("zalo", "install-tokens", env=data_dir, stdin="")
    assert done.returncode == 2
    assert "no token given" in one_line(done)


def test_ctrl_c_and_ctrl_d_at_a_prompt_end_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import cli
    from bot.channels.zalo import cli as zalo_cli

    for error in (KeyboardInterrupt, EOFError):

        def interrupted(_prompt: str = "", error: type[BaseException] = error) -> str:
            raise error

        monkeypatch.setattr(zalo_cli.sys.stdin, "isatty", lambda: True, raising=False)
        monkeypatch.setattr(zalo_cli.getpass, "getpass", interrupted)
        assert cli.main(["zalo", "install-tokens"]) == 130


def test_index_chart_without_matplotlib_names_the_extra(
    data_dir: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    # A module finder that refuses matplotlib, as if the charts extra were not installed.
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoCharts:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _NoCharts())\n"
    )
    upgraded = motcua("db", "upgrade", env=data_dir)
    assert upgraded.returncode == 0
    env = {**data_dir, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}
    done = motcua("index", "--chart", str(tmp_path / "chart.png"), env=env)
    assert done.returncode == 1
    assert "pip install 'motcua[charts]'" in one_line(done)
    assert not (tmp_path / "chart.png").exists()


def test_run_on_a_database_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    env = {
        "MOTCUA_TELEGRAM_TOKEN": "123:abc",
        "MOTCUA_DATABASE_URL": "postgresql://motcua:hunter2@127.0.0.1:9/motcua",
    }
    done = motcua("run", env=env)
    assert done.returncode == 1
    line = one_line(done)
    assert line.startswith("motcua: cannot open the database postgresql://motcua:***@")
    assert "hunter2" not in line
