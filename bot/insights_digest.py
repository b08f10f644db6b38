"""The weekly digest and gap notices as neutral replies (``bot/insights_jobs.py`` sends them).

``digest_message`` turns ``insights.digest.Digest`` into a ``Reply`` whose ``image`` is its
chart as a PNG (Slack uploads it as a file, Teams puts it in the card); ``gap_notice_reply`` is
the one DM a person gets when a new session answers what they asked.
"""

from __future__ import annotations

import io

from bot.messages import Image, Reply, SessionCard
from insights import charts
from insights.digest import Digest
from insights.funnel import LABELS
from insights.gap_notices import GapNotice
from retrieval.moments import format_clock


def digest_message(d: Digest, pages_url: str) -> Reply:
    """The digest: questions this week and the trend, the newest gaps, the idea funnel, the
    chart of questions per week, and a link to the pages."""
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
    cats = [f"{w:%d %b}" for w, _ in d.weeks]
    values = [v for _, v in d.weeks]
    alt = "Questions per week, " + "; ".join(
        f"{c}: {_n(v, k)}" for c, v in zip(cats, values, strict=True)
    )
    chart = png_columns(cats, values, k)
    return Reply(
        text="\n".join(lines),
        kind="digest",
        in_thread=False,
        image=Image.of_png(chart, alt, "Questions per week", f"staffroom-{d.period.last}.png"),
    )


def _n(value: int | None, k: int) -> str:
    return f"fewer than {k}" if value is None else f"{value:,}"


def png_columns(
    categories: list[str],
    values: list[int | None],
    k: int = 5,
    width: int = 600,
    height: int = 260,
) -> bytes:
    """The digest chart as a PNG (Pillow), for platforms that show images but not SVG: one
    column per week with its figure on top; a hidden week is a grey stub marked "<k"."""
    from PIL import Image as Picture
    from PIL import ImageDraw, ImageFont

    img = Picture.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    font, small = ImageFont.load_default(15), ImageFont.load_default(12)
    left, right, bottom, top = 12, 12, 28, 48
    plot_h, base = height - top - bottom, height - bottom
    top_value = max((v for v in values if v is not None), default=0) or 1
    slot = (width - left - right) / max(1, len(values))
    draw.text((left, 10), "Questions per week", fill=charts.INK, font=font)
    draw.line([(left, base), (width - right, base)], fill=charts.MUTED)
    for i, (label, value) in enumerate(zip(categories, values, strict=True)):
        x, w = left + slot * i + slot * 0.15, slot * 0.7
        middle = x + w / 2
        if value is None:
            draw.rectangle([x, base - 12, x + w, base], fill="#e2e8f0", outline=charts.SLATE)
            figure, y = f"<{k}", base - 14.0
        else:
            h = plot_h * value / top_value
            if h:
                draw.rectangle([x, base - h, x + w, base], fill=charts.BLUE)
            figure, y = f"{value:,}", base - h - 2
        draw.text((middle, y), figure, fill=charts.INK, font=small, anchor="md")
        draw.text((middle, base + 6), label, fill=charts.MUTED, font=small, anchor="ma")
    buf = io.BytesIO()
    # A few flat colours: a palette PNG is a few KB, small enough for a Teams card's data: URI.
    img.quantize(colors=16).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def gap_notice_reply(notice: GapNotice, card: SessionCard | None = None) -> Reply:
    """ "You asked about …; the library now has *Title* ▶ mm:ss", with the session's card."""
    asked = notice.asked if len(notice.asked) <= 120 else notice.asked[:119] + "…"
    s = notice.session
    at = f" ▶ {format_clock(s.start)}" if s.start is not None else ""
    return Reply(
        text=f"You asked about “{asked}”; the library now has “{s.title}”{at}.",
        cards=(card,) if card is not None else (),
        kind="gap_notice",
        in_thread=False,
    )
