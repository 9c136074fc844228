"""A fake Zalo platform on loopback: OA consultation messages, OAuth refresh and ZNS.

It behaves like Zalo where the adapter depends on it:

- every call needs a valid ``access_token`` header (-216 unknown token, -220 expired);
- the refresh token is single-use: refreshing spends it and the previous access token, and a
  spent or unknown refresh token is refused; `refreshes` counts successful refreshes;
- a user outside the 7-day window (`close_window`) gets -230 for consultation messages;
- `fail_next` injects error codes (or HTTP statuses) for the next calls of one endpoint.

Webhook deliveries to the bot are signed with `signed_delivery`, as Zalo signs them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.channels.zalo.signature import SIGNATURE_HEADER, sign
from bot.web.serve import serve_in_loop

APP_ID = "3608465248940903967"
APP_SECRET = "fake-app-secret"
OA_SECRET = "fake-oa-secret"
OA_ID = "388613280878808645"


@dataclass
class SentMessage:
    """A consultation message the OA sent."""

    user_id: str
    message: dict[str, Any]

    @property
    def text(self) -> str:
        """Its text ("" for a template without text)."""
        text = self.message.get("text")
        return text if isinstance(text, str) else ""

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Its template buttons."""
        payload = self.message.get("attachment", {}).get("payload", {})
        buttons = payload.get("buttons", [])
        return buttons if isinstance(buttons, list) else []

    @property
    def template_type(self) -> str | None:
        """The template type of its attachment (e.g. ``request_user_info``), if any."""
        payload = self.message.get("attachment", {}).get("payload", {})
        kind = payload.get("template_type")
        return kind if isinstance(kind, str) else None


@dataclass
class SentZns:
    """A ZNS template message the OA sent."""

    phone: str
    template_id: str
    template_data: dict[str, Any]
    tracking_id: str


@dataclass
class FakeZalo:
    """The fake's state; tests read what was sent and inject trouble."""

    access_token: str = "access-0"
    refresh_token: str = "refresh-0"
    url: str = ""
    messages: list[SentMessage] = field(default_factory=list)
    zns: list[SentZns] = field(default_factory=list)
    refreshes: int = 0
    refused_refreshes: int = 0
    refresh_delay: float = 0.0
    closed_windows: set[str] = field(default_factory=set)
    expired_tokens: set[str] = field(default_factory=set)
    failures: dict[str, deque[int]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ------------------------------------------------------------------ test controls

    def close_window(self, user_id: str) -> None:
        """The user last interacted more than 7 days ago: -230 for consultation messages."""
        self.closed_windows.add(user_id)

    def open_window(self, user_id: str) -> None:
        """The user interacted again."""
        self.closed_windows.discard(user_id)

    def expire_access_token(self) -> None:
        """The current access token expires now (-220 from now on)."""
        self.expired_tokens.add(self.access_token)

    def fail_next(self, endpoint: str, *codes: int) -> None:
        """The next calls of `endpoint` ("cs", "zns", "oauth") fail with `codes` in turn.

        A code ≥ 400 is an HTTP status instead of a Zalo error code.
        """
        self.failures.setdefault(endpoint, deque()).extend(codes)

    def texts_to(self, user_id: str) -> list[str]:
        """The texts sent to `user_id`, in order."""
        return [m.text for m in self.messages if m.user_id == user_id and m.text]

    # ------------------------------------------------------------------ the API

    def app(self) -> Starlette:
        """The ASGI app: OA messages, ZNS and OAuth on one host."""
        return Starlette(
            routes=[
                Route("/v3.0/oa/message/cs", self._cs, methods=["POST"]),
                Route("/message/template", self._zns, methods=["POST"]),
                Route("/v4/oa/access_token", self._oauth, methods=["POST"]),
            ]
        )

    def _count(self, endpoint: str) -> JSONResponse | None:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
        queue = self.failures.get(endpoint)
        if queue:
            code = queue.popleft()
            if code >= 400:
                return JSONResponse({"message": "injected"}, status_code=code)
            return _error(code, "injected failure")
        return None

    def _token_error(self, request: Request) -> JSONResponse | None:
        token = request.headers.get("access_token")
        if token is None or (token != self.access_token and token not in self.expired_tokens):
            return _error(-216, "Access token is invalid")
        if token in self.expired_tokens:
            return _error(-220, "access_token is expired or removed")
        return None

    async def _cs(self, request: Request) -> JSONResponse:
        injected = self._count("cs")
        if injected is not None:
            return injected
        refused = self._token_error(request)
        if refused is not None:
            return refused
        body = await request.json()
        user_id = body["recipient"]["user_id"]
        if user_id in self.closed_windows:
            return _error(-230, "User has not interacted with the OA in the past 7 days")
        message = body["message"]
        if not message.get("text") and not message.get("attachment"):
            return _error(-201, "message is invalid!")
        if len(message.get("text", "")) > 2000:
            return _error(-201, "text is invalid!")
        self.messages.append(SentMessage(user_id, message))
        return _ok({"message_id": f"m{next(self._counter)}", "user_id": user_id})

    async def _zns(self, request: Request) -> JSONResponse:
        injected = self._count("zns")
        if injected is not None:
            return injected
        refused = self._token_error(request)
        if refused is not None:
            return _error(-124, "Access token invalid")
        body = await request.json()
        phone = body.get("phone", "")
        if not (isinstance(phone, str) and phone.startswith("84") and phone.isdigit()):
            return _error(-108, "Phone number invalid")
        for name in ("template_id", "tracking_id"):
            if not body.get(name):
                return _error(-1122, f"missing {name}")
        self.zns.append(
            SentZns(phone, body["template_id"], body.get("template_data", {}), body["tracking_id"])
        )
        return _ok({"msg_id": f"z{next(self._counter)}", "sent_time": "1700000000000"})

    async def _oauth(self, request: Request) -> JSONResponse:
        injected = self._count("oauth")
        if injected is not None:
            return injected
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return JSONResponse({"error": -14001, "error_name": "Invalid app secret"})
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": -14002, "error_name": "Invalid grant type"})
        given = form.get("refresh_token")
        if given != self.refresh_token:
            self.refused_refreshes += 1
            return JSONResponse({"error": -14014, "error_name": "Invalid refresh token"})
        # Spend it before the (optional) delay, as a real server would on receipt.
        number = next(self._counter)
        self.expired_tokens.discard(self.access_token)
        self.refresh_token = f"refresh-{number}"
        new_access = f"access-{number}"
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        self.access_token = new_access
        self.refreshes += 1
        return JSONResponse(
            {
                "access_token": new_access,
                "refresh_token": self.refresh_token,
                "expires_in": "90000",
            }
        )


def _ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"data": data, "error": 0, "message": "Success"})


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message})


@asynccontextmanager
async def run_fake_zalo() -> AsyncIterator[FakeZalo]:
    """Serve a fake Zalo on loopback until the block ends."""
    fake = FakeZalo()
    async with serve_in_loop(fake.app()) as server:
        fake.url = server.url
        yield fake


def signed_delivery(
    event: dict[str, Any], *, app_id: str = APP_ID, secret: str = OA_SECRET
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Zalo would POST for `event` (app_id added if missing)."""
    event = {"app_id": app_id, **event}
    body = json.dumps(event, ensure_ascii=False).encode()
    header = sign(str(event["app_id"]), body, str(event.get("timestamp", "")), secret)
    return body, {SIGNATURE_HEADER: header, "Content-Type": "application/json"}


_last_timestamp = 0


def now_timestamp() -> str:
    """Zalo's ``timestamp`` for an event sent now: milliseconds, unique within the tests."""
    global _last_timestamp
    _last_timestamp = max(int(time.time() * 1000), _last_timestamp + 1)
    return str(_last_timestamp)


_msg_ids = itertools.count(1)


def text_event(user_id: str, text: str, *, msg_id: str | None = None) -> dict[str, Any]:
    """A ``user_send_text`` event (a typed text, or a pressed button's payload)."""
    return {
        "event_name": "user_send_text",
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "user_id_by_app": "552177279717587730",
        "message": {"text": text, "msg_id": msg_id or f"msg{next(_msg_ids)}"},
        "timestamp": now_timestamp(),
    }


def follow_event(user_id: str) -> dict[str, Any]:
    """A ``follow`` event."""
    return {
        "event_name": "follow",
        "oa_id": OA_ID,
        "follower": {"id": user_id},
        "user_id_by_app": "552172779717587730",
        "source": "oa_profile",
        "timestamp": now_timestamp(),
    }


def image_event(user_id: str) -> dict[str, Any]:
    """A ``user_send_image`` event."""
    return {
        "event_name": "user_send_image",
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "message": {
            "msg_id": f"img{next(_msg_ids)}",
            "attachments": [{"type": "image", "payload": {"url": "https://example.invalid/a.jpg"}}],
        },
        "timestamp": now_timestamp(),
    }


def submit_info_event(user_id: str, phone: str) -> dict[str, Any]:
    """A ``user_submit_info`` event: the user shared `phone` (``84…``)."""
    return {
        "event_name": "user_submit_info",
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "info": {"name": "Người dùng", "phone": phone},
        "timestamp": now_timestamp(),
    }
