"""The survey on Telegram, end to end: the real python-telegram-bot client against the fake
Bot API, with the real core, storage (SQLite), watcher, outbox, dispatcher and case API
simulator, wired by ``motcua run``'s `serving`.

A citizen verifies a dossier with the receipt's deep link; the dossier is handed over in the
simulator; the watcher queues the survey invitation and the dispatcher delivers it to their
chat; they answer by pressing buttons; ``motcua index`` shows their answers.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.deeplink import make_payload
from bot.domain.status import Status
from bot.settings import Settings
from surveys import cli
from tests.support.fake_telegram import FakeTelegram, SentMessage
from tests.support.running import running_bot

CITIZEN = 5501
SECRET = "survey-telegram-deep-link-secret"
CALLBACK_DATA_LIMIT = 64  # bytes, the Bot API's limit for an inline button's callback_data


@pytest.fixture
def database_backend() -> str:
    """Storage runs on both databases in its own tests; the channel needs only one."""
    return "sqlite"


async def _press(fake: FakeTelegram, message: SentMessage, label: str) -> tuple[SentMessage, str]:
    """Press the button labelled `label` under `message`, as the citizen would.

    Returns the message the bot changed (or the new one it sent) and the short notice the
    citizen saw at the top of the chat (the callback query's answer).
    """
    data = message.payload_of(label)
    before = len(fake.messages(CITIZEN))
    answered = len(fake.callback_answers)
    edits = len(message.edits)
    await fake.press_button(CITIZEN, message, data)
    await fake.wait_until(
        lambda: (
            len(fake.callback_answers) > answered
            and (len(fake.messages(CITIZEN)) > before or len(message.edits) > edits)
        )
    )
    notice = str(fake.callback_answers[answered].get("text") or "")
    messages = fake.messages(CITIZEN)
    return (messages[-1] if len(messages) > before else message), notice


def _invitations(fake: FakeTelegram) -> list[SentMessage]:
    """The survey invitations in the citizen's chat: the thanks with the rating buttons."""
    return [m for m in fake.messages(CITIZEN) if m.buttons and "đã được trả kết quả" in m.text]


def _assert_buttons_fit(message: SentMessage) -> None:
    for row in message.buttons:
        for label, data in row:
            assert data, f"button {label!r} has no callback data"
            assert len(data.encode()) <= CALLBACK_DATA_LIMIT, data


async def _index_json(settings: Settings, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["index", "--by", "agency", "--format", "json"])
    capsys.readouterr()
    assert await args.run(args, settings) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_survey_on_telegram_feeds_the_index(
    database_url: str, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_bot(
        database_url, mode, deep_link_secret=SECRET, seed=11, dossiers=2000, survey_delay=0
    ) as bot:
        fake, sim, runtime, settings = bot.fake, bot.simulator, bot.runtime, bot.settings
        sample = bot.samples["ready"]
        agency = (await runtime.case_api.get_dossier(sample.code)).agency

        # The citizen scans the receipt's QR code: verified and subscribed in one tap.
        await fake.send_text(CITIZEN, f"/start {make_payload(sample.code, SECRET)}")
        await fake.wait_until(lambda: any("Đã xác minh" in t for t in fake.texts(CITIZEN)))

        # The result is handed over at the counter; the watcher sees it and the
        # dispatcher delivers the invitation (survey_delay 0, no quiet hours).
        sim.state.move(sample.code, Status.RETURNED, datetime.now(UTC))
        # Generous: the invitation waits for the dispatcher's next claim, slow on a busy machine.
        await fake.wait_until(lambda: bool(_invitations(fake)), within=30)
        [invitation] = _invitations(fake)
        assert sample.code in invitation.text
        assert [label for [(label, _)] in invitation.buttons] == [
            "😄 Rất hài lòng",
            "🙂 Hài lòng",
            "🙁 Không hài lòng",
        ]
        _assert_buttons_fit(invitation)

        # One tap on the rating is the first answer; the offer of five more questions
        # comes as a new message, and the invitation stays as it was.
        survey, notice = await _press(fake, invitation, "🙂 Hài lòng")
        assert survey is not invitation
        assert "5 câu hỏi ngắn" in survey.text
        assert "Đã ghi nhận" in notice
        assert not invitation.edits

        # The questions follow one another in that message, edited in place.
        shown, _notice = await _press(fake, survey, "Đồng ý")
        assert shown is survey
        asked = []
        for element, score in (
            ("thuận tiện khi nộp hồ sơ", 5),
            ("thủ tục hành chính", 4),
            ("thái độ phục vụ của công chức", 2),
            ("kết quả giải quyết hồ sơ", 4),
            ("góp ý, phản ánh", 5),
        ):
            assert element in survey.text
            assert "1 = rất không hài lòng" in survey.text
            _assert_buttons_fit(survey)
            asked.append(survey.text)
            shown, notice = await _press(fake, survey, f"{score} ")
            assert shown is survey
            assert "Đã ghi nhận" in notice
        assert len(set(asked)) == 5

        # A low score asks for a comment; the citizen skips it and is thanked.
        assert "điều gì chưa tốt, để cơ quan cải thiện" in survey.text
        shown, _notice = await _press(fake, survey, "Bỏ qua")
        assert shown is survey
        assert "Cảm ơn ông/bà đã trả lời" in survey.text
        assert not survey.buttons

        # Pressing an old button of the finished survey changes nothing.
        answers = len(fake.callback_answers)
        sent = len(fake.messages(CITIZEN))
        await fake.press_button(CITIZEN, invitation, invitation.payload_of("Rất hài lòng"))
        await fake.wait_until(lambda: len(fake.callback_answers) > answers)
        assert "đã được trả lời" in str(fake.callback_answers[-1].get("text"))
        assert len(fake.messages(CITIZEN)) == sent

        report = await _index_json(settings, capsys)
        [group] = report["groups"]
        assert group["key"] == agency.code
        assert group["name"] == agency.name
        assert group["n"] == 1
        assert group["small_sample"] is True
        assert {element: share["index"] for element, share in group["elements"].items()} == {
            "access": 100.0,
            "procedure": 100.0,
            "staff": 0.0,
            "result": 100.0,
            "feedback": 100.0,
        }
        assert group["overall_index"] == 80.0
        assert group["mean_score"] == 4.0
        assert group["quick_rating"]["valid"] == 1
        assert group["quick_rating"]["satisfied"] == 1
