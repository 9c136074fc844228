"""Limits that hold under concurrency and erasure, and that strangers cannot turn on the owner.

The bot runs whole (real core, real storage on SQLite and PostgreSQL) against a case API fake
on loopback that counts what reaches it and answers after a chosen delay.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.composition import Runtime, open_runtime
from bot.deeplink import make_payload
from bot.handlers.payloads import Action
from bot.messages import Incoming, Response
from bot.ports import Clock
from bot.settings import load_settings
from tests.core.conftest import FixedClock
from tests.support.servers import serve_in_loop

CODE = "000.00.15.H12-261130-0042"
PIN = "482913"
PHONE = "+84912345678"
TOKEN = "limits-token"
LINK_SECRET = "limits-link-secret"


@dataclass
class CaseApiFake:
    """One dossier; counts the calls that reach it; answers after `delay` seconds."""

    delay: float = 0.0
    verify_calls: int = 0
    lookups: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    pins_tried: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def dossier(request: Request) -> JSONResponse:
            self.lookups += 1
            await asyncio.sleep(self.delay)
            if request.path_params["code"] != CODE:
                return JSONResponse({"error": "not_found"}, status_code=404)
            return JSONResponse(_dossier())

        async def verify(request: Request) -> JSONResponse:
            self.verify_calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                body = await request.json()
                await asyncio.sleep(self.delay)
            finally:
                self.in_flight -= 1
            if "pin" in body:
                self.pins_tried.append(body["pin"])
            ok = body.get("pin") == PIN or body.get("phone") == PHONE
            return JSONResponse({"verified": ok})

        return Starlette(
            routes=[
                Route("/v1/dossiers/{code}", dossier),
                Route("/v1/dossiers/{code}/verify", verify, methods=["POST"]),
            ]
        )


def _dossier() -> dict[str, Any]:
    return {
        "code": CODE,
        "status": "processing",
        "status_code": 4,
        "status_changed_at": "2026-11-30T08:00:00+07:00",
        "procedure": {"code": "1.001", "name": "Đăng ký khai sinh", "field": "Hộ tịch"},
        "agency": {"code": "000.00.15.H12", "name": "UBND phường Ba Đình"},
        "applicant": {"name": "Nguyễn Văn An"},
        "received_at": "2026-11-30T08:00:00+07:00",
        "due_at": "2026-12-03T17:00:00+07:00",
        "original_due_at": "2026-12-03T17:00:00+07:00",
        "returned_at": None,
        "delivery": "counter",
        "pickup": {"place": "Bộ phận Một cửa", "hours": "8:00–17:00"},
        "fee": None,
        "note": None,
    }


class Screen(str):
    """What the citizen saw: the text of the answer, with the payloads of its buttons."""

    payloads: tuple[str, ...]

    @classmethod
    def of(cls, response: Response) -> Screen:
        seen = cls("\n".join(r.text for r in response.replies) + (response.notice or ""))
        seen.payloads = tuple(
            button.payload for r in response.replies for row in r.buttons for button in row
        )
        return seen

    def button(self, action: Action) -> str:
        """The payload of the first button for `action`."""
        return next(p for p in self.payloads if p.split(":", 1)[0] == action.value)


@dataclass
class Bot:
    """The running bot and the fake behind it; `say` speaks for one chat account."""

    runtime: Runtime
    fake: CaseApiFake

    async def say(self, account: str, **what: str) -> Screen:
        """Send text (text=…), a button (payload=…) or a shared phone (phone=…); the answer."""
        incoming = Incoming(channel="telegram", user_id=account, **what)
        return Screen.of(await self.runtime.core(incoming))


@asynccontextmanager
async def running_bot(
    database_url: str, delay: float = 0.0, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[Bot]:
    fake = CaseApiFake(delay=delay)
    async with serve_in_loop(fake.app()) as server:
        config = load_settings(
            database_url=database_url,
            case_api_url=server.url,
            case_api_token=SecretStr(TOKEN),
            deep_link_secret=SecretStr(LINK_SECRET),
            **settings,
        )
        async with open_runtime(config, clock=clock) as runtime:
            yield Bot(runtime, fake)


def wrong_pin(n: int) -> str:
    return f"{100000 + n:06d}"


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3], ids=["0ms", "50ms", "300ms"])
async def test_forty_parallel_wrong_pins_never_pass_the_dossier_limit(
    database_url: str, delay: float
) -> None:
    async with running_bot(database_url, delay) as bot:
        limit = bot.runtime.settings.pin_attempts_per_dossier
        accounts = [f"guesser-{n}" for n in range(40)]
        for account in accounts:
            assert "PIN" in await bot.say(account, payload=f"vf:{CODE}")
        answers = await asyncio.gather(
            *(bot.say(account, text=wrong_pin(n)) for n, account in enumerate(accounts))
        )
        assert bot.fake.verify_calls <= limit
        assert bot.fake.verify_calls >= 1
        # everyone was answered: a wrong PIN, or PINs paused with the way to the counter
        wrong = [a for a in answers if "không đúng" in a]
        refused = [a for a in answers if "tạm dừng" in a and "không đúng" not in a]
        assert len(refused) + len(wrong) == 40
        assert len(wrong) == bot.fake.verify_calls
        assert all("thẻ căn cước" in a for a in refused)


async def test_a_right_pin_gives_its_attempt_back(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        limit = bot.runtime.settings.pin_attempts_per_dossier
        for n in range(limit - 1):
            await bot.say(f"stranger-{n}", payload=f"vf:{CODE}")
            await bot.say(f"stranger-{n}", text=wrong_pin(n))
        await bot.say("owner", payload=f"vf:{CODE}")
        assert "Đã xác minh" in await bot.say("owner", text=PIN)
        # the owner's success took nothing: one more stranger may still be told "wrong"
        await bot.say("stranger-last", payload=f"vf:{CODE}")
        assert "không đúng" in await bot.say("stranger-last", text=wrong_pin(99))


async def test_strangers_cannot_lock_the_owner_out(database_url: str) -> None:
    async with running_bot(database_url) as bot:
        for n in range(30):
            await bot.say(f"stranger-{n}", payload=f"vf:{CODE}")
            await bot.say(f"stranger-{n}", text=wrong_pin(n))
        assert bot.fake.verify_calls == bot.runtime.settings.pin_attempts_per_dossier

        # The owner is told PINs are paused, how else to prove it, and where to get help…
        screen = await bot.say("owner-phone", payload=f"vf:{CODE}")
        assert "tạm dừng" in screen
        assert "số điện thoại" in screen and "mã QR" in screen
        assert "Bộ phận Một cửa" in screen and "thẻ căn cước" in screen
        # …and the phone number the platform shares still proves it at once.
        screen = await bot.say("owner-phone", phone=PHONE)
        assert "Đã xác minh" in screen and "Nguyễn Văn An" in screen

        # The signed link on the receipt verifies too.
        screen = await bot.say("owner-link", text=f"/start {make_payload(CODE, LINK_SECRET)}")
        assert "Đã xác minh" in screen and "Nguyễn Văn An" in screen


async def test_the_pin_pause_grows_for_persistent_guessers(database_url: str) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    async with running_bot(database_url, clock=clock) as bot:
        for n in range(5):
            await bot.say(f"s-{n}", payload=f"vf:{CODE}")
            await bot.say(f"s-{n}", text=wrong_pin(n))
        pauses = []
        for n in range(4):
            screen = await bot.say(f"t-{n}", payload=f"vf:{CODE}")
            minutes = int(re.search(r"trong (\d+) phút", screen).group(1))  # type: ignore[union-attr]
            pauses.append(minutes)
            clock.current += timedelta(minutes=minutes)
            await bot.say(f"t-{n}", payload=f"vf:{CODE}")
            assert "không đúng" in await bot.say(f"t-{n}", text=wrong_pin(50 + n))
        assert pauses == [3, 6, 12, 24]


async def test_erasing_ones_data_does_not_reset_the_limits(database_url: str) -> None:
    async with running_bot(database_url, lookup_limit_per_minute=5, pin_attempts_per_user=3) as bot:
        account = "eraser"

        async def erase() -> None:
            screen = await bot.say(account, text="/forget")
            assert "không bị xóa" in screen  # the forget text says limits stay
            assert "Đã xóa" in await bot.say(account, payload=screen.button(Action.FORGET_YES))

        for _ in range(5):
            assert "Đang xử lý" in await bot.say(account, text=CODE)
        await erase()
        assert "thử lại sau" in await bot.say(account, text=CODE)
        assert bot.fake.lookups == 5

        for n in range(3):
            await bot.say(account, payload=f"vf:{CODE}")
            await bot.say(account, text=wrong_pin(n))
        await erase()
        await bot.say(account, payload=f"vf:{CODE}")
        screen = await bot.say(account, text=wrong_pin(7))
        assert "thử lại sau" in screen and "thẻ căn cước" in screen
        assert bot.fake.verify_calls == 3
