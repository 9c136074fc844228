"""Zalo events → Incoming, Reply → Zalo messages, the signature, and the error-code mapping."""

from __future__ import annotations

import pytest

from bot.channels.zalo import signature
from bot.channels.zalo.errors import TOKEN_ERRORS, channel_error, is_token_error
from bot.channels.zalo.inbound import (
    MalformedEvent,
    normalize_phone,
    parse_event,
    zns_phone,
)
from bot.channels.zalo.render import MAX_BUTTONS, MAX_TEXT, render, split_text
from bot.messages import Attachment, Button, Reply
from bot.push import (
    ChannelBlocked,
    ChannelPermanentError,
    ChannelRetryAfter,
    ChannelTemporaryError,
    ChannelWindowClosed,
)
from tests.support.fake_zalo import (
    follow_event,
    image_event,
    submit_info_event,
    text_event,
)

# ------------------------------------------------------------------------------ inbound


def test_typed_text_and_pressed_buttons() -> None:
    typed = parse_event(text_event("42", "000.00.15.H12-240101-0001"))
    assert typed.incoming is not None
    assert typed.incoming.channel == "zalo"
    assert typed.incoming.user_id == "42"
    assert typed.incoming.text == "000.00.15.H12-240101-0001"
    assert typed.incoming.payload is None

    pressed = parse_event(text_event("42", "#mc:lk:000.00.15.H12-240101-0001"))
    assert pressed.incoming is not None
    assert pressed.incoming.payload == "lk:000.00.15.H12-240101-0001"
    assert pressed.incoming.text is None


def test_follow_image_and_submitted_phone() -> None:
    follow = parse_event(follow_event("7"))
    assert follow.incoming is not None
    assert follow.incoming.text == "/start"
    image = parse_event(image_event("7"))
    assert image.incoming is not None
    assert image.incoming.attachment == Attachment.IMAGE
    info = parse_event(submit_info_event("7", "84912345678"))
    assert info.incoming is not None
    assert info.incoming.phone == "+84912345678"


def test_event_keys_identify_deliveries() -> None:
    event = text_event("7", "hi", msg_id="abc")
    assert parse_event(event).key == parse_event(dict(event)).key == "msg:abc"
    a, b = follow_event("7"), follow_event("7")
    assert parse_event(a).key != parse_event(b).key  # different timestamps


@pytest.mark.parametrize(
    "event",
    [
        {"event_name": "unfollow", "follower": {"id": "7"}, "timestamp": "1"},
        {"event_name": "oa_send_text", "sender": {"id": "oa"}, "message": {"text": "x"}},
        {"event_name": "user_send_text", "sender": {"id": "7"}, "message": {}},
        {"event_name": "user_send_text", "sender": {"id": "../../etc"}, "message": {"text": "x"}},
        {"event_name": "user_submit_info", "sender": {"id": "7"}, "info": {"name": "A"}},
    ],
)
def test_events_the_bot_ignores(event: dict[str, object]) -> None:
    assert parse_event(event).incoming is None


@pytest.mark.parametrize("body", [[], "x", {}, {"event_name": 3}])
def test_malformed_bodies(body: object) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(body)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("84912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        (84912345678, "+84912345678"),
        ("12345", None),
        ("+1 202 555 0100", None),
        ("phone", None),
        (None, None),
    ],
)
def test_phone_numbers(given: object, expected: str | None) -> None:
    assert normalize_phone(given) == expected


def test_zns_wants_84_form() -> None:
    assert zns_phone("+84912345678") == "84912345678"
    assert zns_phone("0912345678") == "84912345678"
    assert zns_phone("nope") is None


# ------------------------------------------------------------------------------ render


def test_long_text_is_split_at_the_limit_on_line_breaks() -> None:
    text = "\n".join(f"{i:04d} Dòng thông tin hồ sơ rất dài" for i in range(300))
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(piece) <= MAX_TEXT for piece in pieces)
    assert "\n".join(pieces) == text


def test_one_long_word_is_cut_anywhere() -> None:
    pieces = split_text("x" * (MAX_TEXT * 2 + 5))
    assert [len(p) for p in pieces] == [MAX_TEXT, MAX_TEXT, 5]


def test_text_is_counted_in_nfc() -> None:
    decomposed = "Đã tiếp nhận".replace("ã", "a\u0303") * 200  # combining tilde
    assert all(len(p) <= MAX_TEXT for p in split_text(decomposed))
    assert split_text("a\u0303") == ["ã"]


def test_buttons_become_hidden_queries_under_the_last_piece() -> None:
    reply = Reply(
        "x " * 1500,
        buttons=((Button("🔄 Làm mới", "lk:A"), Button("🔔 Theo dõi", "sb:A")),),
    )
    messages = render(reply)
    assert len(messages) == 2
    assert "attachment" not in messages[0]
    assert messages[1]["attachment"]["payload"]["buttons"] == [
        {"title": "🔄 Làm mới", "type": "oa.query.hide", "payload": "#mc:lk:A"},
        {"title": "🔔 Theo dõi", "type": "oa.query.hide", "payload": "#mc:sb:A"},
    ]


def test_more_buttons_than_zalo_shows_go_to_further_messages() -> None:
    rows = tuple((Button(f"Hồ sơ {i}", f"lk:{i}"),) for i in range(12))
    messages = render(Reply("Hồ sơ của ông/bà:", buttons=rows))
    counts = [len(m["attachment"]["payload"]["buttons"]) for m in messages]
    assert counts == [MAX_BUTTONS, MAX_BUTTONS, 2]
    assert messages[0]["text"] == "Hồ sơ của ông/bà:"
    assert all(m["text"] for m in messages)


def test_request_phone_adds_zalos_information_request() -> None:
    reply = Reply(
        "Nhập mã PIN hoặc chia sẻ số điện thoại.",
        buttons=(
            (Button("📱 Chia sẻ số điện thoại", "contact:"),),
            (Button("✖ Hủy", "cx:"),),
        ),
        request_phone=True,
    )
    first, second = render(reply, info_image_url="https://example.invalid/logo.png")
    assert [b["payload"] for b in first["attachment"]["payload"]["buttons"]] == ["#mc:cx:"]
    payload = second["attachment"]["payload"]
    assert payload["template_type"] == "request_user_info"
    (element,) = payload["elements"]
    assert element["title"] == "📱 Chia sẻ số điện thoại"
    assert element["subtitle"]
    assert element["image_url"] == "https://example.invalid/logo.png"


def test_empty_reply_renders_nothing() -> None:
    assert render(Reply("   ")) == []


# ------------------------------------------------------------------------------ signature


def test_signature_is_sha256_of_app_body_timestamp_secret() -> None:
    body = b'{"app_id":"1","timestamp":"99"}'
    header = signature.sign("1", body, "99", "s3cret")
    assert header.startswith("mac=")
    assert len(header) == 4 + 64
    assert signature.is_valid(header, "1", body, "99", "s3cret")
    assert signature.is_valid(header.upper().replace("MAC=", "mac="), "1", body, "99", "s3cret")
    assert not signature.is_valid(header, "1", body + b" ", "99", "s3cret")
    assert not signature.is_valid(header, "1", body, "100", "s3cret")
    assert not signature.is_valid(header, "1", body, "99", "other")
    assert not signature.is_valid(None, "1", body, "99", "s3cret")
    assert not signature.is_valid(header, "1", body, "99", "")


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (-32, ChannelRetryAfter),
        (-230, ChannelWindowClosed),
        (-232, ChannelWindowClosed),
        (-213, ChannelBlocked),
        (-227, ChannelBlocked),
        (-100, ChannelTemporaryError),
        (-144, ChannelTemporaryError),
        (-201, ChannelPermanentError),
        (-108, ChannelPermanentError),
        (-131, ChannelPermanentError),
        (-99999, ChannelPermanentError),
    ],
)
def test_error_codes_map_to_channel_errors(code: int, error: type[Exception]) -> None:
    assert isinstance(channel_error(code, "msg"), error)


def test_token_errors_are_refreshed() -> None:
    assert {-216, -220} <= TOKEN_ERRORS
    assert is_token_error(-216)
    assert is_token_error(-220)
    assert not is_token_error(-230)
    # Refused again right after a refresh: retried later, not dropped.
    assert isinstance(channel_error(-216, "again"), ChannelTemporaryError)
