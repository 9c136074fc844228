"""Receipt deep links: signed, compact, and refused when forged."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.deeplink import make_payload, read_payload, telegram_link

SECRET = "a-long-random-deep-link-secret"
CODE = "000.00.53.H48-220921-0099"
PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

codes = st.builds(
    lambda a, b, c, letter, d, date, seq: f"{a:03d}.{b:02d}.{c:02d}.{letter}{d:02d}-{date}-{seq}",
    st.integers(0, 999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(string.ascii_uppercase),
    st.integers(0, 99),
    st.dates().map(lambda d: d.strftime("%y%m%d")),
    st.from_regex(r"[0-9]{4,5}", fullmatch=True),
)


def test_round_trip() -> None:
    payload = make_payload(CODE, SECRET)

    assert read_payload(payload, SECRET) == CODE
    assert PAYLOAD_RE.fullmatch(payload)
    assert len(payload) <= 40


@given(codes, st.text(min_size=1, max_size=40))
def test_every_code_fits_and_round_trips(code: str, secret: str) -> None:
    payload = make_payload(code, secret)

    assert PAYLOAD_RE.fullmatch(payload)
    assert read_payload(payload, secret) == code


@given(codes)
def test_another_secret_reads_nothing(code: str) -> None:
    assert read_payload(make_payload(code, SECRET), SECRET + "x") is None


def test_forged_truncated_and_malformed_payloads_are_refused() -> None:
    payload = make_payload(CODE, SECRET)
    other = make_payload("000.00.53.H48-220921-0100", SECRET)
    flipped = payload[:3] + ("A" if payload[3] != "A" else "B") + payload[4:]
    spliced = other[:-16] + payload[-16:]  # a valid tag on another code
    for bad in [
        flipped,
        spliced,
        payload[:-1],
        payload[1:],
        payload + "A",
        "",
        "abc",
        "!" * 30,
        payload[:-1] + "+",
        payload[:5] + "=" + payload[6:],
        "A" * 65,
    ]:
        assert read_payload(bad, SECRET) is None, bad
    assert read_payload(payload, "") is None


def test_codes_outside_the_alphabet_or_too_long_are_refused() -> None:
    with pytest.raises(ValueError, match="capital"):
        make_payload("000.00.53.h48-220921-0099", SECRET)
    with pytest.raises(ValueError, match="1 to 54"):
        make_payload("0" * 55, SECRET)
    with pytest.raises(ValueError, match="secret"):
        make_payload(CODE, "")
    assert len(make_payload("-" * 54, SECRET)) <= 64


def test_telegram_link() -> None:
    assert telegram_link("@motcua_bot", "abc") == "https://t.me/motcua_bot?start=abc"
