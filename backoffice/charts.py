"""Small server-rendered SVG bar charts for the back office (no JavaScript, no library)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, LEFT, BOTTOM = 720, 180, 48, 22
COLORS = {
    "succeeded": "#2e9d57", "failed": "#d64545", "canceled": "#999999",
    "waiting": "#c9a227", "queued": "#4a90d9", "running": "#7c5cff", "value": "#7c5cff",
    "median": "#7c5cff", "p95 extra": "#c4b5ff",
}  # fmt: skip


def stacked_bars(labels: list[str], series: dict[str, list[float]], *, unit: str = "") -> SafeString:
    """One bar per label, stacked by series (in the given order), with a y axis and a legend."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot_width = WIDTH - LEFT - 8
    slot = plot_width / max(len(labels), 1)
    scale = (HEIGHT - BOTTOM - 8) / top
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT + 20}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">']
    for fraction in (0, 0.5, 1):
        y = HEIGHT - BOTTOM - fraction * top * scale
        label = _tick(fraction * top)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{escape(unit)}{label}</text>'
        )
    for index, label in enumerate(labels):
        x = LEFT + index * slot + slot * 0.15
        y = HEIGHT - BOTTOM
        for name, values in series.items():
            height = values[index] * scale
            if height > 0:
                y -= height
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
                    f'fill="{COLORS.get(name, COLORS["value"])}"><title>{escape(label)} · {escape(name)}: '
                    f"{values[index]:g}</title></rect>"
                )
        if len(labels) <= 12 or index % max(1, len(labels) // 10) == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="10">'
                f"{escape(label)}</text>"
            )
    if len(series) > 1:
        for index, name in enumerate(series):
            x = LEFT + index * 110
            parts.append(
                f'<rect x="{x}" y="{HEIGHT + 6}" width="10" height="10" fill="{COLORS.get(name, COLORS["value"])}"/>'
            )
            parts.append(f'<text x="{x + 14}" y="{HEIGHT + 15}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above; numbers are formatted


def _tick(value: float) -> str:
    """An axis label: whole numbers as such, small values with up to two decimals (0.5, not 0)."""
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}".rstrip("0")
