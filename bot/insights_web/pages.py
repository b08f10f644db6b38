"""The insights pages about questions (overview, topics, gaps; charts first, tables below) and
the gap → design question form; library use and the idea funnel are in ``use_pages``."""

from __future__ import annotations

from html import escape

from bot.insights_web.layout import Frame, cell, figure, kpi, page, percent, select, table
from insights import charts
from insights.facets import GRADE_BANDS, SUBJECTS
from insights.overview import Overview
from insights.period import Slice
from insights.topics import GapsPage, TopicsPage

WEEK_CHOICES = (
    ("4", "Last 4 weeks"),
    ("12", "Last 12 weeks"),
    ("26", "Last 26 weeks"),
    ("52", "Last 52 weeks"),
)


def filters(weeks: int, where: Slice | None = None) -> str:
    parts = [select("weeks", "Period", WEEK_CHOICES, str(weeks))]
    if where is not None:
        parts.append(
            select(
                "grade",
                "Grade band",
                [("", "All grade bands")] + [(b, b) for b in GRADE_BANDS],
                where.grade_band,
            )
        )
        parts.append(
            select(
                "subject",
                "Subject",
                [("", "All subjects")] + [(s, s) for s in SUBJECTS],
                where.subject,
            )
        )
    parts.append('<button type="submit" class="quiet">Apply</button>')
    return f'<form class="filters" method="get">{"".join(parts)}</form>'


def _week(d) -> str:
    return f"{d:%d %b}"


def overview_page(frame: Frame, ov: Overview, weeks: int) -> str:
    k = frame.k
    kpis = "".join(
        [
            kpi("questions asked", cell(ov.questions, k), ov.questions.hidden),
            kpi("answered from the library", percent(ov.answered_share), ov.answered_share is None),
            kpi(
                "no good match (content gaps)",
                percent(ov.no_match_share),
                ov.no_match_share is None,
            ),
            kpi("of rated answers helpful", percent(ov.helpful_share), ov.helpful_share is None),
            kpi(
                "of rated answers not helpful",
                percent(ov.not_helpful_share),
                ov.not_helpful_share is None,
            ),
            kpi("active askers", cell(ov.askers, k), ov.askers.hidden),
        ]
    )
    cats = [_week(w.week) for w in ov.weeks]
    questions = charts.columns(
        "questions",
        "Questions per week",
        f"Questions asked each week, {ov.period.label()}, split into answered from the library "
        "and no good match. Weeks about fewer than {k} people are hatched.".replace("{k}", str(k)),
        cats,
        [
            charts.Series("Answered", charts.BLUE, [w.answered.value for w in ov.weeks]),
            charts.Series("No good match", charts.AMBER, [w.no_match.value for w in ov.weeks]),
        ],
        k=k,
    )
    rated = charts.columns(
        "ratings",
        "How answers were rated",
        "Share of rated answers marked helpful or not helpful each week.",
        cats,
        [
            charts.Series(
                "Helpful", charts.GREEN, [_pct(w.helpful, w.not_helpful) for w in ov.weeks]
            ),
            charts.Series(
                "Not helpful", charts.RED, [_pct(w.not_helpful, w.helpful) for w in ov.weeks]
            ),
        ],
        k=k,
        percent=True,
    )
    rows = [
        [
            _week(w.week),
            cell(w.questions, k),
            cell(w.answered, k),
            cell(w.no_match, k),
            cell(w.helpful, k),
            cell(w.not_helpful, k),
            cell(w.askers, k),
        ]
        for w in reversed(ov.weeks)
    ]
    t = table(
        ["Week of", "Questions", "Answered", "No good match", "Helpful", "Not helpful", "Askers"],
        rows,
        numeric=range(1, 7),
    )
    fallback_q = table(
        ["Week of", "Answered", "No good match"],
        [[_week(w.week), cell(w.answered, k), cell(w.no_match, k)] for w in ov.weeks],
        numeric=(1, 2),
    )
    fallback_r = table(
        ["Week of", "Helpful", "Not helpful"],
        [[_week(w.week), cell(w.helpful, k), cell(w.not_helpful, k)] for w in ov.weeks],
        numeric=(1, 2),
    )
    body = (
        filters(weeks)
        + f'<div class="kpis">{kpis}</div>'
        + figure(questions, "Questions per week", "Answered vs no good match", fallback_q)
        + figure(
            rated,
            "How answers were rated",
            "Share of rated answers marked helpful or not",
            fallback_r,
        )
        + "<h2>Week by week</h2>"
        + t
    )
    return page(
        frame,
        "/insights",
        "Overview",
        f"What staff asked Staffroom, {escape(ov.period.label())}.",
        body,
    )


def _pct(part, other) -> float | None:
    if part.value is None or other.value is None:
        return None
    total = part.value + other.value
    return 100.0 * part.value / total if total else 0.0


def _trend(value: float | None) -> str:
    if value is None:
        return '<span class="flat">not enough to tell</span>'
    if abs(value) < 0.1:
        return '<span class="flat">→ steady</span>'
    arrow, cls = ("↑", "up") if value > 0 else ("↓", "down")
    return f'<span class="{cls}">{arrow} {abs(value) * 100:.0f}%</span>'


def topics_page(frame: Frame, tp: TopicsPage, weeks: int, titles: dict[str, str]) -> str:
    k = frame.k
    top = tp.topics[:12]
    svg = charts.bars(
        "topics",
        "Most asked topics",
        f"The {len(top)} topics staff asked about most, by number of questions, "
        f"{tp.period.label()}.",
        [t.label for t in top],
        [t.questions.value for t in top],
        k=k,
    )
    fallback = table(
        ["Topic", "Questions"], [[escape(t.label), cell(t.questions, k)] for t in top], numeric=(1,)
    )
    rows = [
        [
            escape(t.label),
            cell(t.questions, k),
            cell(t.askers, k),
            _trend(t.trend),
            ", ".join(escape(titles.get(x.session_id, x.session_id)) for x in t.sessions)
            or '<span class="hidden">no answer sent to 5+ people</span>'.replace("5", str(k)),
        ]
        for t in tp.topics
    ]
    rows.append(
        [f"<em>Smaller topics combined ({tp.smaller_topics})</em>", cell(tp.smaller, k), "", "", ""]
    )
    rows.append(["<em>Not grouped yet</em>", cell(tp.ungrouped, k), "", "", ""])
    rows.append(["<strong>All questions</strong>", cell(tp.total, k), "", "", ""])
    body = (
        filters(weeks, tp.slice)
        + figure(
            svg,
            "Most asked topics",
            f"Questions per topic; topics with fewer than {k} askers are combined below",
            fallback,
        )
        + "<h2>All topics</h2>"
        + table(
            ["Topic", "Questions", "Askers", "Trend (4 weeks)", "Answers led with"],
            rows,
            numeric=(1, 2),
        )
    )
    return page(
        frame,
        "/insights/topics",
        "Topics",
        "What staff ask about: similar questions grouped into topics, "
        f"{escape(tp.period.label())}.",
        body,
    )


def gaps_page(frame: Frame, gp: GapsPage, weeks: int, notice: str = "") -> str:
    k = frame.k
    top = gp.gaps[:10]
    svg = charts.bars(
        "gaps",
        "Biggest content gaps",
        "Topics where the library had no good match or answers were marked not helpful, by "
        f"number of people asking, {gp.period.label()}.",
        [g.label for g in top],
        [g.askers.value for g in top],
        k=k,
        color=charts.AMBER,
        unit=" askers",
    )
    fallback = table(
        ["Gap", "Askers"], [[escape(g.label), cell(g.askers, k)] for g in top], numeric=(1,)
    )
    cards = []
    for n, g in enumerate(gp.gaps[:12], 1):
        examples = "".join(f"<li>“{escape(x)}”</li>" for x in g.examples)
        ex = f'<ul class="examples">{examples}</ul>' if examples else ""
        share = f" · {g.share * 100:.0f}% of this topic's questions" if g.share is not None else ""
        cards.append(
            f'<div class="gap"><h3>{n}. {escape(g.label)}</h3>'
            f'<div class="meta">{cell(g.askers, k)} people · {cell(g.questions, k)} questions'
            f"{share} · last asked {g.last_asked:%d %b %Y}</div>{ex}"
            f'<form method="get" action="/insights/gaps/{g.topic_id}/design-question">'
            f'<input type="hidden" name="weeks" value="{weeks}">'
            '<button type="submit" class="small">Turn into a design question</button></form></div>'
        )
    if not cards:
        cards.append(f'<p class="empty">No gap topic has {k} or more askers in this period.</p>')
    cards.append(
        f'<p class="lede">Smaller gaps combined ({gp.smaller_gaps} topics, and questions not grouped '
        f"yet): {cell(gp.smaller, k)} questions · all gap questions: {cell(gp.total, k)}.</p>"
    )
    done = f'<div class="notice" role="status">{escape(notice)}</div>' if notice else ""
    body = (
        done
        + filters(weeks, gp.slice)
        + figure(
            svg,
            "Biggest content gaps",
            "People whose questions the library did not answer well, per topic",
            fallback,
        )
        + "<h2>Gaps, most people first</h2>"
        + "".join(cards)
    )
    return page(
        frame,
        "/insights/gaps",
        "Content gaps",
        "Questions with no good match in the library, or answers marked not helpful: what to design next.",
        body,
    )


def design_question_form(
    frame: Frame,
    topic_id: int,
    label: str,
    draft: str,
    weeks: int,
    examples: tuple[str, ...],
    channel: str,
) -> str:
    ex = "".join(f"<li>“{escape(x)}”</li>" for x in examples)
    where = (
        f"It will be announced in {escape(channel)}, where teachers can pitch ideas."
        if channel
        else "No STAFFROOM_QUESTIONS_CHANNEL is set: it will be opened but not announced."
    )
    body = f"""<section class="card"><p>From the gap <strong>{escape(label)}</strong>.</p>
{f'<ul class="examples">{ex}</ul>' if ex else ""}
<form method="post" action="/insights/gaps/{topic_id}/design-question">
<input type="hidden" name="csrf" value="{escape(frame.csrf)}">
<input type="hidden" name="weeks" value="{weeks}">
<p><label for="text"><strong>Design question</strong></label>
<textarea id="text" name="text" maxlength="500" required>{escape(draft)}</textarea></p>
<p><label for="deadline">Pitches welcome until (optional)</label><br>
<input id="deadline" type="date" name="deadline"></p>
<p class="lede">{where}</p>
<button type="submit">Open and announce</button>
<a class="button quiet" href="/insights/gaps?weeks={weeks}">Cancel</a></form></section>"""
    return page(
        frame,
        "/insights/gaps",
        "New design question",
        "Ask the field how they solve it: teachers pitch practices that answer it.",
        body,
    )
