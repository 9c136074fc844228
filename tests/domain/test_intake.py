"""`bot.domain.intake`: one case-system item checked on its own; future times settled."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.domain.dossier import Dossier
from bot.domain.intake import (
    MAX_RAW_CHARS,
    RejectedItem,
    clip,
    parse_item,
    settle,
)
from bot.domain.status import Status
from tests.notify.watch_support import CODE, T0, dossier


def raw(**changes: object) -> dict[str, object]:
    body: dict[str, object] = json.loads(dossier(Status.READY).model_dump_json())
    body.update(changes)
    return body


def test_a_valid_item_is_a_dossier() -> None:
    assert isinstance(parse_item(raw()), Dossier)


def test_a_rejected_item_names_the_fields_but_never_their_values() -> None:
    rejected = parse_item(
        raw(fee={"amount": -1, "currency": "USD"}, applicant={"name": 7}), position=3
    )
    assert isinstance(rejected, RejectedItem)
    assert rejected.code == CODE and rejected.position == 3
    assert "fee.amount: greater_than_equal" in rejected.reason
    assert "fee.currency: literal_error" in rejected.reason
    assert "applicant.name: string_type" in rejected.reason
    assert "USD" not in rejected.reason and "Nguyễn" not in rejected.reason
    assert '"currency": "USD"' in rejected.raw


@pytest.mark.parametrize("code", ["X" * 65, " ", "000.00.15.H12-250310-0042\x00", "A\nB"])
def test_a_code_the_database_cannot_key_on_is_rejected(code: str) -> None:
    rejected = parse_item(raw(code=code))
    assert isinstance(rejected, RejectedItem)
    assert rejected.code is None and "cannot be stored" in rejected.reason


def test_the_kept_copy_of_a_huge_item_is_bounded() -> None:
    rejected = parse_item(raw(note="x" * 100_000, fee={"amount": -1}))
    assert isinstance(rejected, RejectedItem)
    assert len(rejected.raw) == MAX_RAW_CHARS and rejected.raw.endswith("…")


def test_clip_marks_a_cut() -> None:
    assert clip("abcdef", 6) == "abcdef"
    assert clip("abcdefg", 6) == "abcde…"


def test_settle_takes_far_future_past_times_as_now_and_leaves_due_dates() -> None:
    now = T0
    far = T0 + timedelta(days=3650)
    moved = settle(dossier(Status.READY, status_changed_at=far, received_at=far, due_at=far), now)
    assert moved.status_changed_at == now and moved.received_at == now
    assert moved.due_at == far
    near = T0 + timedelta(minutes=4)
    assert settle(dossier(status_changed_at=near), now).status_changed_at == near


def test_settle_keeps_the_held_time_when_the_status_repeats() -> None:
    held = T0 - timedelta(hours=1)
    far = T0 + timedelta(days=1)
    repeat = settle(dossier(Status.READY, status_changed_at=far), T0, previous=(Status.READY, held))
    assert repeat.status_changed_at == held
    other = settle(
        dossier(Status.RETURNED, status_changed_at=far), T0, previous=(Status.READY, held)
    )
    assert other.status_changed_at == T0
