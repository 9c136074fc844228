"""Signed webhook deliveries through the real route, answered by the real core.

On the in-memory twin of the storage, but for the test marked ``sql``, which has the inbound
journal carry deliveries across a crash.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.channel_events import StoredChannelEvents
from bot.channels.zalo import ZaloChannel, build_zalo_channel
from bot.channels.zalo.channel import MAX_BODY_BYTES
from bot.channels.zalo.signature import SIGNATURE_HEADER, sign, timestamp_candidates
from bot.inbound import InboundJournal
from bot.messages import Incoming, MessageHandler, Response
from bot.storage.probe import row_count
from bot.web.app import build_web_app
from tests.support.fake_zalo import (
    APP_ID,
    OA_SECRET,
    follow_event,
    image_event,
    now_timestamp,
    signed_delivery,
    text_event,
)
from tests.support.raw_http import post_and_wait
from tests.support.servers import serve_in_loop
from tests.zalo.conftest import ZaloWorld


async def _users(world: ZaloWorld) -> int:
    return await row_count(world.runtime.uow_factory, "chat_users")


async def test_lookup_answers_with_the_status_and_query_buttons(zalo_world: ZaloWorld) -> None:
    code = zalo_world.samples["processing"].code
    texts = await zalo_world.say(text_event("u-1", f"Cho tôi hỏi hồ sơ {code}"))
    assert len(texts) == 1
    assert code in texts[0]
    assert "Tình trạng" in texts[0]
    answer = zalo_world.zalo.messages[-1]
    assert answer.buttons, "the lookup answer carries buttons"
    assert {b["type"] for b in answer.buttons} == {"oa.query.hide"}
    payloads = [b["payload"] for b in answer.buttons]
    assert f"#mc:vf:{code}" in payloads
    assert f"#mc:lk:{code}" in payloads


async def test_a_pressed_button_comes_back_as_its_payload(zalo_world: ZaloWorld) -> None:
    code = zalo_world.samples["ready"].code
    await zalo_world.say(text_event("u-2", code))
    refresh = next(
        b for b in zalo_world.zalo.messages[-1].buttons if b["payload"].startswith("#mc:lk:")
    )
    texts = await zalo_world.say(text_event("u-2", refresh["payload"]))
    assert texts
    assert code in texts[-1]


async def test_follow_is_greeted(zalo_world: ZaloWorld) -> None:
    texts = await zalo_world.say(follow_event("u-3"))
    assert texts
    assert "Xin chào" in texts[0]


async def test_a_picture_gets_a_polite_answer(zalo_world: ZaloWorld) -> None:
    texts = await zalo_world.say(image_event("u-4"))
    assert len(texts) == 1
    assert "mã hồ sơ" in texts[0].lower()


async def test_bad_or_missing_signature_is_refused_and_nothing_happens(
    zalo_world: ZaloWorld,
) -> None:
    body, headers = signed_delivery(text_event("u-5", "/start"), secret="not-the-secret")
    refused = await zalo_world.client.post(zalo_world.webhook_url, content=body, headers=headers)
    assert refused.status_code == 403

    body, _ = signed_delivery(text_event("u-5", "/start"))
    missing = await zalo_world.client.post(
        zalo_world.webhook_url, content=body, headers={"Content-Type": "application/json"}
    )
    assert missing.status_code == 403

    # A valid signature of a different body does not validate this one.
    body, headers = signed_delivery(text_event("u-5", "/start"))
    tampered = json.loads(body)
    tampered["message"]["text"] = "/help"
    forged = await zalo_world.client.post(
        zalo_world.webhook_url, content=json.dumps(tampered).encode(), headers=headers
    )
    assert forged.status_code == 403

    await zalo_world.channel.drain()
    assert zalo_world.zalo.messages == []
    assert await _users(zalo_world) == 0


async def test_a_repeated_delivery_is_processed_once(zalo_world: ZaloWorld) -> None:
    event = text_event("u-6", "/start", msg_id="repeated-msg-1")
    first = await zalo_world.deliver(event)
    again = await zalo_world.deliver(event)
    await zalo_world.channel.drain()
    third = await zalo_world.deliver(event)
    await zalo_world.channel.drain()
    assert (first.status_code, again.status_code, third.status_code) == (200, 200, 200)
    assert len(zalo_world.zalo.texts_to("u-6")) == 2  # the welcome and the language choice, once


async def test_unknown_events_are_acknowledged_and_ignored(zalo_world: ZaloWorld) -> None:
    event = {
        "event_name": "oa_send_text",
        "sender": {"id": "oa"},
        "recipient": {"id": "u-7"},
        "message": {"text": "echo", "msg_id": "echo-1"},
        "timestamp": now_timestamp(),
    }
    answer = await zalo_world.deliver(event)
    await zalo_world.channel.drain()
    assert answer.status_code == 200
    assert zalo_world.zalo.messages == []


async def test_one_users_messages_are_answered_in_order(zalo_world: ZaloWorld) -> None:
    codes = [zalo_world.samples[s].code for s in ("processing", "ready", "returned")]
    for code in codes:
        assert (await zalo_world.deliver(text_event("u-8", code))).status_code == 200
    await zalo_world.channel.drain()
    texts = zalo_world.zalo.texts_to("u-8")
    assert len(texts) == 3
    for code, text in zip(codes, texts, strict=True):
        assert code in text


@pytest.mark.parametrize("age", [timedelta(hours=1), timedelta(days=30), -timedelta(hours=1)])
async def test_a_stale_or_future_signed_event_is_refused(
    zalo_world: ZaloWorld, age: timedelta
) -> None:
    event = text_event("u-9", "/start")
    event["timestamp"] = str(int((datetime.now(UTC) - age).timestamp() * 1000))
    answer = await zalo_world.deliver(event)
    await zalo_world.channel.drain()
    assert answer.status_code == 403
    assert zalo_world.zalo.texts_to("u-9") == []


async def test_nested_json_is_refused_by_its_signature_before_parsing(
    zalo_world: ZaloWorld, caplog: pytest.LogCaptureFixture
) -> None:
    nested = b"[" * 30_000 + b"]" * 30_000
    unsigned = await zalo_world.client.post(zalo_world.webhook_url, content=nested)
    forged = await zalo_world.client.post(
        zalo_world.webhook_url, content=nested, headers={SIGNATURE_HEADER: "mac=" + "0" * 64}
    )
    # Signed (the timestamp is in the raw bytes), but not a document anyone should parse.
    body = b'{"timestamp": "%s", "x": ' % now_timestamp().encode() + nested + b"}"
    [timestamp] = timestamp_candidates(body)
    signed = await zalo_world.client.post(
        zalo_world.webhook_url,
        content=body,
        headers={SIGNATURE_HEADER: sign(APP_ID, body, timestamp, OA_SECRET)},
    )
    assert (unsigned.status_code, forged.status_code, signed.status_code) == (403, 403, 400)
    assert not any(record.exc_info for record in caplog.records)
    assert "Traceback" not in caplog.text


async def test_a_body_above_the_limit_is_refused_413_without_reading_further(
    zalo_world: ZaloWorld,
) -> None:
    forged = {SIGNATURE_HEADER: "mac=" + "0" * 64}
    url = zalo_world.webhook_url
    declared = await post_and_wait(url, forged, declared_length=MAX_BODY_BYTES + 1)
    chunked = await post_and_wait(url, forged, chunks=(b" " * MAX_BODY_BYTES, b" "))
    assert (declared, chunked) == (413, 413)


class _Stuck:
    """A core that never answers: the process dies before it does."""

    async def __call__(self, incoming: Incoming) -> Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.mark.sql  # the inbound journal's rows outlive the channel that wrote them
async def test_deliveries_acknowledged_before_a_crash_are_answered_after_it(
    zalo_world: ZaloWorld,
) -> None:
    runtime = zalo_world.runtime
    lease = timedelta(seconds=0.5)

    def channel(core: MessageHandler) -> ZaloChannel:
        return build_zalo_channel(
            runtime.settings,
            uow_factory=runtime.uow_factory,
            clock=runtime.clock,
            handler=core,
            events=StoredChannelEvents(runtime.uow_factory, runtime.clock),
            journal=InboundJournal(runtime.uow_factory, runtime.clock, lease=lease).for_channel(
                "zalo"
            ),
        )

    users = [f"crash-{i}" for i in range(3)]
    code = zalo_world.samples["processing"].code
    dying = channel(_Stuck())
    await dying.start()
    async with serve_in_loop(build_web_app(dying.routes())) as server:
        for user in users:
            body, headers = signed_delivery(text_event(user, code))
            answer = await zalo_world.client.post(
                f"{server.url}/hooks/zalo", content=body, headers=headers
            )
            assert answer.status_code == 200
    await dying.stop(grace=0.1)  # the work in hand is cut off, as by a crash

    restarted = channel(runtime.core)
    await restarted.start()
    try:
        async with asyncio.timeout(30):
            while not all(zalo_world.zalo.texts_to(user) for user in users):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await restarted.drain()
    finally:
        await restarted.stop()
    for user in users:
        [text] = zalo_world.zalo.texts_to(user)
        assert code in text
