"""Server-side SVG charts: no script, no CDN, readable in an air-gapped district.

Each chart is a complete ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (its alt
text), a ``<title>`` on every bar (the value on hover), and presentation attributes only (no
inline styles), so the pages' Content-Security-Policy can forbid inline styles and scripts.
A suppressed value (None) is drawn as a short hatched stub labelled "fewer than k".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
BLUE, AMBER, GREEN, RED, SLATE = "#2563eb", "#f59e0b", "#16a34a", "#dc2626", "#94a3b8"
PALETTE = (BLUE, "#0891b2", "#7c3aed", "#16a34a", "#65a30d", "#dc2626", SLATE)


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: Sequence[float | None]  # None = suppressed


def _nice_max(value: float) -> tuple[float, float]:
    """An axis maximum at or above ``value`` and its tick step (1, 2 or 5 times a power of 10)."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if step < 1 and value >= 4:
        step = 1.0
    return step * math.ceil(value / step), step


def _fmt(value: float) -> str:
    if abs(value) >= 10000:
        return f"{value / 1000:.0f}k"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:.1f}"


def _head(width: int, height: int, title: str, alt: str, ident: str) -> list[str]:
    t, d = f"{ident}-title", f"{ident}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{t} {d}" font-family="{FONT}" data-chart="{escape(ident)}">',
        f'<title id="{t}">{escape(title)}</title><desc id="{d}">{escape(alt)}</desc>',
        '<defs><pattern id="hatch-' + escape(ident) + '" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#f1f5f9"/><line x1="0" y1="0" x2="0" y2="6" '
        f'stroke="{SLATE}" stroke-width="2"/></pattern></defs>',
    ]


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out, cx = [], x
    for s in series:
        out.append(
            f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="11" height="11" rx="2" fill="{s.color}"/>'
        )
        out.append(
            f'<text x="{cx + 16:.1f}" y="{y:.1f}" font-size="12" fill="{INK}">'
            f"{escape(s.name)}</text>"
        )
        cx += 26 + 7.2 * len(s.name)
    return out


def columns(
    ident: str,
    title: str,
    alt: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    k: int,
    width: int = 760,
    height: int = 280,
    percent: bool = False,
) -> str:
    """Stacked columns, one per category (a week, a month)."""
    left, right, top, bottom = 48, 12, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(v or 0 for v in (s.values[i] for s in series)) for i in range(len(categories))]
    top_value, step = (100.0, 25.0) if percent else _nice_max(max(totals, default=0))
    out = _head(width, height, title, alt, ident)
    out += _legend(series, left, 18)
    for n in range(int(round(top_value / step)) + 1):
        value = n * step
        y = top + plot_h - plot_h * value / top_value
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        label = f"{_fmt(value)}%" if percent else _fmt(value)
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="{MUTED}" '
            f'text-anchor="end">{label}</text>'
        )
    count = max(1, len(categories))
    slot = plot_w / count
    bar = min(44.0, slot * 0.7)
    every = max(1, math.ceil(count / 12))  # at most ~12 axis labels
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        base: float = top + plot_h
        hidden = [s for s in series if s.values[i] is None]
        if len(hidden) == len(series):
            stub = min(plot_h * 0.18, 28)
            out.append(
                f'<rect x="{x:.1f}" y="{base - stub:.1f}" width="{bar:.1f}" '
                f'height="{stub:.1f}" fill="url(#hatch-{escape(ident)})" rx="2">'
                f"<title>{escape(category)}: fewer than {k}</title></rect>"
            )
        else:
            for s in series:
                value = float(s.values[i] or 0)
                h = plot_h * value / top_value
                if h <= 0:
                    continue
                base -= h
                shown = f"{value:.0f}%" if percent else _fmt(value)
                out.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{s.color}"><title>{escape(category)}: {escape(s.name)} '
                    f"{shown}</title></rect>"
                )
            if hidden:  # some parts are about too few people: a hatched cap says so
                names = ", ".join(s.name for s in hidden)
                cap = min(10.0, base - top)
                out.append(
                    f'<rect x="{x:.1f}" y="{base - cap:.1f}" width="{bar:.1f}" '
                    f'height="{cap:.1f}" fill="url(#hatch-{escape(ident)})">'
                    f"<title>{escape(category)}: {escape(names)} fewer than {k}"
                    "</title></rect>"
                )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16:.1f}" font-size="11" '
                f'fill="{MUTED}" text-anchor="middle">{escape(category)}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    out.append("</svg>")
    return "".join(out)


def bars(
    ident: str,
    title: str,
    alt: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    k: int,
    color: str = BLUE,
    width: int = 760,
    unit: str = "",
) -> str:
    """Horizontal bars, one per label, largest first as given."""
    row, right, top = 28, 70, 8
    label_w = int(width * 0.4)
    chars = max(12, int((label_w - 14) / 7.2))  # about 7 px a character at 13 px
    height = top + row * max(1, len(labels)) + 8
    plot_w = width - label_w - right
    top_value = max((v for v in values if v is not None), default=0) or 1
    out = _head(width, height, title, alt, ident)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row * i
        short = label if len(label) <= chars else label[: chars - 1].rstrip() + "…"
        out.append(
            f'<text x="{label_w - 10}" y="{y + 18}" font-size="13" fill="{INK}" '
            f'text-anchor="end">{escape(short)}<title>{escape(label)}</title></text>'
        )
        if value is None:
            out.append(
                f'<rect x="{label_w}" y="{y + 6}" width="34" height="16" rx="3" '
                f'fill="url(#hatch-{escape(ident)})"><title>{escape(label)}: fewer than '
                f"{k}</title></rect>"
            )
            out.append(
                f'<text x="{label_w + 40}" y="{y + 18}" font-size="12" fill="{MUTED}">'
                f"fewer than {k}</text>"
            )
            continue
        w = max(2.0, plot_w * value / top_value)
        out.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="16" rx="3" '
            f'fill="{color}"><title>{escape(label)}: {_fmt(value)}{unit}</title></rect>'
        )
        out.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" font-size="12" '
            f'fill="{INK}">{_fmt(value)}{unit}</text>'
        )
    out.append("</svg>")
    return "".join(out)
