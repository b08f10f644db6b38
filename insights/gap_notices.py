"""Closing the gap loop: who should hear that a new session answers what they asked.

After a re-index adds sessions, ``gap_notices`` finds gap topics (questions with no good match
or a 👎) that a new session matches well, and the people who asked them while their questions
are still within retention. Each person gets at most one notice a week: a claim on
("gap_dm", "<person>:<ISO week>") in ``insight_sends`` is the rule, as data, and people who
already hold one this week are left out. Sending waits for the core's delivery pipeline.
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
    match: float = MATCH,
) -> list[GapNotice]:
    """One notice per person (their best match), for people not yet told this week."""
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
