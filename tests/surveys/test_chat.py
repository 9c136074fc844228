"""The survey in the terminal chat, over the real core and case API simulator.

On the in-memory twin of the storage, but for the tests marked ``sql``: `motcua index` reads
the answers from the database, and a restart finds the survey where it was in it.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

import pytest

from bot.composition import open_runtime
from bot.messages import Button
from bot.payloads import Action
from surveys import cli
from tests.surveys.conftest import SurveyWorld


async def _index_json(
    world: SurveyWorld, capsys: pytest.CaptureFixture[str], by: str
) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["index", "--by", by, "--format", "json"])
    capsys.readouterr()
    assert await args.run(args, world.settings) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


@pytest.mark.sql  # motcua index reads the database
async def test_a_full_survey_feeds_the_index(
    survey_world: SurveyWorld, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="surveys")
    citizen, code = await survey_world.owner_of_returned()
    screen = citizen.receives_invitation(code)
    assert "đã được trả kết quả" in screen
    assert "Rất hài lòng" in screen

    assert "không bao giờ lưu kèm tài khoản trò chuyện" in screen  # exactly what is stored
    assert "mã băm" in screen

    screen = await citizen.presses_label("Không hài lòng")
    assert "Rất tiếc" in screen and "Cảm ơn" not in screen  # a low rating is acknowledged
    assert "điều gì chưa tốt" in screen  # and asked about at once
    screen = await citizen.says("Phải chờ lâu ở quầy tiếp nhận")
    assert "Cảm ơn ông/bà đã cho biết" in screen
    assert "5 câu hỏi ngắn" in screen
    screen = await citizen.presses_label("Đồng ý")
    assert "câu 1/5" in screen  # numbered as the offer counts
    assert "hài lòng thế nào về sự thuận tiện khi nộp hồ sơ" in screen
    assert "1 = rất không hài lòng" in screen
    screen = await citizen.presses_label("4 ")
    assert "câu 2/5" in screen and "Rất tiếc" not in screen
    screen = await citizen.presses_label("2 ")
    assert "câu 3/5" in screen and "Rất tiếc" in screen
    for score in ("5", "3"):
        await citizen.presses_label(f"{score} ")
    screen = await citizen.presses_label("Bỏ qua")  # no feedback ever given
    assert "Cảm ơn ông/bà đã trả lời" in screen  # what went wrong was already asked
    assert "Phải chờ lâu" not in caplog.text  # comments never reach the logs

    report = await _index_json(survey_world, capsys, "agency")
    [group] = report["groups"]
    assert group["n"] == 1
    assert group["small_sample"] is True
    assert group["elements"]["access"]["index"] == 100.0
    assert group["elements"]["procedure"]["index"] == 0.0
    assert group["elements"]["feedback"] is None  # skipped: not a valid answer
    assert group["overall_index"] == 50.0  # mean of 100, 0, 100, 0
    assert group["mean_score"] == 3.5
    assert group["quick_rating"]["satisfied"] == 0
    assert group["quick_rating"]["valid"] == 1


@pytest.mark.sql  # motcua index reads the database
async def test_one_tap_is_an_answer_even_if_abandoned(
    survey_world: SurveyWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    citizen, code = await survey_world.owner_of_returned()
    citizen.receives_invitation(code)
    await citizen.presses_label("Rất hài lòng")
    await citizen.presses_label("Để khi khác")
    report = await _index_json(survey_world, capsys, "field")
    [group] = report["groups"]
    assert group["n"] == 1
    assert group["quick_rating"] == {
        "valid": 1,
        "satisfied": 1,
        "index": 100.0,
        "wilson_low": pytest.approx(20.65, abs=0.01),
        "wilson_high": 100.0,
    }
    assert group["overall_index"] is None


@pytest.mark.sql  # motcua index reads the database
async def test_back_changes_an_answer_and_required_questions_cannot_be_skipped(
    survey_world: SurveyWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    citizen, code = await survey_world.owner_of_returned()
    citizen.receives_invitation(code)
    await citizen.presses_label("Hài lòng")
    screen = await citizen.presses_label("Đồng ý")
    screen = await citizen.presses_label("1 ")
    assert "thủ tục hành chính mà ông/bà đã thực hiện" in screen
    screen = await citizen.presses_label("Quay lại")
    assert "thuận tiện khi nộp hồ sơ" in screen
    assert "Câu trả lời trước đó" in screen
    await citizen.presses_label("5 ")
    await citizen.presses_label("Dừng khảo sát")
    report = await _index_json(survey_world, capsys, "procedure")
    [group] = report["groups"]
    assert group["elements"]["access"] == {
        "valid": 1,
        "satisfied": 1,
        "index": 100.0,
        "wilson_low": pytest.approx(20.65, abs=0.01),
        "wilson_high": 100.0,
    }


async def test_stale_and_foreign_buttons_are_answered_politely(survey_world: SurveyWorld) -> None:
    citizen, code = await survey_world.owner_of_returned()
    citizen.receives_invitation(code)
    invitation = list(citizen.chat._buttons)
    await citizen.presses_label("Hài lòng")
    start = citizen.screen.tell()
    await citizen.chat.press(invitation[-1])  # the invitation's rating again: moved on
    assert "5 câu hỏi ngắn" in citizen.screen.getvalue()[start:]  # the current question

    stranger = survey_world.citizen("stranger")
    start = stranger.screen.tell()
    await stranger.chat.press(Button("x", f"sv:{code}:a1:0"))
    assert "Nút này đã hết hiệu lực" in stranger.screen.getvalue()[start:]
    start = stranger.screen.tell()
    await stranger.chat.press(Button("x", "sv:garbage"))
    assert "Nút này đã hết hiệu lực" in stranger.screen.getvalue()[start:]
    # The owner's survey is untouched.
    screen = await citizen.presses_label("Đồng ý")
    assert "thuận tiện khi nộp hồ sơ" in screen


async def test_an_unreturned_dossier_has_no_survey(survey_world: SurveyWorld) -> None:
    sample = survey_world.samples["ready"]
    citizen = survey_world.citizen()
    await citizen.says(sample.code)
    await citizen.presses(Action.VERIFY)
    await citizen.says(sample.pin)
    citizen.receives_invitation(sample.code)
    screen = await citizen.presses_label("Rất hài lòng")
    assert "sau khi ông/bà nhận kết quả" in screen


@pytest.mark.sql  # the new process finds the survey in the database
async def test_a_restart_in_the_middle_continues_the_survey(survey_world: SurveyWorld) -> None:
    citizen, code = await survey_world.owner_of_returned()
    citizen.receives_invitation(code)
    await citizen.presses_label("Hài lòng")
    await citizen.presses_label("Đồng ý")
    await citizen.presses_label("2 ")
    on_screen = list(citizen.chat._buttons)

    async with open_runtime(survey_world.settings) as second:
        survey_world.runtime = second
        again = survey_world.citizen()  # the same chat user, served by a new process
        again.chat._buttons = on_screen
        screen = await again.presses_label("3 ")
        assert "thái độ phục vụ của công chức" in screen
        for _ in range(3):
            await again.presses_label("Bỏ qua")
        screen = await again.says("x" * 1001)
        assert "1000 ký tự" in screen
        screen = await again.says("Cần hướng dẫn rõ hơn")
        assert "Cảm ơn ông/bà đã trả lời" in screen


async def test_comment_length_is_limited(survey_world: SurveyWorld) -> None:
    citizen, code = await survey_world.owner_of_returned()
    citizen.receives_invitation(code)
    screen = await citizen.presses_label("Không hài lòng")
    assert "điều gì chưa tốt" in screen
    screen = await citizen.says("ý" * 1500)
    assert "1500 ký tự" in screen
    screen = await citizen.says("Ngắn gọn thôi")
    assert "Cảm ơn" in screen
