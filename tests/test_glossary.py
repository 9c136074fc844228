"""The status names a citizen reads are the national portal's, as docs/glossary.md lists them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.status import Status
from bot.i18n import gettext_for
from bot.wording import STATUS_LABELS, status_label

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.md"
_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*([a-z_]+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$")


def glossary_statuses() -> dict[int, tuple[str, str, str]]:
    """Code → (case API value, Vietnamese, English) from the glossary's status table."""
    rows: dict[int, tuple[str, str, str]] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line.strip())
        if match:
            rows[int(match.group(1))] = (match.group(2), match.group(3), match.group(4))
    return rows


def test_the_glossary_lists_every_status_once() -> None:
    rows = glossary_statuses()
    assert sorted(rows) == list(range(1, 11))
    assert {value for value, _, _ in rows.values()} == {s.value for s in Status}


@pytest.mark.parametrize("status", list(Status))
def test_catalog_status_names_are_the_glossarys(status: Status) -> None:
    value, vietnamese, english = glossary_statuses()[status.code]
    assert value == status.value
    assert status_label(status, gettext_for("vi")) == vietnamese
    assert status_label(status, gettext_for("en")) == english


def test_no_old_names_survive() -> None:
    names = {status_label(s, gettext_for("vi")) for s in STATUS_LABELS}
    assert "Chờ nộp phí, lệ phí" not in names
    assert "Yêu cầu bổ sung hồ sơ" in names
    assert "Yêu cầu thực hiện nghĩa vụ tài chính" in names


def test_reports_say_truoc_han() -> None:
    vi = gettext_for("vi")
    assert (vi("Ahead"), vi("On time")) == ("Trước hạn", "Đúng hạn")
