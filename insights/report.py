"""The pages' figures as data, for `staffroom insights --format text|json|csv`.

The same builders as the pages, so the command line and the pages cannot disagree; a
suppressed figure is null in JSON and "fewer than k" in text and CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from insights.funnel import LABELS, STATUSES, funnel
from insights.library import LibrarySession, library_use
from insights.overview import overview
from insights.period import Period
from insights.privacy import Cell
from insights.report_adoption import adoption_report, adoption_rows, adoption_text
from insights.topics import gaps, topics


def _v(c: Cell) -> int | None:
    return c.value


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 1)


def build_report(
    s: Session, period: Period, k: int, catalog: Sequence[LibrarySession]
) -> dict[str, Any]:
    ov = overview(s, period, k)
    tp = topics(s, period, k)
    gp = gaps(s, period, k)
    lp = library_use(s, period, k, catalog)
    fp = funnel(s, k)
    return {
        "period": {"first_week": period.first.isoformat(), "last_week": period.last.isoformat()},
        "min_group": k,
        "overview": {
            "questions": _v(ov.questions),
            "answered": _v(ov.answered),
            "no_match": _v(ov.no_match),
            "helpful": _v(ov.helpful),
            "not_helpful": _v(ov.not_helpful),
            "active_askers": _v(ov.askers),
            "answered_pct": _pct(ov.answered_share),
            "no_match_pct": _pct(ov.no_match_share),
            "helpful_pct": _pct(ov.helpful_share),
            "not_helpful_pct": _pct(ov.not_helpful_share),
            "weeks": [
                {
                    "week": w.week.isoformat(),
                    "questions": _v(w.questions),
                    "answered": _v(w.answered),
                    "no_match": _v(w.no_match),
                    "helpful": _v(w.helpful),
                    "not_helpful": _v(w.not_helpful),
                    "askers": _v(w.askers),
                }
                for w in ov.weeks
            ],
        },
        "topics": [
            {
                "label": t.label,
                "questions": _v(t.questions),
                "askers": _v(t.askers),
                "trend_pct": _pct(t.trend),
                "sessions": [x.session_id for x in t.sessions],
            }
            for t in tp.topics
        ]
        + [
            {"label": "(smaller topics combined)", "questions": _v(tp.smaller)},
            {"label": "(not grouped yet)", "questions": _v(tp.ungrouped)},
        ],
        "gaps": [
            {
                "label": g.label,
                "askers": _v(g.askers),
                "questions": _v(g.questions),
                "last_asked": g.last_asked.isoformat(),
                "examples": list(g.examples),
            }
            for g in gp.gaps
        ],
        "library": {
            "sessions": [
                {
                    "session_id": x.session_id,
                    "title": x.title,
                    "in_answers": _v(x.sent),
                    "led": _v(x.led),
                    "helpful": _v(x.helpful),
                    "not_helpful": _v(x.not_helpful),
                }
                for x in lp.sessions
            ],
            "never_sent": [m.session_id for m in lp.never],
        },
        "ideas": {
            "by_status_now": {
                st: (fp.by_month[-1][n].value if fp.by_month else 0)
                for n, st in enumerate(STATUSES)
            },
            "median_days": {d.status: d.median_days for d in fp.days},
            "by_school": {r.school: _v(r.ideas) for r in fp.schools},
            "would_try": _v(fp.votes["try"]),
            "tried": _v(fp.votes["tried"]),
        },
        "adoption": adoption_report(s, k),
    }


def _show(value: Any, k: int) -> str:
    if value is None:
        return f"fewer than {k}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def to_text(report: dict[str, Any]) -> str:
    k = report["min_group"]
    ov = report["overview"]
    p = report["period"]
    out = [
        f"Staffroom insights, weeks {p['first_week']} to {p['last_week']} "
        f"(groups under {k} people suppressed)",
        "",
        "Overview",
    ]
    out += [
        f"  questions        {_show(ov['questions'], k)}",
        f"  answered         {_show(ov['answered'], k)}  ({_show(ov['answered_pct'], k)}%)",
        f"  no good match    {_show(ov['no_match'], k)}  ({_show(ov['no_match_pct'], k)}%)",
        f"  👍 / 👎          {_show(ov['helpful'], k)} / {_show(ov['not_helpful'], k)}",
        f"  active askers    {_show(ov['active_askers'], k)}",
        "",
        "Topics",
    ]
    out += [f"  {_show(t['questions'], k):>12}  {t['label']}" for t in report["topics"]]
    out += ["", "Content gaps (most people first)"]
    for g in report["gaps"]:
        out.append(f"  {_show(g['askers'], k):>12} people  {g['label']} (last {g['last_asked']})")
        out += [f"                  “{x}”" for x in g["examples"]]
    out += ["", "Library use (times in answers)"]
    out += [
        f"  {_show(x['in_answers'], k):>12}  {x['title']}" for x in report["library"]["sessions"]
    ]
    out.append(f"  never sent: {', '.join(report['library']['never_sent']) or 'none'}")
    ideas = report["ideas"]
    out += ["", "Idea funnel (now)"]
    out += [
        f"  {_show(ideas['by_status_now'][st], k):>12}  {LABELS[st]}"
        + (
            f" (median {ideas['median_days'][st]} days)"
            if ideas["median_days"].get(st) is not None
            else ""
        )
        for st in STATUSES
    ]
    out += adoption_text(report["adoption"], lambda value: _show(value, k))
    return "\n".join(out) + "\n"


def to_csv(report: dict[str, Any]) -> str:
    """section,item,metric,value rows (value empty and suppressed=1 for a suppressed figure)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["section", "item", "metric", "value", "suppressed"])

    def row(section: str, item: str, metric: str, value: Any) -> None:
        w.writerow(
            [section, item, metric, "" if value is None else value, 1 if value is None else 0]
        )

    for key in ("questions", "answered", "no_match", "helpful", "not_helpful", "active_askers"):
        row("overview", "all", key, report["overview"][key])
    for week in report["overview"]["weeks"]:
        for key in ("questions", "answered", "no_match", "helpful", "not_helpful", "askers"):
            row("overview", week["week"], key, week[key])
    for t in report["topics"]:
        row("topics", t["label"], "questions", t["questions"])
    for g in report["gaps"]:
        row("gaps", g["label"], "askers", g["askers"])
        row("gaps", g["label"], "questions", g["questions"])
    for x in report["library"]["sessions"]:
        row("library", x["session_id"], "in_answers", x["in_answers"])
    for st, value in report["ideas"]["by_status_now"].items():
        row("ideas", st, "ideas", value)
    adoption_rows(report["adoption"], row)
    return buf.getvalue()
