"""Small charts as server-rendered SVG: lines (sales runs) and bars (occupancy, revenue).

No client charting library: each chart is a handful of SVG elements with a <title> and <desc>
(`role="img"`), and the page puts a table with the same numbers beside it. Every label is
escaped; the SVG scales to its container (`viewBox`), so it fits a 320 px phone as well.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48
# Colours that stay apart for the common colour blindnesses (Okabe-Ito).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


@attrs.frozen
class Series:
    label: str
    points: tuple[tuple[float, float], ...]


def _nice_top(value: float) -> float:
    """A round number at or above `value` for the top of the axis."""
    if value <= 0:
        return 1
    step = 10 ** (len(str(int(value))) - 1)
    top = step
    while top < value:
        top += step
    return float(top)


def _frame(chart_id: str, title: str, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' class="chart" id="{escape(chart_id)}" aria-labelledby="{escape(chart_id)}-titel'
        f' {escape(chart_id)}-uitleg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(chart_id)}-titel">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-uitleg">{escape(description)}</desc>',
    ]


def _y_axis(top: float, money: bool) -> list[str]:
    parts = []
    plot_h = HEIGHT - TOP - BOTTOM
    for n in range(5):
        value = top * n / 4
        y = TOP + plot_h - plot_h * n / 4
        text = f"€{value / 100:,.0f}".replace(",", ".") if money else f"{value:g}"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"'
            ' stroke="#ccc" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12">'
            f"{escape(text)}</text>"
        )
    return parts


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    *,
    x_label: str,
    reverse_x: bool = False,
) -> Markup:
    """Lines through each series' (x, y) points; with `reverse_x` the largest x is left (days
    before a start count down to 0)."""
    xs = [x for s in series for x, _y in s.points] or [0.0]
    # Counts: a top that four grid steps divide into whole numbers.
    top = float(math.ceil(_nice_top(max([y for s in series for _x, y in s.points] or [0])) / 4) * 4)
    low, high = min(xs), max(xs)
    span = (high - low) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(x: float) -> float:
        share = (high - x) / span if reverse_x else (x - low) / span
        return LEFT + plot_w * share

    def y_at(y: float) -> float:
        return TOP + plot_h - plot_h * y / top

    parts = _frame(chart_id, title, description) + _y_axis(top, money=False)
    for n, s in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        coords = " ".join(f"{x_at(x):.1f},{y_at(y):.1f}" for x, y in s.points)
        parts.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2.5"'
            f' points="{coords}"><title>{escape(s.label)}</title></polyline>'
        )
        for x, y in s.points[-1:]:
            parts.append(f'<circle cx="{x_at(x):.1f}" cy="{y_at(y):.1f}" r="3.5" fill="{colour}"/>')
    for x in sorted({low, high}):
        parts.append(
            f'<text x="{x_at(x):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle"'
            f' font-size="12">{x:g}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle"'
        f' font-size="12">{escape(x_label)}</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 (every label and text above is escaped)


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[tuple[str, float]],
    *,
    money: bool = False,
    top: float | None = None,
) -> Markup:
    """One bar per (label, value); labels are shown when there is room, else in the table."""
    top = top or _nice_top(max([value for _label, value in bars] or [0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    parts = _frame(chart_id, title, description) + _y_axis(top, money=money)
    for n, (label, value) in enumerate(bars):
        height = plot_h * min(value, top) / top
        x = LEFT + slot * n + slot * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - height:.1f}"'
            f' width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{COLOURS[0]}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
        )
        if len(bars) <= 12:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle"'
                f' font-size="11">{escape(label[:14])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every label and text above is escaped)
