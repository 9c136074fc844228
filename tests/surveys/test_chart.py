"""The PNG chart: what an official sees, opened as an image (warnings are errors here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from surveys.chart import DPI, WIDTH_INCHES, build_chart, group_labels, interval, render_chart
from surveys.periods import parse_period
from surveys.scoring import (
    SMALL_SAMPLE,
    GroupScore,
    IndexReport,
    Share,
    Timeliness,
    rank_groups,
)

PERIOD = parse_period("2026-Q3")
ELEMENTS = ("access", "procedure", "staff", "result", "feedback")


def _group(key: str, name: str, valid: int, satisfied: int, **extra: object) -> GroupScore:
    group = GroupScore(key=key, name=name, n=valid)
    group.elements = {e: Share.of(valid, satisfied) for e in ELEMENTS}
    group.overall = 100.0 * satisfied / valid
    group.mean_score = 4.0
    for attribute, value in extra.items():
        setattr(group, attribute, value)
    return group


def _report(*groups: GroupScore) -> IndexReport:
    return IndexReport(by="procedure", period=PERIOD, groups=rank_groups(groups))


def _texts(report: IndexReport, language: str = "vi") -> str:
    figure = build_chart(report, language)
    found = [t.get_text() for t in figure.findobj(match=lambda o: hasattr(o, "get_text"))]
    return "\n".join(found)


def test_the_png_opens_with_its_size(tmp_path: Path) -> None:
    report = _report(
        _group("1.001", "Đăng ký khai sinh", 40, 36, timeliness=Timeliness(10, 25, 5)),
        _group("1.002", "Đăng ký kết hôn", 35, 20, timeliness=Timeliness(0, 30, 5)),
        _group("1.003", "Chứng thực bản sao", 1, 1),
    )
    path = tmp_path / "index.png"
    render_chart(report, path, "vi")
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width == pytest.approx(WIDTH_INCHES * DPI, abs=2)
    assert height >= 3 * DPI


def test_only_groups_with_enough_answers_are_ranked_and_drawn_first() -> None:
    lucky = _group("X", "Một câu trả lời 100 %", 1, 1)
    solid = _group("Y", "Ba mươi câu trả lời", SMALL_SAMPLE, 25)
    report = _report(lucky, solid)
    assert [g.key for g in report.groups] == ["Y", "X"]
    assert (solid.rank, lucky.rank) == (1, None)
    labels = group_labels(list(report.groups))
    assert labels == ["1. Ba mươi câu trả lời", "– Một câu trả lời 100 %"]


def test_intervals_timeliness_and_the_sipas_reference_are_drawn() -> None:
    group = _group("A", "UBND phường 1", 40, 30, timeliness=Timeliness(8, 30, 2))
    low, high = interval(group)  # type: ignore[misc]
    assert low < 75.0 < high
    texts = _texts(_report(group))
    assert "SIPAS 2024 (toàn quốc, tham khảo)" in texts
    assert "không phải bằng khảo sát qua trợ lý này" in texts  # another method
    assert "75%" in texts and "20%" in texts  # on time 30/40, early 8/40, as percentages
    assert "Trước hạn" in texts and "Đúng hạn" in texts and "Trễ hạn" in texts
    english = _texts(_report(group), "en")
    assert "SIPAS 2024 (national, reference)" in english


def test_an_empty_period_says_so_without_a_warning(tmp_path: Path) -> None:
    report = _report()
    assert "Không có câu trả lời khảo sát hay hồ sơ đã trả kết quả nào" in _texts(report)
    assert "No survey answers or returned dossiers in this period." in _texts(report, "en")
    path = tmp_path / "empty.png"
    render_chart(report, path, "vi")  # pytest turns any warning into an error
    with Image.open(path) as image:
        assert image.size[0] > 0


def test_long_names_keep_distinct_labels() -> None:
    stem = "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền"
    groups = [
        _group("1.004227", stem + " với đất lần đầu", SMALL_SAMPLE, 20),
        _group("1.004221", stem + " với đất cho người đã đăng ký", SMALL_SAMPLE, 21),
    ]
    labels = group_labels(list(_report(*groups).groups))
    assert len(set(labels)) == 2
    assert all(label.count("\n") <= 1 for label in labels)


def test_a_missing_output_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTCUA_DATABASE_URL", f"sqlite:///{tmp_path / 'motcua.db'}")
    target = tmp_path / "no" / "such" / "index.png"
    assert main(["index", "--chart", str(target)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no folder" in err and "Traceback" not in err
