"""Closing the gap loop: who should hear that a new session answers what they asked.

After a re-index adds sessions, ``gap_notices`` finds gap topics (questions with no good match
or a 👎) that a new session matches well, and the people who asked them while their questions
are still within retention. Each person gets at most one notice a week: the server sends it
with a delivery key naming the person and the week, and records it as ("gap_dm",
"<person>:<ISO week>") in ``insight_sends``; people who hold one this week are left out.

Which sessions a version added is the difference from the sessions the last check recorded
(``record_check``): each published version is checked once, by one replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from insights.clusters import from_bytes
from insights.digest import claim_send
from insights.topics import gap_condition
from store import InsightCluster, InsightQuestion, InsightSend, Question, utcnow

MATCH = 0.5  # cosine similarity between a session and a gap topic's centroid that "answers" it
KIND = "gap_dm"
CHECK = "gap_check"  # insight_sends rows: one per index version checked, with its sessions
NO_INDEX = "(none)"  # the "version" recorded while there is no index: nothing was in it


@dataclass(frozen=True)
class NewSession:
    """A session a re-index added: its embedding (title and summary) and the moment to watch."""

    session_id: str
    title: str
    vector: np.ndarray  # L2-normalised, from the same embedder as the topics
    start: float | None = None
    url: str = ""


@dataclass(frozen=True)
class GapNotice:
    platform: str
    user_id: str
    asker: int  # the pseudonym: the weekly claim's key
    asked: str  # their own (scrubbed) question, "You asked about …"
    session: NewSession
    score: float


def week_key(asker: int, now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{asker}:{year}-W{week:02d}"


def gap_notices(
    s: Session,
    sessions: Sequence[NewSession],
    *,
    retention_days: int,
    now: datetime | None = None,
    asked_before: datetime | None = None,
    match: float = MATCH,
) -> list[GapNotice]:
    """One notice per person (their best match), for people not yet told this week.

    ``asked_before``: only questions asked before then (the version's publication) count.
    """
    now = now or utcnow()
    if not sessions:
        return []
    topics = s.execute(sa.select(InsightCluster.id, InsightCluster.centroid)).all()
    if not topics:
        return []
    ids = [t.id for t in topics]
    vectors = np.stack([np.asarray(x.vector, dtype=np.float32) for x in sessions])
    # A topic's centroid starts with its text part (an answer part may follow): compare that.
    dim = vectors.shape[1]
    centroids = np.stack([from_bytes(t.centroid)[:dim] for t in topics])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    sims = centroids @ vectors.T  # topics x sessions
    best: dict[int, tuple[NewSession, float]] = {}
    for row, topic_id in enumerate(ids):
        col = int(np.argmax(sims[row]))
        if sims[row, col] >= match:
            best[topic_id] = (sessions[col], float(sims[row, col]))
    if not best:
        return []
    cutoff = now - timedelta(days=retention_days)
    told = sa.select(InsightSend.key).where(InsightSend.kind == KIND)
    rows = s.execute(
        sa.select(
            InsightQuestion.cluster_id,
            InsightQuestion.asker,
            InsightQuestion.text,
            InsightQuestion.created_at,
            Question.platform,
            Question.user_id,
        )
        .join(Question, Question.id == InsightQuestion.question_id)
        .where(
            InsightQuestion.cluster_id.in_(list(best)),
            gap_condition(),
            InsightQuestion.created_at >= cutoff,
            InsightQuestion.created_at < (asked_before or now),
            InsightQuestion.text.is_not(None),
        )
        .order_by(InsightQuestion.created_at.desc())
    ).all()
    already = set(
        s.scalars(told.where(InsightSend.key.in_({week_key(r.asker, now) for r in rows})))
    )
    out: dict[str, GapNotice] = {}
    for r in rows:
        if week_key(r.asker, now) in already:
            continue
        session, score = best[r.cluster_id]
        mine = out.get(r.asker)
        if mine is None or score > mine.score:
            out[r.asker] = GapNotice(r.platform, r.user_id, r.asker, r.text or "", session, score)
    return sorted(out.values(), key=lambda n: -n.score)


def claim_notice(s: Session, notice: GapNotice, now: datetime | None = None) -> bool:
    """Take this week's one notice for the person; False when they already had it."""
    return claim_send(
        s, KIND, week_key(notice.asker, now or utcnow()), {"session_id": notice.session.session_id}
    )


def last_sessions(s: Session) -> set[str] | None:
    """The sessions of the last version checked; None before the first check."""
    row = s.scalars(
        sa.select(InsightSend).where(InsightSend.kind == CHECK)
        .order_by(InsightSend.created_at.desc()).limit(1)
    ).first()  # fmt: skip
    return None if row is None else set((row.detail or {}).get("sessions", ()))


def record_check(
    s: Session, version: str, sessions: Sequence[str], now: datetime | None = None
) -> None:
    """``version`` is checked; its sessions are what the next version is compared with."""
    claim_send(s, CHECK, version, {"sessions": sorted(sessions)}, now=now)
