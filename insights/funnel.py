"""The idea funnel: ideas by status over time, median days in each status, by school, votes.

Ideas are public inside the district (the review channel shows them), but the funnel still
counts people: a cell about fewer than k distinct authors (or voters) is suppressed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from insights.privacy import Cell, Count, people_cell, primary, protect, protect_table
from insights.scrub import asker_key
from store import Idea, IdeaEvent, Vote, utcnow

STATUSES = ("new", "under_review", "piloting", "scaling", "adopted", "declined", "duplicate")
LABELS = {
    "new": "New", "under_review": "Under review", "piloting": "Piloting", "scaling": "Scaling",
    "adopted": "Adopted", "declined": "Declined", "duplicate": "Merged",
}  # fmt: skip
TOP_SCHOOLS = 15


@dataclass(frozen=True)
class StatusDays:
    status: str
    median_days: float | None  # None when fewer than k authors' ideas finished a stay there
    ideas: Cell


@dataclass(frozen=True)
class SchoolRow:
    school: str
    ideas: Cell


@dataclass(frozen=True)
class BackedIdea:
    number: int
    title: str
    status: str
    would_try: Cell  # each kind's votes are one per person: shown only from k people
    tried: Cell


@dataclass(frozen=True)
class FunnelPage:
    k: int
    months: list[date]
    by_month: list[list[Cell]]  # [month][status]: ideas in each status at the month's end
    month_totals: list[Cell]
    days: list[StatusDays]
    schools: list[SchoolRow]
    other_schools: Cell
    votes: dict[str, Cell]  # try / tried totals
    backed: list[BackedIdea]


def funnel(s: Session, k: int, months: int = 12, now: datetime | None = None) -> FunnelPage:
    now = now or utcnow()
    ideas = {
        i.id: i
        for i in s.execute(
            sa.select(
                Idea.id, Idea.title, Idea.status, Idea.school, Idea.author_platform, Idea.author_id
            )
        )
    }
    author = {iid: asker_key(i.author_platform, i.author_id) for iid, i in ideas.items()}
    events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for iid, frm, to, at in s.execute(
        sa.select(
            IdeaEvent.idea_id, IdeaEvent.from_status, IdeaEvent.to_status, IdeaEvent.created_at
        ).order_by(IdeaEvent.id)
    ):
        if frm != to:  # same status: a note in the trail (a publication), not a move
            events[iid].append((at, to))
    ends = _month_ends(now.date(), months)
    grid: list[list[Count]] = []
    totals: list[Count] = []
    for end in ends:
        cut = datetime.combine(end, datetime.max.time(), tzinfo=now.tzinfo)
        groups: dict[str, set[int]] = defaultdict(set)
        for iid, timeline in events.items():
            current = [to for at, to in timeline if at <= cut]
            if current and iid in ideas:
                groups[current[-1]].add(iid)
        row = [_count(groups.get(st, set()), author) for st in STATUSES]
        grid.append(row)
        totals.append(_count(set().union(*groups.values()) if groups else set(), author))
    table = protect_table(grid, totals, None, None, k)
    assert table.row_totals is not None
    days = _days(events, author, k, now)
    schools, other = _schools(ideas, author, k)
    votes, backed = _votes(s, ideas, k)
    return FunnelPage(k, ends, table.cells, table.row_totals, days, schools, other, votes, backed)


def _count(ids: set[int], author: dict[int, int]) -> Count:
    return Count(len(ids), len({author[i] for i in ids}))


def _month_ends(today: date, months: int) -> list[date]:
    out = []
    y, m = today.year, today.month
    for _ in range(months):
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        out.append(min(today, date.fromordinal(nxt.toordinal() - 1)))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _days(
    events: dict[int, list[tuple[datetime, str]]], author: dict[int, int], k: int, now: datetime
) -> list[StatusDays]:
    """Median days of finished stays in each status (an idea still there is not counted)."""
    stays: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for iid, timeline in events.items():
        for (at, status), (nxt, _) in zip(timeline, timeline[1:], strict=False):
            stays[status].append((iid, (nxt - at).total_seconds() / 86400))
    out = []
    for status in STATUSES:
        rows = stays.get(status, [])
        ids = {iid for iid, _ in rows}
        count = _count(ids, author)
        cell, _ = protect([count], None, k)
        ok = rows and not primary(count, k)
        out.append(
            StatusDays(
                status, round(statistics.median(d for _, d in rows), 1) if ok else None, cell[0]
            )
        )
    return out


def _schools(ideas: dict, author: dict[int, int], k: int) -> tuple[list[SchoolRow], Cell]:
    by: dict[str, set[int]] = defaultdict(set)
    for iid, i in ideas.items():
        by[(i.school or "").strip() or "(school not given)"].add(iid)
    counts = {school: _count(ids, author) for school, ids in by.items()}
    ranked = sorted(counts, key=lambda sc: (-counts[sc].value, sc))
    shown = [sc for sc in ranked if not primary(counts[sc], k)][:TOP_SCHOOLS]
    rest: set[int] = set().union(*(by[sc] for sc in counts if sc not in shown)) if by else set()
    total = _count(set(ideas), author)
    cells, _ = protect([counts[sc] for sc in shown] + [_count(rest, author)], total, k)
    return [SchoolRow(sc, cells[n]) for n, sc in enumerate(shown)], cells[-1]


def _votes(s: Session, ideas: dict, k: int) -> tuple[dict[str, Cell], list[BackedIdea]]:
    voter = Vote.platform + ":" + Vote.user_id
    totals = {
        kind: Count(int(n), int(p))
        for kind, n, p in s.execute(
            sa.select(Vote.kind, sa.func.count(), sa.func.count(sa.distinct(voter))).group_by(
                Vote.kind
            )
        )
    }
    none = Count(0, 0)
    cells, _ = protect([totals.get("try", none), totals.get("tried", none)], None, k)
    per: dict[int, dict[str, int]] = defaultdict(dict)
    voters: dict[int, int] = {}
    for iid, kind, n in s.execute(
        sa.select(Vote.idea_id, Vote.kind, sa.func.count()).group_by(Vote.idea_id, Vote.kind)
    ):
        per[iid][kind] = int(n)
    for iid, p in s.execute(
        sa.select(Vote.idea_id, sa.func.count(sa.distinct(voter))).group_by(Vote.idea_id)
    ):
        voters[iid] = int(p)
    backed = [
        BackedIdea(
            iid,
            ideas[iid].title,
            ideas[iid].status,
            people_cell(v.get("try", 0), k),
            people_cell(v.get("tried", 0), k),
        )
        for iid, v in per.items()
        if iid in ideas and voters.get(iid, 0) >= k
    ]
    backed.sort(
        key=lambda b: (-(per[b.number].get("tried", 0) * 2 + per[b.number].get("try", 0)), b.number)
    )
    return {"try": cells[0], "tried": cells[1]}, backed[:10]
