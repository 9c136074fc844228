"""Charts drawn as inline SVG on the server: real text and shapes (searchable, zoomable, read
out by screen readers through their ``<title>`` and ``<desc>``), no picture of text and no
script. Each function returns markup safe to insert into a template; every label is escaped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_ids = itertools.count(1)

WIDTH = 640
COLOURS = {"bar": "#1f6f8b", "small": "#9fc3d1", "line": "#b5442c", "ref": "#555"}
TIMELINESS_COLOURS = ("#2e7d32", "#1f6f8b", "#c62828")


def _svg(title: str, desc: str, height: int, body: list[str]) -> Markup:
    uid = next(_ids)
    # Every text and label inside was escaped where it was put in (`_text`, `escape`).
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-t{uid} chart-d{uid}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-t{uid}">{escape(title)}</title>'
        f'<desc id="chart-d{uid}">{escape(desc)}</desc>{"".join(body)}</svg>'
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", cls: str = "") -> str:
    css = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{css}>{escape(text)}</text>'


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the ranking: a label, the index, and whether the sample is small."""

    label: str
    value: float
    small_sample: bool = False


def ranking(
    bars: Sequence[Bar], *, title: str, desc: str, reference: float | None, ref_label: str
) -> Markup:
    """Horizontal bars of the index (0–100), best first; small samples drawn paler."""
    row, top, left, right = 22, 10, 200, 50
    height = top + row * max(len(bars), 1) + 30
    span = WIDTH - left - right
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = top + i * row
        width = max(0.0, min(bar.value, 100.0)) / 100 * span
        colour = COLOURS["small"] if bar.small_sample else COLOURS["bar"]
        body.append(_text(left - 6, y + 15, _short(bar.label), anchor="end"))
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
            f'fill="{colour}"><title>{escape(bar.label)}: {bar.value:.1f}</title></rect>'
        )
        mark = " *" if bar.small_sample else ""
        body.append(_text(left + width + 4, y + 15, f"{bar.value:.1f}{mark}"))
    axis_y = top + row * max(len(bars), 1) + 4
    for tick in (0, 50, 100):
        x = left + tick / 100 * span
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y}" class="grid"/>')
        body.append(_text(x, axis_y + 16, str(tick), anchor="middle", cls="axis"))
    if reference is not None:
        x = left + reference / 100 * span
        body.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y}" '
            f'stroke="{COLOURS["ref"]}" stroke-dasharray="4 3"/>'
        )
        body.append(_text(x, axis_y + 16, ref_label, anchor="middle", cls="axis ref"))
    return _svg(title, desc, height + 10, body)


def trend(
    points: Sequence[tuple[str, float | None]], *, title: str, desc: str, reference: float | None
) -> Markup:
    """The index month by month (gaps where a month had no answer)."""
    height, top, bottom, left, right = 220, 12, 40, 40, 16
    span_x = WIDTH - left - right
    span_y = height - top - bottom
    step = span_x / max(len(points) - 1, 1)
    body: list[str] = []
    for tick in (0, 25, 50, 75, 100):
        y = top + span_y * (1 - tick / 100)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" class="grid"/>'
        )
        body.append(_text(left - 6, y + 4, str(tick), anchor="end", cls="axis"))
    if reference is not None:
        y = top + span_y * (1 - reference / 100)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            f'stroke="{COLOURS["ref"]}" stroke-dasharray="4 3"/>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (label, value) in enumerate(points):
        x = left + i * step
        body.append(_text(x, height - bottom + 18, label, anchor="middle", cls="axis"))
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = top + span_y * (1 - max(0.0, min(value, 100.0)) / 100)
        segment.append(f"{x:.1f},{y:.1f}")
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{COLOURS["line"]}">'
            f"<title>{escape(label)}: {value:.1f}</title></circle>"
        )
    if segment:
        segments.append(segment)
    for part in segments:
        if len(part) > 1:
            body.insert(
                0,
                f'<polyline points="{" ".join(part)}" fill="none" '
                f'stroke="{COLOURS["line"]}" stroke-width="2"/>',
            )
    return _svg(title, desc, height, body)


def stacked_shares(
    rows: Sequence[tuple[str, Sequence[int]]],
    *,
    legend: Sequence[str],
    title: str,
    desc: str,
) -> Markup:
    """One 100 % bar per row split into parts (e.g. early / on time / late), with a legend."""
    row, top, left, right = 24, 30, 200, 16
    span = WIDTH - left - right
    body: list[str] = []
    x = float(left)
    for colour, name in zip(TIMELINESS_COLOURS, legend, strict=False):
        body.append(f'<rect x="{x:.1f}" y="8" width="12" height="12" fill="{colour}"/>')
        body.append(_text(x + 16, 18, name))
        x += 24 + 8 * len(name)
    for i, (label, parts) in enumerate(rows):
        y = top + i * row
        total = sum(parts)
        body.append(_text(left - 6, y + 16, _short(label), anchor="end"))
        x = float(left)
        for colour, name, count in zip(TIMELINESS_COLOURS, legend, parts, strict=False):
            width = span * count / total if total else 0.0
            if width > 0:
                share = 100 * count / total
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
                    f'fill="{colour}"><title>{escape(label)} — {escape(name)}: {count} '
                    f"({share:.1f} %)</title></rect>"
                )
                if width > 34:
                    body.append(
                        _text(x + width / 2, y + 16, f"{share:.0f}%", anchor="middle", cls="inbar")
                    )
            x += width
    return _svg(title, desc, top + row * max(len(rows), 1) + 8, body)


def columns(values: Sequence[tuple[str, int]], *, title: str, desc: str, every: int = 5) -> Markup:
    """Vertical bars of counts (e.g. lookups per day), every `every`-th label shown."""
    height, top, bottom, left, right = 200, 12, 34, 44, 10
    span_x = WIDTH - left - right
    span_y = height - top - bottom
    peak = max((v for _l, v in values), default=0) or 1
    width = span_x / max(len(values), 1)
    body: list[str] = [
        f'<line x1="{left}" y1="{top + span_y}" x2="{WIDTH - right}" y2="{top + span_y}" '
        'class="grid"/>',
        _text(left - 6, top + 8, str(peak), anchor="end", cls="axis"),
        _text(left - 6, top + span_y, "0", anchor="end", cls="axis"),
    ]
    for i, (label, value) in enumerate(values):
        x = left + i * width
        h = span_y * value / peak
        body.append(
            f'<rect x="{x + 1:.1f}" y="{top + span_y - h:.1f}" width="{max(width - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{COLOURS["bar"]}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if i % every == 0:
            body.append(
                _text(x + width / 2, height - bottom + 18, label, anchor="middle", cls="axis")
            )
    return _svg(title, desc, height, body)
