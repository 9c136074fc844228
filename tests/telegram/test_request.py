"""Bot API calls on the wire: JSON for plain calls, python-telegram-bot's form for uploads,
httpx errors mapped as python-telegram-bot maps them."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram.request import BotApiRequest

TOKEN = "123:abc"
ME = {"id": 123, "is_bot": True, "first_name": "Một cửa", "username": "motcua_bot"}
MESSAGE = {
    "message_id": 7,
    "date": 0,
    "chat": {"id": 42, "type": "private"},
    "text": "Hồ sơ",
}


def _bot(handler: Callable[[httpx.Request], httpx.Response]) -> Bot:
    """A bot whose calls `handler` answers (getMe, for starting the bot, is answered here)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/getMe"):
            return httpx.Response(200, json={"ok": True, "result": ME})
        return handler(request)

    request = BotApiRequest(transport=httpx.MockTransport(answer))
    return Bot(TOKEN, base_url="http://bot.api.test/bot", request=request)


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


async def test_a_message_goes_as_one_json_document(seen: list[httpx.Request]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True, "result": MESSAGE})

    markup = InlineKeyboardMarkup([[InlineKeyboardButton("🔄 Làm mới", callback_data="l:1")]])
    bot = _bot(handler)
    async with bot:
        sent = await bot.send_message(42, "Hồ sơ đã có kết quả", reply_markup=markup)

    assert sent.message_id == 7
    (request,) = seen
    assert request.url.path == f"/bot{TOKEN}/sendMessage"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "chat_id": 42,
        "text": "Hồ sơ đã có kết quả",
        "reply_markup": {"inline_keyboard": [[{"text": "🔄 Làm mới", "callback_data": "l:1"}]]},
    }
    assert "Hồ sơ đã có kết quả".encode() in request.content  # UTF-8, not \\u escapes


async def test_an_upload_keeps_the_multipart_form(seen: list[httpx.Request]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True, "result": {**MESSAGE, "text": None}})

    bot = _bot(handler)
    async with bot:
        await bot.send_document(42, b"%PDF-1.4", filename="ket-qua.pdf")

    (request,) = seen
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b"ket-qua.pdf" in request.content


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (httpx.PoolTimeout("busy"), TimedOut),
        (httpx.ReadTimeout("slow"), TimedOut),
        (httpx.ConnectError("refused"), NetworkError),
        (httpx.RemoteProtocolError("dropped"), NetworkError),
    ],
)
async def test_transport_errors_become_telegram_errors(
    error: httpx.HTTPError, mapped: type[Exception]
) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise error

    bot = _bot(handler)
    async with bot:
        with pytest.raises(mapped):
            await bot.send_message(42, "Xin chào")
