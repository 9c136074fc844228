"""The generated district-year: shape, realism and determinism."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest

from bot.caseapi.simulator import catalog, generate
from bot.caseapi.simulator.people import normalize_phone
from bot.caseapi.simulator.record import SimDossier
from bot.caseapi.simulator.worktime import DAY, VN_TZ, due_after, from_ws, to_ws
from bot.domain.dossier import Dossier
from bot.domain.status import Status
from tests.caseapi.conftest import NOW

CODE = re.compile(r"^(\d{3}\.\d{2}\.\d{2}\.H\d{2})-(\d{6})-(\d{4,5})$")


@pytest.fixture(scope="module")
def year() -> list[SimDossier]:
    """A full-size district-year (the default 90,000 dossiers)."""
    return generate(seed=11, now=NOW)


def test_every_status_of_the_portal_appears(year: list[SimDossier]) -> None:
    counts = Counter(d.status for d in year)
    assert set(counts) == set(Status)
    # A year ending now: most dossiers are long finished and handed over.
    assert counts[Status.RETURNED] / len(year) > 0.9


def test_a_sample_of_thousands_validates_against_the_dossier_model(
    year: list[SimDossier],
) -> None:
    for dossier in year[::15]:  # 6,000 dossiers
        model = Dossier.model_validate(dossier.to_json())
        assert model.code == dossier.code
        assert model.status is dossier.status


def test_every_status_validates_against_the_dossier_model(year: list[SimDossier]) -> None:
    for status in Status:
        examples = [d for d in year if d.status is status][:50]
        for dossier in examples:
            assert Dossier.model_validate(dossier.to_json()).status_code == status.code


def test_codes_follow_the_national_format_with_daily_sequences(year: list[SimDossier]) -> None:
    numbers: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for dossier in year:
        match = CODE.match(dossier.code)
        assert match, dossier.code
        agency, day, number = match.groups()
        assert agency == dossier.agency.code
        numbers[(agency, day)].append(int(number))
        if dossier.received_at is not None:
            # An online filing takes its code the day it is filed, at or before reception.
            assert day <= dossier.received_at.strftime("%y%m%d")
    assert len({d.code for d in year}) == len(year)
    for sequence in numbers.values():
        assert sorted(sequence) == list(range(1, len(sequence) + 1))


def test_communes_receive_about_eight_times_the_district(year: list[SimDossier]) -> None:
    levels = Counter(d.agency.level for d in year)
    ratio = levels[catalog.Level.COMMUNE] / levels[catalog.Level.DISTRICT]
    assert 7 < ratio < 10
    assert len({d.agency.code for d in year}) == len(catalog.AGENCIES)
    assert all(d.procedure.level is d.agency.level for d in year)
    assert len({d.procedure.code for d in year}) >= 30


def test_applicants_have_vietnamese_names_phones_and_pins(year: list[SimDossier]) -> None:
    for dossier in year[:2000]:
        assert len(dossier.applicant.split()) >= 3
        assert re.fullmatch(r"\+84(3|5|7|8|9)\d{8}", dossier.phone), dossier.phone
        assert normalize_phone(dossier.phone) == dossier.phone
        assert re.fullmatch(r"\d{6}", dossier.pin)
    with_diacritics = sum(not d.applicant.isascii() for d in year[:2000])
    assert with_diacritics > 1500
    surnames = Counter(d.applicant.split()[0] for d in year)
    assert surnames.most_common(1)[0][0] == "Nguyễn"


def test_times_are_vietnam_time_and_appointments_fall_on_working_days(
    year: list[SimDossier],
) -> None:
    now = NOW.astimezone(VN_TZ)
    for dossier in year:
        assert dossier.status_changed_at <= now
        assert dossier.status_changed_at.utcoffset() == timedelta(hours=7)
        for due in (dossier.due_at, dossier.original_due_at):
            if due is not None:
                assert due.weekday() < 5
                assert (due.hour, due.minute) == (17, 0)
        if dossier.received_at is not None:
            assert dossier.received_at.weekday() < 5
            assert dossier.received_at <= dossier.status_changed_at
            assert dossier.due_at is not None
            assert dossier.due_at >= dossier.received_at
        else:
            assert dossier.status in (Status.SUBMITTED, Status.NOT_ACCEPTED)
            assert dossier.due_at is None


def test_each_status_carries_what_a_citizen_needs(year: list[SimDossier]) -> None:
    for dossier in year:
        status = dossier.status
        if status in (Status.SUPPLEMENT_REQUIRED, Status.NOT_ACCEPTED, Status.STOPPED):
            assert dossier.note
        if status is Status.PAYMENT_REQUIRED:
            assert dossier.fee is not None
            assert dossier.fee >= 1_000_000
            assert dossier.note
        if status is Status.RETURNED:
            assert dossier.returned_at == dossier.status_changed_at
        else:
            assert dossier.returned_at is None
        has_result = status in (Status.READY, Status.RETURNED)
        assert dossier.pickup == (has_result and dossier.delivery == "counter")
    assert all(d.fee is None for d in year if d.status is Status.NOT_ACCEPTED)
    assert any(d.fee for d in year if d.status is Status.RETURNED)


def test_some_late_dossiers_are_extended_with_an_apology(year: list[SimDossier]) -> None:
    extended = [d for d in year if d.original_due_at is not None]
    assert len(extended) > 100
    for dossier in extended:
        assert dossier.due_at is not None
        assert dossier.original_due_at is not None
        assert dossier.due_at > dossier.original_due_at
    # Until something else happens to it, an extended dossier shows the agency's apology.
    apologies = [d.note for d in extended if d.status is Status.PROCESSING and d.note]
    assert apologies
    assert all("xin lỗi" in note and "Ngày hẹn trả kết quả mới" in note for note in apologies)


def test_a_small_share_is_returned_by_post(year: list[SimDossier]) -> None:
    share = sum(d.delivery == "post" for d in year) / len(year)
    assert 0.05 <= share <= 0.10


def test_the_same_seed_gives_the_same_data() -> None:
    first = generate(seed=3, count=2_000, now=NOW)
    second = generate(seed=3, count=2_000, now=NOW)
    assert [(d.to_json(), d.pin, d.phone) for d in first] == [
        (d.to_json(), d.pin, d.phone) for d in second
    ]
    other = generate(seed=4, count=2_000, now=NOW)
    assert [d.to_json() for d in other] != [d.to_json() for d in first]


def test_working_time_skips_nights_lunch_and_weekends() -> None:
    friday_afternoon = datetime(2025, 6, 20, 16, 0, tzinfo=VN_TZ)
    ws = to_ws(friday_afternoon)
    assert from_ws(ws) == friday_afternoon
    assert from_ws(ws + 3600) == datetime(2025, 6, 23, 7, 30, tzinfo=VN_TZ)  # Monday
    assert from_ws(to_ws(datetime(2025, 6, 18, 12, 15, tzinfo=VN_TZ))) == datetime(
        2025, 6, 18, 13, 30, tzinfo=VN_TZ
    )
    assert to_ws(datetime(2025, 6, 21, 9, 0, tzinfo=VN_TZ)) == (ws // DAY + 1) * DAY
    assert due_after(friday_afternoon, 1).date() == date(2025, 6, 23)
    assert due_after(friday_afternoon, 0) == datetime(2025, 6, 20, 17, 0, tzinfo=VN_TZ)
    assert due_after(datetime(2025, 6, 16, 9, 0, tzinfo=VN_TZ), 15).date() == date(2025, 7, 7)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912 345 678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("(+84) 0912.345.678", "+84912345678"),
        ("0349-123-456", "+84349123456"),
        ("912345678", None),
        ("+1 912345678", None),
        ("09123456789", None),
        ("phone", None),
    ],
)
def test_phone_numbers_are_normalised(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected
