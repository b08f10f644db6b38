"""The insights pages' frame and building blocks: escaped HTML from plain values, no templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from insights.privacy import Cell

TABS = (
    ("/insights", "Overview"),
    ("/insights/topics", "Topics"),
    ("/insights/gaps", "Content gaps"),
    ("/insights/library", "Library use"),
    ("/insights/ideas", "Idea funnel"),
    ("/insights/adoption", "Adoption"),
)
ASSETS = "/static/insights"


@dataclass(frozen=True)
class Frame:
    """Who is looking and what the page needs to post forms."""

    viewer: str
    csrf: str
    k: int


def page(frame: Frame, path: str, title: str, lede: str, body: str) -> str:
    tabs = "".join(
        f'<a href="{href}"{" aria-current=" + chr(34) + "page" + chr(34) if href == path else ""}>'
        f"{label}</a>"
        for href, label in TABS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Staffroom insights</title>
<link rel="stylesheet" href="{ASSETS}/insights.css">
<script src="{ASSETS}/insights.js" defer></script>
</head><body>
<header class="top"><div class="bar">
<div class="brand">Staffroom <span>insights</span></div>
<div class="who">Signed in as {escape(frame.viewer)}
<form method="post" action="/insights/signout"><input type="hidden" name="csrf" value="{escape(frame.csrf)}">
<button type="submit">Sign out</button></form></div></div>
<nav class="tabs" aria-label="Insights pages">{tabs}</nav></header>
<main><h1>{escape(title)}</h1><p class="lede">{lede}</p>{body}</main>
<footer class="privacy">Groups of fewer than {frame.k} people are shown as “fewer than {frame.k}”,
and so is any figure that would reveal one by subtraction. Example questions have names, emails and
phone numbers removed. Every view of these pages is logged with who viewed it.</footer>
</body></html>"""


def bare(title: str, body: str, status_note: str = "") -> str:
    """A page outside a session: sign-in, refusals (no data, no navigation)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Staffroom insights</title>
<link rel="stylesheet" href="{ASSETS}/insights.css"></head>
<body><div class="signin"><h1>{escape(title)}</h1>{body}{status_note}</div></body></html>"""


def cell(c: Cell, k: int) -> str:
    if c.value is None:
        return f'<span class="hidden">fewer than {k}</span>'
    return f"{c.value:,}"


def percent(value: float | None) -> str:
    return '<span class="hidden">—</span>' if value is None else f"{value * 100:.0f}%"


def kpi(label: str, value: str, hidden: bool = False) -> str:
    cls = "n hidden" if hidden else "n"
    return f'<div class="kpi"><div class="{cls}">{value}</div><div class="l">{escape(label)}</div></div>'


def figure(svg: str, caption: str, note: str, table_html: str) -> str:
    """A chart with its caption, and the same figures as a table (the fallback)."""
    return (
        f'<figure class="card"><figcaption>{escape(caption)}<small>{escape(note)}</small>'
        f"</figcaption>{svg}"
        f'<details class="fallback"><summary>Show as a table</summary>{table_html}</details>'
        "</figure>"
    )


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int] = (),
    caption: str = "",
) -> str:
    """Rows of already-escaped HTML cells; ``numeric`` column indexes align right."""
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    head = "".join(
        f'<th scope="col"{" class=num" if i in numeric else ""}>{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in numeric else ''}>{v}</td>" for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = (
            f'<tr><td colspan="{len(headers)}" class="empty">Nothing yet in this period.</td></tr>'
        )
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str) -> str:
    opts = "".join(
        f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(t)}</option>'
        for v, t in options
    )
    return f'<label>{escape(label)}<select name="{escape(name)}">{opts}</select></label>'
