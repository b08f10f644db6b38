"""The weekly digest and gap notices as neutral replies (sending waits for the core pipeline).

``digest_message`` turns ``insights.digest.Digest`` into a ``Reply`` plus its chart (SVG for
pages and Teams cards, PNG for Slack file uploads); ``gap_notice_reply`` is the one DM a person
gets when a new session answers what they asked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from bot.messages import Reply
from insights import charts
from insights.digest import Digest
from insights.funnel import LABELS
from insights.gap_notices import GapNotice
from retrieval.moments import format_clock


@dataclass(frozen=True)
class DigestMessage:
    reply: Reply
    chart_svg: str
    chart_png: bytes
    alt: str


def digest_message(d: Digest, pages_url: str) -> DigestMessage:
    k = d.k
    lines = [f"📊 Staffroom this week ({d.period.last:%d %b %Y})"]
    if d.this_week is not None and d.last_week:
        change = (d.this_week - d.last_week) / d.last_week * 100
        lines.append(f"Questions: {d.this_week:,} this week ({change:+.0f}% on last week).")
    elif d.this_week is not None:
        lines.append(f"Questions: {d.this_week:,} this week.")
    else:
        lines.append(f"Questions: fewer than {k} people asked this week.")
    if d.no_match_share is not None:
        lines.append(f"{d.no_match_share * 100:.0f}% had no good match in the library.")
    if d.new_gaps:
        lines.append("Biggest gaps these two weeks:")
        lines += [f"• {g.label} — {g.askers.text(k)} people" for g in d.new_gaps]
    funnel = ", ".join(
        f"{LABELS[st].lower()} {_n(v, k)}"
        for st, v in d.funnel.items()
        if st in ("new", "under_review", "piloting", "scaling", "adopted")
    )
    lines.append(f"Ideas: {funnel}.")
    lines.append(f"See the pages: {pages_url.rstrip('/')}/insights")
    alt = (
        f"Questions per week for the last {len(d.weeks)} weeks; weeks about fewer than {k} "
        "people are hatched."
    )
    cats = [f"{w:%d %b}" for w, _ in d.weeks]
    svg = charts.columns(
        "digest",
        "Questions per week",
        alt,
        cats,
        [charts.Series("Questions", charts.BLUE, [v for _, v in d.weeks])],
        k=k,
        width=600,
        height=240,
    )
    return DigestMessage(
        Reply(text="\n".join(lines), kind="digest", in_thread=False),
        svg,
        png_columns(cats, [v for _, v in d.weeks]),
        alt,
    )


def _n(value: int | None, k: int) -> str:
    return f"fewer than {k}" if value is None else f"{value:,}"


def png_columns(
    categories: list[str], values: list[int | None], width: int = 600, height: int = 240
) -> bytes:
    """The digest chart as a PNG (Pillow), for platforms that show images but not SVG."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    left, bottom, top = 40, 30, 20
    plot_h = height - top - bottom
    top_value = max((v for v in values if v is not None), default=0) or 1
    slot = (width - left - 10) / max(1, len(values))
    draw.line([(left, height - bottom), (width - 10, height - bottom)], fill=charts.MUTED)
    draw.text((left, 4), "Questions per week", fill=charts.INK)
    for i, (label, value) in enumerate(zip(categories, values, strict=True)):
        x = left + slot * i + slot * 0.15
        w = slot * 0.7
        if value is None:
            draw.rectangle(
                [x, height - bottom - 12, x + w, height - bottom],
                fill="#e2e8f0",
                outline=charts.SLATE,
            )
        elif value:
            h = plot_h * value / top_value
            draw.rectangle([x, height - bottom - h, x + w, height - bottom], fill=charts.BLUE)
        draw.text((x, height - bottom + 6), label, fill=charts.MUTED)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def gap_notice_reply(notice: GapNotice) -> Reply:
    """ "You asked about …; the library now has *Title* ▶ mm:ss"."""
    asked = notice.asked if len(notice.asked) <= 120 else notice.asked[:119] + "…"
    s = notice.session
    at = f" ▶ {format_clock(s.start)}" if s.start is not None else ""
    link = (
        f" {s.url}#t={int(s.start)}"
        if s.url and s.start is not None
        else (f" {s.url}" if s.url else "")
    )
    return Reply(
        text=f"You asked about “{asked}”; the library now has “{s.title}”{at}.{link}",
        kind="gap_notice",
        in_thread=False,
    )
