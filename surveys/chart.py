"""The index as a PNG chart: satisfaction with its intervals beside timeliness, per group.

Left, the overall index of each group with whiskers from the 95 % Wilson intervals of its
elements (averaged, as the index averages the elements), the ranked groups first, best on top,
then the groups listed apart because too few answers back them (grey, no rank). A dashed line
marks the national SIPAS value, labelled as a reference measured by another method. Right,
the same groups' returned dossiers as percentages early / on time / late. A period without
data draws a chart that says so. Drawn on a `matplotlib.figure.Figure` (no pyplot state).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n import Gettext, gettext_for
from surveys.scoring import SMALL_SAMPLE, GroupScore, IndexReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The national SIPAS index of 2024 (design §1), drawn for reference.
NATIONAL_SIPAS_2024 = 83.94
LABEL_WIDTH = 34  # characters per line of a group's name; two lines at most
RANKED_COLOUR, UNRANKED_COLOUR = "#1f6f8b", "#9aa5b1"
TIMELINESS_COLOURS = ("#2e8b57", "#4a90c2", "#c0392b")  # early, on time, late
WIDTH_INCHES, DPI = 12.0, 110


def interval(group: GroupScore) -> tuple[float, float] | None:
    """The overall index's whiskers: the mean of its elements' Wilson bounds."""
    shares = list(group.elements.values())
    if group.overall is None or not shares:
        return None
    low = sum(s.low for s in shares) / len(shares)
    high = sum(s.high for s in shares) / len(shares)
    return min(low, group.overall), max(high, group.overall)


def group_labels(groups: list[GroupScore]) -> list[str]:
    """Each group's name wrapped on two lines at most, its rank in front; names that would
    read the same after shortening get their code added, so no two labels collapse."""

    def shorten(name: str) -> str:
        lines = textwrap.wrap(name, LABEL_WIDTH) or [""]
        if len(lines) > 2:
            lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), LABEL_WIDTH, placeholder="…")]
        return "\n".join(lines)

    shortened = [shorten(g.name) for g in groups]
    labels = []
    for group, text in zip(groups, shortened, strict=True):
        if shortened.count(text) > 1:
            text = f"{text} [{group.key}]"
        prefix = f"{group.rank}. " if group.rank is not None else "– "
        labels.append(prefix + text)
    return labels


def build_chart(report: IndexReport, language: str = "vi") -> Figure:
    """The chart of `report` as a figure (not yet saved)."""
    from matplotlib.figure import Figure

    _ = gettext_for(language)
    by = {"agency": _("Agency"), "procedure": _("Procedure"), "field": _("Field")}[report.by]
    title = _("Satisfaction index by {by}, period {period}").format(
        by=by.lower(), period=report.period.label
    )
    groups = [*report.ranked, *report.unranked]
    if not groups:
        figure = Figure(figsize=(WIDTH_INCHES * 0.75, 3.0), dpi=DPI, layout="constrained")
        axes = figure.add_subplot()
        axes.set_axis_off()
        axes.set_title(title, fontsize=11)
        axes.text(
            0.5,
            0.5,
            _("No survey answers or returned dossiers in this period."),
            ha="center",
            va="center",
            fontsize=11,
            transform=axes.transAxes,
        )
        return figure
    height = max(3.2, 0.62 * len(groups) + 2.2)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    positions = list(range(len(groups)))[::-1]  # best on top
    _satisfaction(left, groups, positions, _)
    _timeliness(right, groups, positions, _)
    left.set_yticks(positions, group_labels(groups), fontsize=8)
    left.set_ylim(-0.7, len(groups) + 0.15)  # room above the top bar for the SIPAS label
    unranked = len(report.unranked)
    if unranked and report.ranked:
        boundary = unranked - 0.5
        for axes in (left, right):
            axes.axhline(boundary, color="#777777", linewidth=0.8, linestyle=":")
    figure.suptitle(title, fontsize=11)
    footnote = "\n".join(
        [
            _(
                "Bars: overall index (mean of the element indices); whiskers: 95 % Wilson "
                "intervals of the elements, averaged. Grey, no rank: fewer than {n} valid answers "
                "in some element, or no element answered."
            ).format(n=SMALL_SAMPLE),
            _(
                "Dashed line: national SIPAS {year} ({value} %), for reference only — measured "
                "by the Ministry of Home Affairs with its own sampled survey, not by this chat "
                "survey."
            ).format(year=2024, value=NATIONAL_SIPAS_2024),
        ]
    )
    figure.supxlabel(footnote, fontsize=7, x=0.01, ha="left", color="#444444")
    return figure


def _satisfaction(
    axes: Axes, groups: list[GroupScore], positions: list[int], gettext: Gettext
) -> None:
    values = [g.overall if g.overall is not None else 0.0 for g in groups]
    colours = [RANKED_COLOUR if g.rank is not None else UNRANKED_COLOUR for g in groups]
    axes.barh(positions, values, color=colours, height=0.6)
    for position, group in zip(positions, groups, strict=True):
        bounds = interval(group)
        if bounds is not None and group.overall is not None:
            axes.errorbar(
                group.overall,
                position,
                xerr=[[group.overall - bounds[0]], [bounds[1] - group.overall]],
                fmt="none",
                ecolor="#333333",
                elinewidth=0.9,
                capsize=3,
            )
        label = (
            f"{group.overall:.1f}  (n={group.n}, min={group.fewest_valid})"
            if group.overall is not None
            else gettext("no element answered (n={n})").format(n=group.n)
        )
        axes.text(101.5, position, label, va="center", fontsize=7)
    axes.axvline(NATIONAL_SIPAS_2024, color="#c0392b", linestyle="--", linewidth=1)
    axes.text(
        NATIONAL_SIPAS_2024 - 0.8,
        len(groups) - 0.45,
        gettext("SIPAS {year} (national, reference)").format(year=2024),
        color="#c0392b",
        fontsize=7,
        ha="right",
        va="bottom",
    )
    axes.set_xlim(0, 135)
    axes.set_xticks([0, 20, 40, 60, 80, 100])
    axes.set_xlabel(gettext("Satisfaction index (%)"), fontsize=9)


def _timeliness(
    axes: Axes, groups: list[GroupScore], positions: list[int], gettext: Gettext
) -> None:
    names = (gettext("Ahead"), gettext("On time"), gettext("Late"))
    starts = [0.0] * len(groups)
    for part, (name, colour) in enumerate(zip(names, TIMELINESS_COLOURS, strict=True)):
        widths = []
        for group in groups:
            shares = group.timeliness_shares
            widths.append(shares[part] if shares is not None else 0.0)
        axes.barh(positions, widths, left=starts, color=colour, height=0.6, label=name)
        for position, start, width in zip(positions, starts, widths, strict=True):
            if width >= 9:
                axes.text(
                    start + width / 2,
                    position,
                    f"{width:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white",
                )
        starts = [s + w for s, w in zip(starts, widths, strict=True)]
    for position, group in zip(positions, groups, strict=True):
        if group.timeliness_shares is None:
            axes.text(2, position, gettext("no returned dossiers"), va="center", fontsize=7)
    axes.set_xlim(0, 100)
    axes.set_xlabel(gettext("Returned dossiers against the appointment date (%)"), fontsize=9)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3, fontsize=7, frameon=False)


def render_chart(report: IndexReport, path: Path, language: str = "vi") -> None:
    """Draw the chart of `report` into the PNG file `path`."""
    build_chart(report, language).savefig(path, format="png")
