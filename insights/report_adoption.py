"""The adoption page's figures (``insights.adoption``) for `staffroom insights`: the same
builder as ``/insights/adoption``, so the same group-size rules (a suppressed figure is null
in JSON, "fewer than k" in text, ``suppressed=1`` in CSV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from insights.adoption import VERDICTS, SchoolRole, adoption


def adoption_report(s: Session, k: int) -> dict[str, Any]:
    ap = adoption(s, k)
    return {
        "spread": ap.spread.value,
        "practices": [
            {
                "idea": p.number,
                "title": p.title,
                "status": p.status,
                "school": p.school,
                "takers": p.takers.value,
                "schools": p.schools.value,
                "verdicts": {v or "not_yet": c.value for v, c in p.verdicts.items()},
            }
            for p in ap.practices
        ],
        "flows": [{"from": f.origin, "to": f.to, "people": f.people.value} for f in ap.flows]
        + [{"from": "(other pairs combined)", "to": "", "people": ap.other_flows.value}],
        "schools": [_school(r) for r in (*ap.schools, ap.other_schools, ap.totals)],
    }


def _school(r: SchoolRole) -> dict[str, Any]:
    return {
        "school": r.school,
        "designed": r.designed.value,
        "in_field": r.in_field.value,
        "took_up": r.took_up.value,
        "tried": r.tried.value,
        "role": r.role,
    }


def adoption_text(report: dict[str, Any], show: Callable[[Any], str]) -> list[str]:
    out = ["", "Adoption (ideas in the field, all time)"]
    out.append(f"  {show(report['spread']):>12}  people took up a practice from another school")
    for p in report["practices"]:
        verdicts = ", ".join(f"{v} {show(p['verdicts'][v])}" for v in VERDICTS)
        out.append(f"  {show(p['takers']):>12}  #{p['idea']} {p['title']} ({p['status']}, from "
                   f"{p['school']}; {show(p['schools'])} other schools; {verdicts})")  # fmt: skip
    for f in report["flows"]:
        if f["to"]:
            out.append(f"  {show(f['people']):>12}  {f['from']} → {f['to']}")
    out.append("  Schools: designed / in the field / took up / tried")
    for r in report["schools"]:
        figures = " / ".join(show(r[c]) for c in ("designed", "in_field", "took_up", "tried"))
        role = f" ({r['role']})" if r["role"] else ""
        out.append(f"  {r['school']}: {figures}{role}")
    return out


def adoption_rows(report: dict[str, Any], row: Callable[[str, str, str, Any], None]) -> None:
    row("adoption", "all", "spread", report["spread"])
    for p in report["practices"]:
        item = f"idea {p['idea']}"
        row("adoption", item, "takers", p["takers"])
        row("adoption", item, "schools", p["schools"])
        for verdict, value in p["verdicts"].items():
            row("adoption", item, f"verdict_{verdict}", value)
    for f in report["flows"]:
        row("adoption_flows", f"{f['from']} -> {f['to']}" if f["to"] else f["from"], "people",
            f["people"])  # fmt: skip
    for r in report["schools"]:
        for metric in ("designed", "in_field", "took_up", "tried"):
            row("adoption_schools", r["school"], metric, r[metric])
