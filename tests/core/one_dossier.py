"""The bot run whole (real core; the in-memory twin of the storage, or SQLite and PostgreSQL for
tests marked ``sql``) against a one-dossier case API fake on loopback that counts what
reaches it and answers after a chosen delay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.messages import Incoming, Response
from bot.payloads import Action
from bot.ports import Clock
from bot.settings import load_settings
from tests.support.runtime import ChatRuntime, open_chat_runtime
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
    #: Fields of the dossier to answer instead of the usual ones.
    changes: dict[str, Any] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def dossier(request: Request) -> JSONResponse:
            self.lookups += 1
            await asyncio.sleep(self.delay)
            if request.path_params["code"] != CODE:
                return JSONResponse({"error": "not_found"}, status_code=404)
            return JSONResponse(_dossier() | self.changes)

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

    runtime: ChatRuntime
    fake: CaseApiFake

    async def say(self, account: str, **what: str) -> Screen:
        """Send text (text=…), a button (payload=…) or a shared phone (phone=…); the answer."""
        incoming = Incoming(channel="telegram", user_id=account, **what)
        return Screen.of(await self.runtime.core(incoming))


@asynccontextmanager
async def running_bot(
    storage_url: str, delay: float = 0.0, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[Bot]:
    """The bot on `storage_url` (the `storage_url` fixture) with the fake answering after
    `delay` seconds; `settings` override the defaults."""
    fake = CaseApiFake(delay=delay)
    async with serve_in_loop(fake.app()) as server:
        config = load_settings(
            database_url=storage_url,
            case_api_url=server.url,
            case_api_token=SecretStr(TOKEN),
            deep_link_secret=SecretStr(LINK_SECRET),
            **settings,
        )
        async with open_chat_runtime(config, clock=clock) as runtime:
            yield Bot(runtime, fake)
