"""The adoption page: practices that spread, from which school to which, who designs and adopts."""

from __future__ import annotations

from html import escape

from bot.insights_web.layout import Frame, cell, figure, kpi, page, table
from insights import charts
from insights.adoption import VERDICTS, AdoptionPage
from insights.funnel import LABELS


def adoption_page(frame: Frame, ap: AdoptionPage) -> str:
    k = frame.k
    named = ap.schools[:12]
    roles_svg = charts.columns(
        "adoption",
        "Who designs, who adopts",
        "Per school: ideas its teachers pitched, and practices from other schools its teachers "
        "took up (joined a pilot or tried the published session).",
        [s.school for s in named] or ["(no school yet)"],
        [
            charts.Series("Ideas designed", charts.BLUE, [s.designed.value for s in named] or [0]),
            charts.Series("Practices taken up", charts.GREEN,
                          [s.took_up.value for s in named] or [0]),
        ],
        k=k,
    )  # fmt: skip
    school_rows = [
        [
            escape(s.school),
            cell(s.designed, k),
            cell(s.in_field, k),
            cell(s.took_up, k),
            cell(s.tried, k),
            escape(s.role),
        ]
        for s in [*ap.schools, ap.other_schools, ap.totals]
    ]
    school_rows[-2][0] = "<em>Other schools combined</em>"
    school_rows[-1][0] = "<strong>All schools</strong>"
    headers = ["School", "Ideas designed", "In the field", "Taken up", "Sessions tried", "Role"]
    spread = [p for p in ap.practices if p.takers.value != 0]
    spread_svg = charts.bars(
        "spread",
        "How far practices spread",
        "People who took up each piloting, scaling or adopted idea.",
        [f"#{p.number} {p.title}" for p in spread] or ["(no practice taken up yet)"],
        [p.takers.value for p in spread] or [0],
        k=k,
        color=charts.GREEN,
    )
    practice_rows = [
        [
            f"#{p.number} {escape(p.title)}",
            LABELS.get(p.status, p.status),
            escape(p.school),
            cell(p.takers, k),
            cell(p.schools, k),
            *(cell(p.verdicts[v], k) for v in (*VERDICTS, "")),
        ]
        for p in ap.practices
    ]
    flows = [[escape(f.origin), escape(f.to), cell(f.people, k)] for f in ap.flows]
    flows.append(["<em>Other pairs combined</em>", "", cell(ap.other_flows, k)])
    body = (
        '<div class="kpis">'
        + kpi("took up a practice from another school", cell(ap.spread, k), ap.spread.hidden)
        + kpi("ideas in the field", cell(ap.totals.in_field, k), ap.totals.in_field.hidden)
        + kpi("library sessions tried", cell(ap.totals.tried, k), ap.totals.tried.hidden)
        + "</div>"
        + figure(
            roles_svg,
            "Who designs, who adopts",
            "All time, by school",
            table(headers, school_rows, numeric=(1, 2, 3, 4)),
        )  # fmt: skip
        + figure(
            spread_svg,
            "How far practices spread",
            "Pilot members and people who tried the published session",
            table(
                [
                    "Practice",
                    "Status",
                    "Designed at",
                    "Took it up",
                    "Other schools",
                    "Adopt",
                    "Adapt",
                    "Abandon",
                    "No verdict yet",
                ],
                practice_rows,
                numeric=(3, 4, 5, 6, 7, 8),
            ),  # fmt: skip
        )
        + "<h2>From which school to which</h2>"
        + table(["Designed at", "Taken up at", "People"], flows, numeric=(2,))
    )
    return page(
        frame,
        "/insights/adoption",
        "Adoption",
        "Which practices spread to which schools: who designs new practices and who adopts and "
        "adapts them. Counts only.",
        body,
    )
