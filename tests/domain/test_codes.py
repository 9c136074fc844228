"""Dossier codes: parsing what people type, finding codes in chat text, spotting near misses."""

from __future__ import annotations

import string
import time
from datetime import date

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.domain.codes import (
    EXAMPLE_CODE,
    DossierCode,
    InvalidCode,
    extract_codes,
    looks_like_code_attempt,
    normalise,
    parse_code,
)

CANONICAL = "000.00.53.H48-220921-0099"
EXPECTED = DossierCode("000.00.53.H48", date(2022, 9, 21), "0099")

agencies = st.builds(
    lambda v, z, y, m, x: f"{v:03d}.{z:02d}.{y:02d}.{m}{x:02d}",
    st.integers(0, 999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(string.ascii_uppercase),
    st.integers(0, 99),
)
valid_codes = st.builds(
    DossierCode,
    agencies,
    st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    st.from_regex(r"[0-9]{4,5}", fullmatch=True),
)
# Characters that may sit right next to a code in a sentence.
neighbours = st.sampled_from([" ", "\n", ", ", ": ", " (", ") ", '"', "“", "”", "! ", "? ", "/"])
invisible = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
dashes = st.sampled_from(["-", "–", "—", "‑", "‐", "−", "－"])


def full_width(text: str) -> str:
    """`text` with every printable ASCII character in its full-width form."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --------------------------------------------------------------------------- parse_code


def test_canonical_code_parses_into_its_parts() -> None:
    code = parse_code(CANONICAL)

    assert code == EXPECTED
    assert str(code) == CANONICAL
    assert code.level1_agency == "H48"
    assert str(parse_code(EXAMPLE_CODE)) == EXAMPLE_CODE


@pytest.mark.parametrize(
    "typed",
    [
        "  000.00.53.H48-220921-0099  ",
        "000.00.53.h48-220921-0099",
        "000.00.53.H48 - 220921 - 0099",
        "000 . 00 . 53 . H48-220921-0099",
        "000.00.53.H48 220921 0099",
        "000 00 53 H48 220921 0099",
        "000.00.53.H48-\n220921-0099",
        "０００．００．５３．Ｈ４８－２２０９２１－００９９",
        "000.00.53.H48–220921—0099",
        "000.00.53.H48‑220921‑0099",
        "000.00.53.H48-2209\u200b21-0099\ufeff",
        "000.00.53.H48-220921-0099.",
        "000.00.53.H48-220921-0099,",
        "“000.00.53.H48-220921-0099”",
        "(000.00.53.H48-220921-0099)",
        "000。00。53。H48-220921-0099",
    ],
)
def test_what_people_type_parses_to_the_canonical_code(typed: str) -> None:
    assert str(parse_code(typed)) == CANONICAL


def test_five_digit_sequence_is_kept_as_typed() -> None:
    code = parse_code("000.00.15.H12-230101-00012")

    assert code.sequence == "00012"
    assert str(code) == "000.00.15.H12-230101-00012"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (" . ", "empty"),
        ("xin chào", "shape"),
        ("000.00.53.H48", "shape"),
        ("000.00.53.H48-220921", "shape"),
        ("000.00.53.H48-220921-0099-1", "shape"),
        ("00.00.53.H48-220921-0099", "agency"),
        ("000.00.53.48-220921-0099", "agency"),
        ("000.00.53.HH8-220921-0099", "agency"),
        ("000.00.53.H4-220921-0099", "agency"),
        ("000.00.53.H48-22092-0099", "date"),
        ("000.00.53.H48-220931-0099", "date"),
        ("000.00.53.H48-221321-0099", "date"),
        ("000.00.53.H48-230229-0099", "date"),
        ("000.00.53.H48-220921-099", "sequence"),
        ("000.00.53.H48-220921-009999", "sequence"),
        ("000.00.53.H48-220921-00a9", "sequence"),
        ("0" * 500, "shape"),
    ],
)
def test_invalid_codes_say_which_part_is_wrong(typed: str, reason: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        parse_code(typed)

    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)


def test_leap_day_is_a_real_date() -> None:
    assert parse_code("000.00.53.H48-240229-0001").received_on == date(2024, 2, 29)


def test_dossier_code_refuses_bad_parts_when_built_directly() -> None:
    with pytest.raises(InvalidCode) as agency:
        DossierCode("000.00.53.h48", date(2022, 9, 21), "0099")
    with pytest.raises(InvalidCode) as sequence:
        DossierCode("000.00.53.H48", date(2022, 9, 21), "99")
    with pytest.raises(InvalidCode) as year:
        DossierCode("000.00.53.H48", date(1999, 9, 21), "0099")

    assert (agency.value.reason, sequence.value.reason, year.value.reason) == (
        "agency",
        "sequence",
        "date",
    )


# --------------------------------------------------------------------------- extract_codes


def test_codes_are_found_in_a_vietnamese_message_in_order_without_duplicates() -> None:
    text = (
        "Chào anh, mã hồ sơ của tôi là 000.00.53.H48-220921-0099, còn của mẹ tôi: "
        "000.00.15.h12 – 230101 – 12345. Nhờ anh tra giúp 000.00.53.H48-220921-0099."
    )

    found = [str(code) for code in extract_codes(text)]

    assert found == ["000.00.53.H48-220921-0099", "000.00.15.H12-230101-12345"]


@pytest.mark.parametrize(
    "text",
    [
        "x000.00.53.H48-220921-0099",
        "1000.00.53.H48-220921-0099",
        "số000.00.53.H48-220921-0099",
        "000.00.53.H48-220921-0099a",
        "000.00.53.H48-220921-009912",
        "000.00.53.H48-220931-0099",
        "000.00.53.H48",
        "Hồ sơ nộp ngày 21/09/2022, phí 1.500.000 đồng, gọi 0912 345 678.",
    ],
)
def test_glued_or_invalid_codes_are_not_extracted(text: str) -> None:
    assert extract_codes(text) == []


def test_codes_may_be_wrapped_in_links_and_brackets() -> None:
    text = "https://dichvucong.gov.vn/tra-cuu/000.00.53.H48-220921-0099 [000.00.15.H12-230101-0001]"

    assert [str(c) for c in extract_codes(text)] == [
        "000.00.53.H48-220921-0099",
        "000.00.15.H12-230101-0001",
    ]


# --------------------------------------------------------------------------- near misses


@pytest.mark.parametrize(
    "text",
    [
        CANONICAL,
        "000.00.53.H48-22092-0099",
        "000.00.53.48-220921-0099",
        "00.00.53.H48-220921-0099",
        "000.00.53.H48",
        "000,00,53,H48-220921-0099",
        "000.00.53.H48/220921/0099",
        "000.00.53.H48_220921_0099",
        "mã của tôi là 000 00 53 H48 220921 0099",
        "00000053H482209210099",
        "0000053482209210099",
    ],
)
def test_near_misses_look_like_code_attempts(text: str) -> None:
    assert looks_like_code_attempt(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "xin chào",
        "tôi muốn hỏi về hồ sơ đăng ký khai sinh",
        "1990",
        "0912345678",
        "0912.345.678",
        "0912-345-678",
        "+84 912 345 678",
        "Phí 1.500.000 đồng",
        "1.500.000.000.000",
        "ngày 21/09/2022",
        "21.09.2022-15.10.2022",
        "từ 08:00-17:00",
        "biển số 43A-123.45",
        "https://example.com/12345678",
        "CCCD 001099012345",
    ],
)
def test_ordinary_messages_are_not_code_attempts(text: str) -> None:
    assert not looks_like_code_attempt(text)


# --------------------------------------------------------------------------- properties


@given(valid_codes)
def test_valid_codes_round_trip_through_str_and_parse(code: DossierCode) -> None:
    assert parse_code(str(code)) == code
    assert extract_codes(str(code)) == [code]
    assert looks_like_code_attempt(str(code))


@given(valid_codes, st.text(), neighbours, neighbours, st.text())
@example(EXPECTED, "Mã hồ sơ", " ", ".", " cảm ơn")
def test_a_code_inside_any_text_is_extracted(
    code: DossierCode, before: str, left: str, right: str, after: str
) -> None:
    found = extract_codes(before + left + str(code) + right + after)

    assert code in found


@given(
    valid_codes,
    st.booleans(),
    st.booleans(),
    st.sampled_from(["", " ", "  ", "\n"]),
    dashes,
    st.sampled_from(["", ".", ",", " ", "!", ";"]),
    st.lists(st.tuples(st.integers(0, 40), invisible), max_size=3),
)
def test_typing_variants_parse_to_the_same_code(
    code: DossierCode,
    lower: bool,
    wide: bool,
    spacing: str,
    dash: str,
    trailing: str,
    hidden: list[tuple[int, str]],
) -> None:
    typed = str(code).replace("-", f"{spacing}{dash}{spacing}")
    if lower:
        typed = typed.lower()
    if wide:
        typed = full_width(typed)
    for position, char in hidden:
        position = min(position, len(typed))
        typed = typed[:position] + char + typed[position:]
    typed = f"  {typed}{trailing}  "

    assert parse_code(typed) == code
    assert extract_codes(f"mã: {typed}") == [code]


@given(
    agencies,
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.from_regex(r"[0-9]{4,5}", fullmatch=True),
)
def test_impossible_receipt_dates_are_rejected(
    agency: str, year: int, month: int, day: int, sequence: str
) -> None:
    try:
        date(2000 + year, month, day)
    except ValueError:
        pass
    else:
        assume(False)
    text = f"{agency}-{year:02d}{month:02d}{day:02d}-{sequence}"

    with pytest.raises(InvalidCode) as caught:
        parse_code(text)

    assert caught.value.reason == "date"
    assert extract_codes(text) == []


code_alphabet = st.sampled_from([*"0123456789.-–— Hh,_/\u200b\n", "０", "．"])


@given(st.one_of(st.text(), st.text(code_alphabet)))
def test_any_text_parses_or_raises_invalid_code_only(text: str) -> None:
    reason = None
    try:
        code = parse_code(text)
    except InvalidCode as error:
        reason = error.reason
    else:
        assert parse_code(str(code)) == code
    assert reason in {None, "empty", "shape", "agency", "date", "sequence"}
    for found in extract_codes(text):
        assert parse_code(str(found)) == found
    assert isinstance(looks_like_code_attempt(text), bool)


@given(st.text())
def test_normalise_is_idempotent_on_what_the_patterns_see(text: str) -> None:
    once = normalise(text)

    assert extract_codes(once) == extract_codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "0" * 10_000,
        "000." * 2_500,
        "000.00.53.H48 " * 715,
        " " * 10_000,
        "0 " * 5_000,
        "0-" * 5_000,
        "000 . 00 . 53 . H48 - 220921 - " * 330,
        "1.000." * 1_666,
        ("ồ" * 50 + CANONICAL) * 130,
        "\u200b" * 10_000,
        "A1." * 3_333,
    ],
)
def test_ten_thousand_characters_take_bounded_work(text: str) -> None:
    started = time.perf_counter()
    extract_codes(text)
    looks_like_code_attempt(text)
    with pytest.raises(InvalidCode):
        parse_code(text)
    elapsed = time.perf_counter() - started

    # Linear scanning takes a few milliseconds; catastrophic backtracking would take minutes.
    assert elapsed < 1.0
