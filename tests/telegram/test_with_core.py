"""A citizen on Telegram, end to end: python-telegram-bot ↔ fake Bot API, the real core, the
case API simulator and the in-memory twin of the storage (the channel is the point here; the
storage has its own tests), in polling and webhook mode."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from bot.caseapi.simulator import RunningSimulator, run_simulator
from bot.channel_events import StoredChannelEvents
from bot.deeplink import make_payload
from bot.demo import Sample, fetch_samples
from bot.payloads import Action
from bot.settings import load_settings
from tests.support.fake_telegram import FakeTelegram, SentMessage
from tests.support.runtime import ChatRuntime, open_chat_runtime
from tests.telegram.conftest import Harness, running_channel

SECRET = "telegram-e2e-deep-link-secret"
USER = 424242
MENU = ["🔎 Tra cứu hồ sơ", "📂 Hồ sơ của tôi", "❓ Hướng dẫn", "✍️ Góp ý"]


@dataclass
class Citizen:
    """One Telegram user talking to the bot through the fake Bot API."""

    bot: Harness
    runtime: ChatRuntime
    samples: dict[str, Sample]
    simulator: RunningSimulator
    user_id: int = USER

    @property
    def fake(self) -> FakeTelegram:
        return self.bot.fake

    async def says(self, text: str, *, answers: int = 1) -> list[SentMessage]:
        """Type `text`; the `answers` new messages the bot sent back."""
        before = len(self.fake.messages(self.user_id))
        await self.fake.send_text(self.user_id, text)
        messages = await self.fake.wait_for_messages(self.user_id, before + answers)
        return messages[before:]

    async def presses(self, message: SentMessage, action: Action) -> SentMessage:
        """Press the first button for `action` under `message`; the message it changed or
        the new one the bot sent."""
        data = next(d for row in message.buttons for _, d in row if d.startswith(f"{action}:"))
        before = len(self.fake.messages(self.user_id))
        answered = len(self.fake.callback_answers)
        edits = len(message.edits)  # the fake edits its records in place
        await self.fake.press_button(self.user_id, message, data)
        await self.fake.wait_until(
            lambda: (
                len(self.fake.callback_answers) > answered
                and (len(self.fake.messages(self.user_id)) > before or len(message.edits) > edits)
            )
        )
        messages = self.fake.messages(self.user_id)
        return messages[-1] if len(messages) > before else message


@contextlib.asynccontextmanager
async def citizen_in(mode: str, storage_url: str) -> AsyncIterator[Citizen]:
    async with (
        run_simulator(seed=7, dossiers=2000, token="sim-token") as sim,
        FakeTelegram().serve() as fake,
    ):
        settings = load_settings(
            database_url=storage_url,
            case_api_url=sim.url,
            case_api_token=SecretStr("sim-token"),
            deep_link_secret=SecretStr(SECRET),
        )
        samples = await fetch_samples(sim.url, "sim-token")
        async with (
            open_chat_runtime(settings) as runtime,
            running_channel(
                fake,
                mode,
                runtime.core,  # type: ignore[arg-type]
                StoredChannelEvents(runtime.uow_factory, runtime.clock),  # type: ignore[arg-type]
            ) as harness,
        ):
            yield Citizen(harness, runtime, samples, sim)


@pytest.fixture(params=["polling", "webhook"])
async def citizen(request: pytest.FixtureRequest, storage_url: str) -> AsyncIterator[Citizen]:
    async with citizen_in(request.param, storage_url) as person:
        yield person


async def test_start_lookup_and_invalid_code(citizen: Citizen) -> None:
    welcome, languages = await citizen.says("/start", answers=2)
    assert "Xin chào" in welcome.text
    assert [b["text"] for row in welcome.keyboard for b in row] == MENU  # the persistent menu
    assert welcome.reply_markup and welcome.reply_markup.get("is_persistent")
    assert [label for row in languages.buttons for label, _ in row] == [
        "🇻🇳 Tiếng Việt",
        "🇬🇧 English",
    ]
    assert {"start", "mine", "lang", "help", "forget"} <= {
        c["command"] for c in citizen.fake.commands[None]
    }

    sample = citizen.samples["processing"]
    [answer] = await citizen.says(sample.code)
    assert f"Hồ sơ {sample.code}" in answer.text
    assert "Tình trạng: Đang xử lý" in answer.text
    assert "Người nộp" not in answer.text
    assert any(d.startswith(f"{Action.VERIFY}:") for row in answer.buttons for _, d in row)

    [refusal] = await citizen.says("000.00.53.H48-221399-0099")
    assert "chưa đúng định dạng" in refusal.text


async def test_verification_by_pin_removes_the_contact_keyboard(citizen: Citizen) -> None:
    sample = citizen.samples["ready"]
    [answer] = await citizen.says(sample.code)

    prompt = await citizen.presses(answer, Action.VERIFY)
    assert "mã PIN" in prompt.text
    [[contact_button]] = prompt.keyboard
    assert contact_button["request_contact"] is True
    assert "Chia sẻ số điện thoại" in contact_button["text"]

    # The answer has inline buttons, and a message carries one keyboard: its first
    # paragraph comes alone, putting the menu back in place of the contact keyboard.
    confirmed, details = await citizen.says(sample.pin, answers=2)
    assert "Đã xác minh" in confirmed.text
    assert [b["text"] for row in confirmed.keyboard for b in row] == MENU
    assert "Người nộp:" in details.text
    assert details.buttons


async def test_verification_by_the_users_own_contact(citizen: Citizen) -> None:
    sample = citizen.samples["supplement_required"]
    [answer] = await citizen.says(sample.code)
    await citizen.presses(answer, Action.VERIFY)

    before = len(citizen.fake.messages(USER))
    await citizen.fake.share_contact(USER, sample.phone, contact_user_id=USER + 1)
    [refused] = (await citizen.fake.wait_for_messages(USER, before + 1))[before:]
    assert "của chính ông/bà" in refused.text
    # a contact arrived: the contact keyboard goes, the menu comes back
    assert [b["text"] for row in refused.keyboard for b in row] == MENU

    before = len(citizen.fake.messages(USER))
    await citizen.fake.share_contact(USER, sample.phone)
    [confirmed] = (await citizen.fake.wait_for_messages(USER, before + 1))[before:]
    assert "Đã xác minh" in confirmed.text
    assert "Nội dung cần bổ sung:" in confirmed.text


async def test_receipt_deep_link_verifies_in_one_tap(citizen: Citizen) -> None:
    sample = citizen.samples["ready"]
    payload = make_payload(sample.code, SECRET)

    [confirmed] = await citizen.says(f"/start {payload}")
    assert "Đã xác minh" in confirmed.text
    assert "Người nộp:" in confirmed.text

    forged = make_payload(sample.code, "someone-elses-secret")
    [refused] = await citizen.says(f"/start {forged}")
    assert "Đường dẫn không hợp lệ" in refused.text


async def test_language_switch_and_forget_me(citizen: Citizen) -> None:
    [switched] = await citizen.says("/lang en")
    assert "English" in switched.text
    [answer] = await citizen.says(citizen.samples["processing"].code)
    assert "Status: Being processed" in answer.text

    [question] = await citizen.says("/forget")
    assert "erases everything" in question.text
    erased = await citizen.presses(question, Action.FORGET_YES)
    assert "erased" in erased.text

    [again] = await citizen.says("/mine")
    assert "chưa xác minh hồ sơ nào" in again.text  # a stranger again: Vietnamese


async def test_a_stale_button_gets_a_short_notice(citizen: Citizen) -> None:
    [answer] = await citizen.says(citizen.samples["processing"].code)
    forged = "lk:000.00.00.X00-000000-0000"

    await citizen.fake.press_button(USER, answer, forged)
    await citizen.fake.wait_until(lambda: len(citizen.fake.callback_answers) == 1)

    notice = citizen.fake.callback_answers[0].get("text", "")
    assert "hết hiệu lực" in notice
    assert len(citizen.fake.messages(USER)) == 1


async def test_flood_control_on_the_answer_still_delivers_it_once(citizen: Citizen) -> None:
    sample = citizen.samples["processing"]
    citizen.fake.fail("sendMessage", 429, retry_after=1)

    [answer] = await citizen.says(sample.code)

    assert f"Hồ sơ {sample.code}" in answer.text
    assert [c.status for c in citizen.fake.calls_of("sendMessage")] == [429, 200]
    assert len(citizen.fake.messages(USER)) == 1


async def test_a_user_who_blocked_the_bot_is_marked_in_storage(citizen: Citizen) -> None:
    await citizen.says("/start", answers=2)  # the welcome with the menu, the language choice
    citizen.fake.fail("sendMessage", 403, chat_id=USER)

    await citizen.fake.send_text(USER, "/help")
    await citizen.fake.wait_until(lambda: citizen.fake.calls_of("sendMessage")[-1].status == 403)

    async def blocked() -> bool:
        async with citizen.runtime.uow_factory() as uow:
            user = await uow.users.get_or_create(
                "telegram", str(USER), language="vi", now=citizen.runtime.clock.now()
            )
            return user.blocked

    async with asyncio.timeout(3):
        while not await blocked():  # noqa: ASYNC110 - polling the storage
            await asyncio.sleep(0.02)
    await citizen.says("/help")  # writing again unblocks
    assert not await blocked()


async def test_a_huge_name_and_note_stay_one_message(citizen: Citizen) -> None:
    sample = citizen.samples["supplement_required"]
    record = citizen.simulator.state.get(sample.code)  # what the case API serves
    assert record is not None
    record.applicant = "Nguyễn Văn " * 10_000  # 100,000 characters
    record.note = "Bổ sung giấy tờ. " * 6_000

    before = len(citizen.fake.messages(USER))
    [confirmed] = await citizen.says(f"/start {make_payload(sample.code, SECRET)}")
    [_help] = await citizen.says("/help")  # answered after the lookup's last piece

    assert len(citizen.fake.messages(USER)) == before + 2
    # Name and note both in the one message, each cut with "…".
    assert "Người nộp: Nguyễn Văn" in confirmed.text
    assert "Bổ sung giấy tờ. Bổ sung giấy tờ." in confirmed.text  # the note, wherever shown
    assert confirmed.text.count("…") >= 2
    assert len(confirmed.text) < 2000


async def test_free_text_pin_after_lookup_and_thanks(storage_url: str) -> None:
    """Issue 14 on Telegram: the menu, a PIN with a space right after a lookup, a verified
    citizen asking in their own words, and a thank-you answered with a thank-you."""
    async with citizen_in("polling", storage_url) as citizen:
        [hello] = await citizen.says("xin chào")
        assert "Xin chào" in hello.text
        labels = [button["text"] for row in hello.keyboard for button in row]
        assert labels == MENU

        [hi] = await citizen.says("hi")  # one English word: answered in Vietnamese
        assert "Xin chào" in hi.text
        assert [button["text"] for row in hi.keyboard for button in row] == MENU

        sample = citizen.samples["processing"]
        [answer] = await citizen.says(sample.code)
        assert "Người nộp" not in answer.text
        [confirmed] = await citizen.says(sample.pin[:3] + " " + sample.pin[3:])
        assert "Đã xác minh" in confirmed.text and "Người nộp:" in confirmed.text

        [mine] = await citizen.says("em ơi hồ sơ của em xong chưa ạ")
        assert f"Hồ sơ {sample.code}" in mine.text and "Người nộp:" in mine.text

        [thanks] = await citizen.says("thanks em")
        assert "không có gì" in thanks.text
        assert "mã hồ sơ" not in thanks.text
