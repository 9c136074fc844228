"""The index as officials read it: a terminal table, CSV with a header, JSON, a PNG chart."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

from bot.i18n import gettext_for
from surveys.elements import ELEMENTS, element_label
from surveys.scoring import SMALL_SAMPLE, GroupScore, IndexReport, Share

# The national SIPAS index of 2024 (design §1), drawn on the chart for comparison.
NATIONAL_SIPAS_2024 = 83.94


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
        _("Early"),
        _("On time"),
        _("Late"),
    ]
    rows: list[list[str]] = []
    for group in report.groups:
        flag = "*" if group.small_sample and group.n > 0 else ""
        rows.append(
            [
                str(group.rank) if group.rank is not None else "–",
                group.name,
                f"{group.n}{flag}",
                _number(group.overall),
                *(_share_text(group.elements.get(e)) for e in ELEMENTS),
                _share_text(group.quick),
                _number(group.mean_score, 2),
                str(group.timeliness.early),
                str(group.timeliness.on_time),
                str(group.timeliness.late),
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
    out += [line(row) for row in rows]
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
            "share satisfied in the one-tap rating; * = fewer than {n} responses."
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


def render_chart(report: IndexReport, path: Path, language: str = "vi") -> None:
    """A PNG bar chart of the ranking: overall index per group, best on top."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    _ = gettext_for(language)
    ranked = [g for g in report.groups if g.overall is not None]
    height = max(2.5, 0.42 * len(ranked) + 1.6)
    figure, axes = pyplot.subplots(figsize=(10, height), dpi=120)
    try:
        names = [g.name if len(g.name) <= 45 else g.name[:44] + "…" for g in ranked]
        values = [g.overall or 0.0 for g in ranked]
        colours = ["#9aa5b1" if g.small_sample else "#1f6f8b" for g in ranked]
        positions = list(range(len(ranked)))[::-1]
        bars = axes.barh(positions, values, color=colours)
        for bar, group in zip(bars, ranked, strict=True):
            axes.text(
                bar.get_width() + 0.8,
                bar.get_y() + bar.get_height() / 2,
                f"{group.overall:.1f}  (n={group.n})",
                va="center",
                fontsize=8,
            )
        axes.set_yticks(positions, names, fontsize=8)
        axes.set_xlim(0, 112)
        axes.axvline(NATIONAL_SIPAS_2024, color="#c0392b", linestyle="--", linewidth=1)
        axes.text(
            NATIONAL_SIPAS_2024,
            len(ranked) - 0.4 if ranked else 0.5,
            _("national SIPAS 2024: {value}").format(value=NATIONAL_SIPAS_2024),
            color="#c0392b",
            fontsize=7,
            ha="right",
        )
        axes.set_xlabel(_("Satisfaction index (%)"))
        axes.set_title(
            _("Satisfaction index by {by}, period {period}").format(
                by={"agency": _("Agency"), "procedure": _("Procedure"), "field": _("Field")}[
                    report.by
                ].lower(),
                period=report.period.label,
            ),
            fontsize=10,
        )
        if not ranked:
            axes.text(50, 0.5, _("No survey answers in this period."), ha="center")
        else:
            axes.text(
                0,
                -1.2,
                _("grey: fewer than {n} responses").format(n=SMALL_SAMPLE),
                fontsize=7,
                color="#555555",
            )
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        pyplot.close(figure)
