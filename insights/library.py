"""Library use: the sessions and moments answers send people to, sessions never sent, votes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from insights.counting import count_people
from insights.period import Period
from insights.privacy import Cell, Count, primary, protect
from store import Feedback, InsightAnswer

A = InsightAnswer
TOP = 15


@dataclass(frozen=True)
class LibrarySession:
    """A session of the live library (the composition root supplies them from the index)."""

    session_id: str
    title: str
    url: str = ""


@dataclass(frozen=True)
class SessionUse:
    session_id: str
    title: str
    sent: Cell  # answers that showed it (any rank)
    led: Cell  # answers that led with it
    helpful: Cell  # 👍 on answers that led with it
    not_helpful: Cell


@dataclass(frozen=True)
class MomentUse:
    session_id: str
    title: str
    start: int | None
    url: str
    sent: int


@dataclass(frozen=True)
class LibraryPage:
    period: Period
    k: int
    sessions: list[SessionUse]
    other_sessions: Cell  # answers showing sessions sent to fewer than k people, combined
    moments: list[MomentUse]
    never: list[LibrarySession]
    library_size: int


def library_use(
    s: Session, period: Period, k: int, catalog: Sequence[LibrarySession]
) -> LibraryPage:
    in_period = [A.week >= period.first, A.week <= period.last]
    titles = {m.session_id: m for m in catalog}
    sent = {key[0]: c for key, c in count_people(s, [A.session_id], A.asker, *in_period).items()}
    led = {
        key[0]: c
        for key, c in count_people(s, [A.session_id], A.asker, *in_period, A.rank == 1).items()
    }
    voter = Feedback.platform + ":" + Feedback.user_id
    votes = {
        (sid, bool(helpful)): c
        for (sid, helpful), c in count_people(
            s,
            [A.session_id, Feedback.helpful],
            voter,
            *in_period,
            A.rank == 1,
            source=sa.join(A, Feedback, Feedback.question_id == A.question_id),
        ).items()
    }
    ranked = sorted(sent, key=lambda sid: -sent[sid].value)
    shown = [sid for sid in ranked if not primary(sent[sid], k)][:TOP]
    rest = [sid for sid in sent if sid not in shown]
    other = Count(
        sum(sent[sid].value for sid in rest), max((sent[sid].people for sid in rest), default=0)
    )
    # Sessions shown plus "other" add up to all the session slots answers filled.
    total = Count(
        sum(c.value for c in sent.values()), max((c.people for c in sent.values()), default=0)
    )
    sent_cells, _ = protect([sent[sid] for sid in shown] + [other], total, k)
    none = Count(0, 0)
    rows = []
    for n, sid in enumerate(shown):
        (up, down), _ = protect(
            [votes.get((sid, True), none), votes.get((sid, False), none)],
            _plus(votes.get((sid, True), none), votes.get((sid, False), none)),
            k,
        )
        led_cell, _ = protect([led.get(sid, none)], None, k)
        rows.append(SessionUse(sid, _title(titles, sid), sent_cells[n], led_cell[0], up, down))
    by_moment = count_people(s, [A.session_id, A.moment_start], A.asker, *in_period, A.rank == 1)
    moments = sorted(
        (
            MomentUse(sid, _title(titles, sid), start, _link(titles, sid, start), c.value)
            for (sid, start), c in by_moment.items()
            if not primary(c, k)
        ),
        key=lambda m: (-m.sent, m.title, m.start or 0),
    )[:TOP]
    never = [m for m in catalog if m.session_id not in sent]
    return LibraryPage(period, k, rows, sent_cells[-1], moments, never, len(catalog))


def _plus(a: Count, b: Count) -> Count:
    return Count(a.value + b.value, max(a.people, b.people))


def _title(titles: dict[str, LibrarySession], sid: str) -> str:
    meta = titles.get(sid)
    if meta is None:  # no index loaded: the id is all there is
        return f"{sid} (no longer in the library)" if titles else sid
    return meta.title


def _link(titles: dict[str, LibrarySession], sid: str, start: int | None) -> str:
    meta = titles.get(sid)
    if meta is None or not meta.url:
        return ""
    return f"{meta.url}#t={start}" if start is not None else meta.url
