"""The index as officials read it: a terminal table, CSV with a header, JSON, a PNG chart."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any

from bot.i18n import gettext_for
from surveys.chart import NATIONAL_SIPAS_2024, render_chart
from surveys.elements import ELEMENTS, element_label
from surveys.scoring import SMALL_SAMPLE, GroupScore, IndexReport, Share

__all__ = [
    "NATIONAL_SIPAS_2024",
    "group_dict",
    "render_chart",
    "render_csv",
    "render_json",
    "render_table",
]


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    if _width(text) <= width:
        return text + " " * (width - _width(text))
    cut = text
    while _width(cut) > width - 1:
        cut = cut[:-1]
    return cut + "…" + " " * (width - 1 - _width(cut))


def _share_text(share: Share | None) -> str:
    return "" if share is None else f"{share.index:.1f}"


def _fewest_text(group: GroupScore) -> str:
    """ "E3 12*": the thinnest element and its valid answers, starred when too few."""
    element = group.thinnest_element
    where = f"E{ELEMENTS.index(element) + 1} " if element is not None else ""
    flag = "*" if group.small_sample else ""
    return f"{where}{group.fewest_valid}{flag}"


def _timeliness_cells(group: GroupScore) -> list[str]:
    shares = group.timeliness_shares
    counts = (group.timeliness.early, group.timeliness.on_time, group.timeliness.late)
    if shares is None:
        return ["", "", ""]
    return [f"{share:.0f}% ({count})" for share, count in zip(shares, counts, strict=True)]


def render_table(report: IndexReport, language: str = "vi", name_width: int = 34) -> str:
    """A table for the terminal: rank, group, n, overall, the five elements, quick, timeliness."""
    _ = gettext_for(language)
    by_label = {"agency": _("Agency"), "procedure": _("Procedure"), "field": _("Field")}
    headers = [
        "#",
        by_label[report.by],
        "n",
        _("Index"),
        *(f"E{i}" for i in range(1, len(ELEMENTS) + 1)),
        _("Quick"),
        _("Mean"),
        _("Fewest"),
        _("Ahead"),
        _("On time"),
        _("Late"),
    ]
    rows: list[list[str]] = []
    for group in report.groups:
        rows.append(
            [
                str(group.rank) if group.rank is not None else "–",
                group.name,
                str(group.n),
                _number(group.overall),
                *(_share_text(group.elements.get(e)) for e in ELEMENTS),
                _share_text(group.quick),
                _number(group.mean_score, 2),
                _fewest_text(group),
                *_timeliness_cells(group),
            ]
        )
    widths = [
        max(_width(h), *(_width(r[i]) for r in rows)) if rows else _width(h)
        for i, h in enumerate(headers)
    ]
    widths[1] = min(max(widths[1], 12), name_width)

    def line(cells: list[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            out.append(_fit(cell, widths[i]) if i == 1 else " " * (widths[i] - _width(cell)) + cell)
        return "  ".join(out).rstrip()

    title = _("Satisfaction index by {by}, period {period}").format(
        by=by_label[report.by].lower(), period=report.period.label
    )
    out = [title, "", line(headers), "  ".join("─" * w for w in widths)]
    ranked = len(report.ranked)
    out += [line(row) for row in rows[:ranked]]
    if report.unranked:
        out += [
            "",
            _(
                "Not ranked (fewer than {n} valid answers in some element, or no element answered):"
            ).format(n=SMALL_SAMPLE),
        ]
        out += [line(row) for row in rows[ranked:]]
    if not rows:
        out.append(_("No survey answers or returned dossiers in this period."))
    legend = ", ".join(
        f"E{i} = {element_label(e, language)}" for i, e in enumerate(ELEMENTS, start=1)
    )
    out += [
        "",
        legend,
        _(
            "Index = mean of the element indices (share of answers 4–5 out of 5, in %); Quick = "
            "share satisfied in the one-tap rating; Fewest = the element with the fewest valid "
            "answers and their number (* below {n}: not ranked); Ahead / On time / Late = "
            "returned dossiers against the appointment date, in % (count)."
        ).format(n=SMALL_SAMPLE),
    ]
    return "\n".join(out) + "\n"


def _share_dict(share: Share | None) -> dict[str, Any] | None:
    if share is None:
        return None
    return {
        "valid": share.valid,
        "satisfied": share.satisfied,
        "index": round(share.index, 4),
        "wilson_low": round(share.low, 4),
        "wilson_high": round(share.high, 4),
    }


def group_dict(group: GroupScore) -> dict[str, Any]:
    """One group as plain JSON-able data."""
    return {
        "rank": group.rank,
        "key": group.key,
        "name": group.name,
        "n": group.n,
        "small_sample": group.small_sample,
        "fewest_valid": group.fewest_valid,
        "thinnest_element": group.thinnest_element,
        "overall_index": None if group.overall is None else round(group.overall, 4),
        "mean_score": None if group.mean_score is None else round(group.mean_score, 4),
        "elements": {e: _share_dict(group.elements.get(e)) for e in ELEMENTS},
        "quick_rating": _share_dict(group.quick),
        "timeliness": {
            "early": group.timeliness.early,
            "on_time": group.timeliness.on_time,
            "late": group.timeliness.late,
        },
    }


def render_json(report: IndexReport) -> str:
    """The report for machines."""
    document = {
        "by": report.by,
        "period": report.period.label,
        "small_sample_below": SMALL_SAMPLE,
        "groups": [group_dict(g) for g in report.groups],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render_csv(report: IndexReport) -> str:
    """The report as CSV with a header row (one row per group)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = [
        "period",
        "by",
        "rank",
        "key",
        "name",
        "n",
        "small_sample",
        "fewest_valid",
        "thinnest_element",
        "overall_index",
        "mean_score",
    ]
    for part in (*ELEMENTS, "quick"):
        header += [
            f"{part}_valid",
            f"{part}_satisfied",
            f"{part}_index",
            f"{part}_low",
            f"{part}_high",
        ]
    header += ["early", "on_time", "late"]
    writer.writerow(header)
    for group in report.groups:
        row: list[Any] = [
            report.period.label,
            report.by,
            group.rank if group.rank is not None else "",
            group.key,
            group.name,
            group.n,
            int(group.small_sample),
            group.fewest_valid,
            group.thinnest_element or "",
            _number(group.overall, 4),
            _number(group.mean_score, 4),
        ]
        for share in (*(group.elements.get(e) for e in ELEMENTS), group.quick):
            if share is None:
                row += ["", "", "", "", ""]
            else:
                row += [
                    share.valid,
                    share.satisfied,
                    f"{share.index:.4f}",
                    f"{share.low:.4f}",
                    f"{share.high:.4f}",
                ]
        row += [group.timeliness.early, group.timeliness.on_time, group.timeliness.late]
        writer.writerow(row)
    return buffer.getvalue()
