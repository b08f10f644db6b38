"""The insights pages about use: library use and the idea funnel (charts first, tables below)."""

from __future__ import annotations

from html import escape

from bot.insights_web.layout import Frame, cell, figure, kpi, page, table
from bot.insights_web.pages import filters
from insights import charts
from insights.funnel import LABELS, STATUSES, FunnelPage
from insights.library import LibraryPage
from retrieval.moments import format_clock


def library_page(frame: Frame, lp: LibraryPage, weeks: int) -> str:
    k = frame.k
    top = lp.sessions[:12]
    svg = charts.bars(
        "library",
        "Sessions answers sent people to",
        f"How often each session was in an answer, {lp.period.label()}.",
        [s.title for s in top],
        [s.sent.value for s in top],
        k=k,
        color="#0891b2",
    )
    fallback = table(
        ["Session", "In answers"], [[escape(s.title), cell(s.sent, k)] for s in top], numeric=(1,)
    )
    rows = [
        [
            escape(s.title),
            cell(s.sent, k),
            cell(s.led, k),
            cell(s.helpful, k),
            cell(s.not_helpful, k),
        ]
        for s in lp.sessions
    ]
    rows.append(["<em>Other sessions combined</em>", cell(lp.other_sessions, k), "", "", ""])
    moments = [
        [
            escape(m.title),
            (
                f'<a href="{escape(m.url)}">▶ {format_clock(m.start)}</a>'
                if m.url and m.start is not None
                else (f"▶ {format_clock(m.start)}" if m.start is not None else "document")
            ),
            f"{m.sent:,}",
        ]
        for m in lp.moments
    ]
    never = "".join(f"<li>{escape(m.title)}</li>" for m in lp.never)
    body = (
        filters(weeks)
        + figure(
            svg,
            "Sessions answers sent people to",
            "Times in an answer (any of the top 3)",
            fallback,
        )
        + "<h2>Sessions</h2>"
        + table(
            ["Session", "In answers", "Led the answer", "Helpful", "Not helpful"],
            rows,
            numeric=(1, 2, 3, 4),
        )
        + "<h2>Moments people were sent to most</h2>"
        + table(["Session", "Moment", "Answers led with it"], moments, numeric=(2,))
        + f"<h2>Never sent in this period ({len(lp.never)} of {lp.library_size} sessions)</h2>"
        + (f"<ul>{never}</ul>" if never else '<p class="empty">Every session was sent.</p>')
    )
    return page(
        frame,
        "/insights/library",
        "Library use",
        f"Which sessions Staffroom sends people to, {escape(lp.period.label())}; helpful and "
        "not helpful count votes on answers that led with the session.",
        body,
    )


def funnel_page(frame: Frame, fp: FunnelPage) -> str:
    k = frame.k
    first = next((i for i, c in enumerate(fp.month_totals) if c.value != 0), len(fp.months) - 1)
    months = [f"{m:%b %y}" for m in fp.months][first:]
    by_month = fp.by_month[first:]
    colors = dict(zip(STATUSES, charts.PALETTE, strict=False))
    series = [
        charts.Series(LABELS[st], colors[st], [row[n].value for row in by_month])
        for n, st in enumerate(STATUSES)
    ]
    svg = charts.columns(
        "funnel",
        "Ideas by status",
        "Ideas in each status at the end of each month, last 12 months.",
        months,
        series,
        k=k,
    )
    fallback = table(
        ["Month"] + [LABELS[s] for s in STATUSES],
        [[months[i]] + [cell(c, k) for c in row] for i, row in enumerate(by_month)],
        numeric=range(1, len(STATUSES) + 1),
    )
    days = [d for d in fp.days if d.status not in ("adopted", "declined", "duplicate")]
    days_svg = charts.bars(
        "days",
        "Median days in each status",
        "How long ideas stayed in each status before moving on (median days).",
        [LABELS[d.status] for d in days],
        [d.median_days for d in days],
        k=k,
        color="#7c3aed",
        unit=" d",
        width=520,
    )
    days_table = table(
        ["Status", "Median days", "Ideas"],
        [
            [
                LABELS[d.status],
                "—" if d.median_days is None else f"{d.median_days:g}",
                cell(d.ideas, k),
            ]
            for d in fp.days
        ],
        numeric=(1, 2),
    )
    schools = fp.schools[:12]
    school_svg = charts.bars(
        "schools",
        "Ideas by school",
        "Ideas pitched, per school (schools with fewer than k authors combined).".replace(
            "k authors", f"{k} authors"
        ),
        [s.school for s in schools],
        [s.ideas.value for s in schools],
        k=k,
        color="#65a30d",
        width=520,
    )
    school_rows = [[escape(s.school), cell(s.ideas, k)] for s in fp.schools]
    school_rows.append(["<em>Other schools combined</em>", cell(fp.other_schools, k)])
    backed = [
        [
            f"#{b.number} {escape(b.title)}",
            LABELS.get(b.status, b.status),
            cell(b.would_try, k),
            cell(b.tried, k),
        ]
        for b in fp.backed
    ]
    body = (
        figure(svg, "Ideas by status", "At the end of each month", fallback)
        + '<div class="grid2">'
        + figure(days_svg, "Median days in each status", "Finished stays only", days_table)
        + figure(
            school_svg,
            "Ideas by school",
            "All time",
            table(["School", "Ideas"], school_rows, numeric=(1,)),
        )
        + "</div>"
        + f'<div class="kpis">{kpi("would try an idea", cell(fp.votes["try"], k), fp.votes["try"].hidden)}'
        + f"{kpi('tried one in class', cell(fp.votes['tried'], k), fp.votes['tried'].hidden)}</div>"
        + "<h2>Most backed ideas</h2>"
        + table(["Idea", "Status", "Would try", "Tried"], backed, numeric=(2, 3))
    )
    return page(
        frame,
        "/insights/ideas",
        "Idea funnel",
        "How pitched practices move from new to adopted.",
        body,
    )
