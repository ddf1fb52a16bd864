"""Server-side SVG bar charts: labelled axes, a title and a description for screen readers; no JavaScript.

Each chart is returned as markup (escaped) to place inline; pages show the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#1d70b8", "#00703c", "#d4351c", "#6f72af", "#b58840", "#505a5f")  # contrast ≥ 3:1 on white
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 720, 320, 56, 72, 36, 16
# Presentation attributes, not classes or style: the CSP forbids inline styles.
TEXT = 'font-family="Arial, sans-serif" font-size="13" fill="#0b0c0c"'


def _ticks(maximum: int) -> list[int]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten), at most six, covering `maximum`."""
    step, scale = 1, 1
    while -(-max(maximum, 1) // step) > 5:
        for factor in (2, 5, 10):
            step = factor * scale
            if -(-max(maximum, 1) // step) <= 5:
                break
        scale *= 10
    return list(range(0, -(-max(maximum, 1) // step) * step + 1, step))


def bar_chart(chart_id: str, title: str, categories: Sequence[str], series: Mapping[str, Sequence[int]],
              x_label: str, y_label: str) -> Markup:
    """A (stacked, when several series) vertical bar chart with axis labels, value labels and a legend."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    ticks = _ticks(max(totals, default=0))
    top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    bar_w = min(56.0, slot * 0.7)
    summary = "; ".join(f"{c}: {t}" for c, t in zip(categories, totals, strict=True))
    parts = [f'<svg class="chart" width="100%" viewBox="0 0 {WIDTH} {HEIGHT + 24 * (len(series) > 1)}" role="img" '
             f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(y_label)} by {escape(x_label)}. {escape(summary)}.</desc>']
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / top
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#b1b4b6" stroke-width="1"/>'
                     f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" {TEXT}>{tick}</text>')
    for i, category in enumerate(categories):
        x = LEFT + slot * i + (slot - bar_w) / 2
        base = TOP + plot_h
        for s, values in enumerate(series.values()):
            h = plot_h * values[i] / top
            if h:
                base -= h
                parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[s % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - 6:.1f}" text-anchor="middle" '
                     f'{TEXT} font-weight="bold">{totals[i]}</text>')
        label_y = TOP + plot_h + 18
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{label_y}" text-anchor="middle" {TEXT}>'
                     f'{escape(category)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="#0b0c0c" stroke-width="2"/><line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" '
                 f'stroke="#0b0c0c" stroke-width="2"/>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - BOTTOM + 48}" text-anchor="middle" '
                 f'{TEXT} font-weight="bold">{escape(x_label)}</text>')
    parts.append(f'<text transform="translate(16 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
                 f'{TEXT} font-weight="bold">{escape(y_label)}</text>')
    if len(series) > 1:
        x = LEFT
        for s, name in enumerate(series):
            parts.append(f'<rect x="{x}" y="{HEIGHT + 2}" width="14" height="14" fill="{PALETTE[s % len(PALETTE)]}"/>'
                         f'<text x="{x + 20}" y="{HEIGHT + 14}" {TEXT}>{escape(name)}</text>')
            x += 30 + 8 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))
