"""Topics (what staff ask about) and content gaps (what the library does not answer well).

A topic is shown only when at least k distinct people asked in it; smaller ones are combined
into one row ("smaller topics"), itself suppressed when it is about fewer than k people, and
secondary suppression keeps the page's total from giving a hidden row away. Example questions
(scrubbed) appear only inside topics that pass the group size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from insights.counting import count_people, one
from insights.period import Period, Slice
from insights.privacy import Cell, Count, people_cell, primary, protect
from store import Feedback, InsightAnswer, InsightCluster, InsightQuestion

Q = InsightQuestion
TOP_TOPICS = 30
TREND_WEEKS = 4
EXAMPLES = 3


@dataclass(frozen=True)
class SessionShare:
    session_id: str
    questions: int


@dataclass(frozen=True)
class Topic:
    id: int
    label: str
    questions: Cell
    askers: Cell
    trend: float | None  # change of the last 4 weeks over the 4 before; None = too few to tell
    sessions: tuple[SessionShare, ...]
    last_asked: datetime | None


@dataclass(frozen=True)
class TopicsPage:
    period: Period
    k: int
    slice: Slice
    topics: list[Topic]
    smaller: Cell  # questions in topics too small to show, combined
    smaller_topics: int
    ungrouped: Cell  # questions not yet grouped into a topic
    total: Cell


def filters_for(period: Period, where: Slice) -> list[sa.ColumnElement[bool]]:
    return [Q.week >= period.first, Q.week <= period.last, *_slice(where)]


def _slice(where: Slice) -> list[sa.ColumnElement[bool]]:
    out = []
    if where.grade_band:
        out.append(Q.grade_band == where.grade_band)
    if where.subject:
        out.append(Q.subject == where.subject)
    return out


def topics(s: Session, period: Period, k: int, where: Slice = Slice()) -> TopicsPage:
    cond = filters_for(period, where)
    counts = count_people(s, [Q.cluster_id], Q.asker, *cond)
    ungrouped = counts.get((None,), Count(0, 0))
    counted = {key[0]: c for key, c in counts.items() if key[0] is not None}
    shown_ids = [
        cid for cid, c in sorted(counted.items(), key=lambda kv: -kv[1].value) if not primary(c, k)
    ][:TOP_TOPICS]
    grouped = {cid: (c, None) for cid, c in counted.items()}
    last = _last_asked(s, cond, shown_ids)
    small_ids = [cid for cid in grouped if cid not in shown_ids]
    smaller = _people(s, cond + [Q.cluster_id.in_(small_ids)]) if small_ids else Count(0, 0)
    total = _people(s, cond)
    cells, total_cell = protect(
        [grouped[cid][0] for cid in shown_ids] + [smaller, ungrouped], total, k
    )
    labels = dict(
        s.execute(
            sa.select(InsightCluster.id, InsightCluster.label).where(
                InsightCluster.id.in_(shown_ids)
            )
        ).all()
    )
    trends = _trends(s, where, shown_ids, period, k)
    sessions = _sessions(s, cond, shown_ids, k)
    out = [
        Topic(
            id=cid,
            label=labels.get(cid) or "Not labelled yet",
            questions=cells[n],
            askers=people_cell(grouped[cid][0].people, k),
            trend=trends.get(cid),
            sessions=sessions.get(cid, ()),
            last_asked=last.get(cid),
        )
        for n, cid in enumerate(shown_ids)
    ]
    return TopicsPage(
        period, k, where, out, cells[-2], len(small_ids), cells[-1], total_cell or Cell(None)
    )


def _people(s: Session, cond: list[sa.ColumnElement[bool]]) -> Count:
    return one(count_people(s, [], Q.asker, *cond))


def _last_asked(s: Session, cond: list, ids: list[int]) -> dict[int, datetime]:
    if not ids:
        return {}
    rows = s.execute(
        sa.select(Q.cluster_id, sa.func.max(Q.created_at))
        .where(*cond, Q.cluster_id.in_(ids))
        .group_by(Q.cluster_id)
    )
    return {cid: at for cid, at in rows if cid is not None}


def _trends(s: Session, where: Slice, ids: list[int], period: Period, k: int) -> dict[int, float]:
    """Questions in the last 4 weeks over the 4 before, per topic, when both halves pass k."""
    if not ids:
        return {}
    recent = period.last - timedelta(weeks=TREND_WEEKS - 1)
    before = recent - timedelta(weeks=TREND_WEEKS)
    half = sa.case((Q.week >= recent, 1), else_=0)
    counts = count_people(
        s,
        [Q.cluster_id, half],
        Q.asker,
        Q.cluster_id.in_(ids),
        Q.week >= before,
        Q.week <= period.last,
        *_slice(where),
    )
    halves: dict[int, dict[int, Count]] = {}
    for (cid, h), c in counts.items():
        halves.setdefault(cid, {})[int(h)] = c
    out = {}
    for cid, parts in halves.items():
        old, new = parts.get(0), parts.get(1)
        if old and new and not primary(old, k) and not primary(new, k) and old.people >= k:
            out[cid] = (new.value - old.value) / old.value
    return out


def _sessions(
    s: Session, cond: list, ids: list[int], k: int
) -> dict[int, tuple[SessionShare, ...]]:
    """The sessions each topic's answers led with (only those sent to at least k people)."""
    if not ids:
        return {}
    counts = count_people(
        s,
        [Q.cluster_id, InsightAnswer.session_id],
        Q.asker,
        InsightAnswer.rank == 1,
        Q.cluster_id.in_(ids),
        *cond,
        source=sa.join(Q, InsightAnswer, InsightAnswer.question_id == Q.question_id),
    )
    out: dict[int, list[SessionShare]] = {}
    for (cid, session_id), c in counts.items():
        if not primary(c, k):
            out.setdefault(cid, []).append(SessionShare(session_id, c.value))
    return {cid: tuple(sorted(v, key=lambda x: -x.questions)[:3]) for cid, v in out.items()}


# --- content gaps ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    topic_id: int
    label: str
    questions: Cell  # questions in this topic with no good match or a 👎
    askers: Cell
    share: float | None  # of the topic's questions in the period
    last_asked: date
    examples: tuple[str, ...]


@dataclass(frozen=True)
class GapsPage:
    period: Period
    k: int
    slice: Slice
    gaps: list[Gap]
    smaller: Cell
    smaller_gaps: int
    total: Cell


def gap_condition() -> sa.ColumnElement[bool]:
    """A question is a gap when nothing matched well, or someone said the answer didn't help."""
    disliked = sa.select(Feedback.question_id).where(Feedback.helpful.is_(False))
    return sa.or_(Q.good_match.is_(False), Q.question_id.in_(disliked))


def gaps(
    s: Session, period: Period, k: int, where: Slice = Slice(), *, limit: int = 20
) -> GapsPage:
    cond = filters_for(period, where) + [gap_condition()]
    people = count_people(s, [Q.cluster_id], Q.asker, *cond, Q.cluster_id.is_not(None))
    last_all = _last_asked(s, cond, [key[0] for key in people])
    counts = {key[0]: (c, last_all[key[0]]) for key, c in people.items()}
    passing = [cid for cid, (c, _) in counts.items() if not primary(c, k)]
    # Most people first, then the most recently asked.
    passing.sort(key=lambda cid: (-counts[cid][0].people, -counts[cid][1].timestamp()))
    shown = passing[:limit]
    small = [cid for cid in counts if cid not in shown]
    smaller = _people(s, cond + [Q.cluster_id.in_(small)]) if small else Count(0, 0)
    ungrouped = _people(s, cond + [Q.cluster_id.is_(None)])
    total = _people(s, cond)
    cells, total_cell = protect(
        [counts[c][0] for c in shown] + [_merge(smaller, ungrouped)], total, k
    )
    labels = dict(
        s.execute(
            sa.select(InsightCluster.id, InsightCluster.label).where(InsightCluster.id.in_(shown))
        ).all()
    )
    sizes = dict(
        s.execute(
            sa.select(Q.cluster_id, sa.func.count())
            .where(*filters_for(period, where), Q.cluster_id.in_(shown))
            .group_by(Q.cluster_id)
        ).all()
    )
    texts = _examples_for(s, shown, cond)  # every shown gap passes the group size
    out = []
    for n, cid in enumerate(shown):
        count, last = counts[cid]
        out.append(
            Gap(
                topic_id=cid,
                label=labels.get(cid) or "Not labelled yet",
                questions=cells[n],
                askers=people_cell(count.people, k),
                share=count.value / sizes[cid] if sizes.get(cid) else None,
                last_asked=last.date(),
                examples=texts.get(cid, ()),
            )
        )
    return GapsPage(period, k, where, out, cells[-1], len(small), total_cell or Cell(None))


def _examples_for(s: Session, ids: list[int], cond: list) -> dict[int, tuple[str, ...]]:
    """Up to EXAMPLES recent distinct scrubbed questions per topic, in one query."""
    if not ids:
        return {}
    recent = sa.func.row_number().over(partition_by=Q.cluster_id, order_by=Q.created_at.desc())
    ranked = (
        sa.select(Q.cluster_id, Q.text, recent.label("r"))
        .where(Q.cluster_id.in_(ids), Q.text.is_not(None), *cond)
        .subquery()
    )
    rows = s.execute(
        sa.select(ranked.c.cluster_id, ranked.c.text)
        .where(ranked.c.r <= EXAMPLES * 4)
        .order_by(ranked.c.cluster_id, ranked.c.r)
    )
    out: dict[int, list[str]] = {}
    for cid, text in rows:
        seen = out.setdefault(cid, [])
        if text and len(seen) < EXAMPLES and text.lower() not in (x.lower() for x in seen):
            seen.append(text)
    return {cid: tuple(v) for cid, v in out.items()}


def _merge(a: Count, b: Count) -> Count:
    return Count(a.value + b.value, max(a.people, b.people))


def examples(
    s: Session, topic_id: int, cond: list, k: int, count: int = EXAMPLES
) -> tuple[str, ...]:
    """A few recent scrubbed questions of a topic that passes the group size; () otherwise."""
    people = (
        s.scalar(
            sa.select(sa.func.count(sa.distinct(Q.asker))).where(Q.cluster_id == topic_id, *cond)
        )
        or 0
    )
    if people < k:
        return ()
    texts = s.scalars(
        sa.select(Q.text)
        .where(Q.cluster_id == topic_id, Q.text.is_not(None), *cond)
        .order_by(Q.created_at.desc())
        .limit(count * 4)
    ).all()
    seen: list[str] = []
    for text in texts:
        if text and text.lower() not in (t.lower() for t in seen):
            seen.append(text)
        if len(seen) == count:
            break
    return tuple(seen)
