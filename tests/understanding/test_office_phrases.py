"""An office adds its own phrases in a folder (MOTCUA_PHRASES_DIR), without touching code: the
bundled phrases stay, the office's count on top; a file it cannot read stops the start with
one line for the operator."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.composition import office_matcher
from bot.errors import OperatorError
from bot.messages import Incoming
from bot.settings import Settings, SettingsError, load_settings
from tests.support.runtime import open_memory_runtime

POSTAL = "có chuyển phát tận nhà không"


def settings(tmp_path: Path, phrases: Path | None) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        case_api_url="http://127.0.0.1:9",
        case_api_token=SecretStr("t"),
        phrases_dir=phrases,
    )


def office_folder(tmp_path: Path, vi: str) -> Path:
    folder = tmp_path / "phrases"
    folder.mkdir()
    (folder / "vi.toml").write_text(vi, "utf-8")
    return folder


async def say(config: Settings, text: str) -> str:
    async with open_memory_runtime(config) as runtime:
        await runtime.core(Incoming("console", "citizen", text="xin chào"))
        response = await runtime.core(Incoming("console", "citizen", text=text))
    return "\n".join(reply.text for reply in response.replies)


async def test_an_office_phrase_is_understood_and_the_bundled_ones_still_are(
    tmp_path: Path,
) -> None:
    bundled = settings(tmp_path, None)
    assert "chưa hiểu" in await say(bundled, POSTAL)

    folder = office_folder(tmp_path, '[intents.pickup]\nstrong = ["chuyển phát"]\n')
    own = settings(tmp_path, folder)
    assert "Kết quả được trả tại" in await say(own, POSTAL)
    assert "Lệ phí" in await say(own, "phải đóng bao nhiêu tiền")  # bundled, still there


def test_an_unreadable_office_file_is_one_line_for_the_operator(tmp_path: Path) -> None:
    folder = office_folder(tmp_path, "[intents.pickup\nstrong = [")
    with pytest.raises(OperatorError, match=r"MOTCUA_PHRASES_DIR: phrase file .*vi\.toml"):
        office_matcher(settings(tmp_path, folder))
    (folder / "vi.toml").write_text('[intents.nonsense]\nstrong = ["x"]\n', "utf-8")
    with pytest.raises(OperatorError, match="nonsense"):
        office_matcher(settings(tmp_path, folder))


def test_a_phrases_folder_that_does_not_exist_is_a_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_PHRASES_DIR", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="PHRASES_DIR"):
        load_settings()
