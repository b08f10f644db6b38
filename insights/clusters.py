"""Topics: similar questions grouped incrementally around centroids, labelled by their words.

A question is a vector: its text's embedding and, with weight ``ANSWER_WEIGHT``, the session
its answer led with (``features``). It joins the nearest topic when it is at least ``JOIN``
cosine-similar to the topic's centroid (the centroid then moves to the members' mean), else it
starts a topic of its own. This runs in the background on questions not yet grouped, so asking never waits on
it. Labels are the topic's most distinctive words and pairs of words (a class-based TF-IDF over
all topics), recomputed for topics whose members changed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from store import InsightAnswer, InsightCluster, InsightQuestion, utcnow

# Any embedder fits (retrieval's embed_queries does): texts in, L2-normalised float32 rows out.
Embed = Callable[[Sequence[str]], np.ndarray]

JOIN = 0.5  # cosine similarity to a topic's centroid that joins it (see bench/insights.py)
ANSWER_WEIGHT = 0.3  # how much the session an answer led with counts (see ``features``)
ANSWER_DIM = 128
BATCH = 256
LABEL_TERMS = 2
KEEP_TERMS = 60  # the words a topic remembers for its label, most frequent first

STOPWORDS = frozenset(
    """
    a about above after again all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't down during each even ever every few for from get gets getting got had hadn't
    has hasn't have haven't having he her here hers him his how i i'd i'll i'm i've if in into
    is isn't it it's its itself just like me more most much my need needs never no nor not now
    of off on once one only or other our out over own really same she should shouldn't so some
    still such than that that's the their them then there these they they're thing things this
    those through to too under until up us very want was wasn't way we we're were weren't what
    what's when where which while who whom why will with without won't would wouldn't you
    your yours yourself actually make makes making keep keeps tips ideas help know ways way
    im dont cant doesnt isnt ive whats lot lots kind sort use using try trying go going
    name kids students student class classes work number time day week thing good better
    grade grades graders grader level actually anyone else something ever
    kindergartners kindergartner schoolers high middle elementary today tomorrow tonight
    """.split()
)
_TOKEN = re.compile(r"[a-z][a-z'-]+")


def terms(text: str) -> list[str]:
    """Words and adjacent word pairs of ``text``, without stopwords or [placeholders]."""
    found = _TOKEN.findall(re.sub(r"\[\w+\]", " ", text.lower()))
    words = [w.strip("'-").removesuffix("'s") for w in found]
    words = [w for w in words if len(w) > 2 and w not in STOPWORDS]
    pairs = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    return words + pairs


@dataclass
class _Topic:
    id: int
    centroid: np.ndarray
    members: int


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").copy()


def answer_part(session_id: str | None) -> np.ndarray:
    """The session an answer led with, as a hashed one-hot (zeros when nothing matched well)."""
    out = np.zeros(ANSWER_DIM, dtype=np.float32)
    if session_id:
        digest = hashlib.blake2b(session_id.encode(), digest_size=8).digest()
        out[int.from_bytes(digest, "little") % ANSWER_DIM] = 1.0
    return out


def features(texts: np.ndarray, sessions: Sequence[str | None], weight: float) -> np.ndarray:
    """Question vectors: the text's embedding and, weighted, the session its answer led with.

    The cosine of two such vectors is (1 - weight) * text similarity + weight * same session,
    so questions the library answered alike group more readily; gaps (no session) group by
    their text alone.
    """
    if weight <= 0:
        return texts
    answers = np.stack([answer_part(x) for x in sessions])
    out = np.hstack([texts * math.sqrt(1 - weight), answers * math.sqrt(weight)])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (out / norms).astype(np.float32)


def pending_count(s: Session) -> int:
    """Questions not yet grouped into a topic (whose text is still kept)."""
    waiting = sa.and_(InsightQuestion.cluster_id.is_(None), InsightQuestion.text.is_not(None))
    count = sa.select(sa.func.count()).select_from(InsightQuestion).where(waiting)
    return int(s.scalar(count) or 0)


def assign_pending(
    s: Session,
    embed: Embed,
    *,
    model: str = "",
    limit: int = 5000,
    join: float = JOIN,
    answer_weight: float = ANSWER_WEIGHT,
) -> int:
    """Group questions not yet in a topic (oldest first, at most ``limit``); how many."""
    led = (
        sa.select(InsightAnswer.session_id)
        .where(InsightAnswer.question_id == InsightQuestion.question_id, InsightAnswer.rank == 1)
        .scalar_subquery()
    )
    pending = s.execute(
        sa.select(InsightQuestion.question_id, InsightQuestion.text, led)
        .where(InsightQuestion.cluster_id.is_(None), InsightQuestion.text.is_not(None))
        .order_by(InsightQuestion.question_id)
        .limit(limit)
    ).all()
    if not pending:
        return 0
    # Topics from another model (or weighting) are a different space: never mixed.
    model = f"{model}+answers{answer_weight:g}" if answer_weight > 0 else model
    topics = [
        _Topic(row.id, from_bytes(row.centroid), row.members)
        for row in s.execute(
            sa.select(InsightCluster.id, InsightCluster.centroid, InsightCluster.members).where(
                InsightCluster.model == model
            )
        )
    ]
    matrix = np.stack([t.centroid for t in topics]) if topics else np.zeros((0, 1), "f4")
    changed: set[int] = set()
    placed: list[dict[str, int]] = []
    for start in range(0, len(pending), BATCH):
        chunk = pending[start : start + BATCH]
        # The same question is often asked many times: embed each distinct text once.
        distinct = list(dict.fromkeys(row.text or "" for row in chunk))
        found = np.asarray(embed(distinct), dtype=np.float32)
        where = {text: n for n, text in enumerate(distinct)}
        vectors = features(
            found[[where[row.text or ""] for row in chunk]],
            [row[2] for row in chunk],
            answer_weight,
        )
        for (question_id, _text, _led), vector in zip(chunk, vectors, strict=True):
            best, score = -1, -1.0
            if topics:
                sims = matrix @ vector
                best = int(np.argmax(sims))
                score = float(sims[best])
            if score >= join:
                topic = topics[best]
                mean = topic.centroid * topic.members + vector
                topic.centroid = mean / (np.linalg.norm(mean) or 1.0)
                topic.members += 1
                matrix[best] = topic.centroid
            else:
                row = InsightCluster(
                    centroid=to_bytes(vector),
                    members=1,
                    model=model,
                    terms={},
                    label="",
                    dirty=True,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
                s.add(row)
                s.flush()
                topic = _Topic(row.id, vector.copy(), 1)
                topics.append(topic)
                matrix = vector[None, :].copy() if len(topics) == 1 else np.vstack([matrix, vector])
            changed.add(topic.id)
            placed.append({"qid": question_id, "cid": topic.id})
    if placed:  # one executemany, not a round trip per question
        table = cast(sa.Table, InsightQuestion.__table__)
        s.execute(
            sa.update(table)
            .where(table.c.question_id == sa.bindparam("qid"))
            .values(cluster_id=sa.bindparam("cid")),
            placed,
        )
    by_id = {t.id: t for t in topics}
    for topic_id in changed:
        t = by_id[topic_id]
        s.execute(
            sa.update(InsightCluster)
            .where(InsightCluster.id == topic_id)
            .values(
                centroid=to_bytes(t.centroid), members=t.members, dirty=True, updated_at=utcnow()
            )
        )
    return len(pending)


def relabel(s: Session) -> int:
    """Recount the words of topics whose members changed, then label every topic; how many."""
    dirty = list(s.scalars(sa.select(InsightCluster.id).where(InsightCluster.dirty.is_(True))))
    for topic_id in dirty:
        texts = s.scalars(
            sa.select(InsightQuestion.text).where(
                InsightQuestion.cluster_id == topic_id, InsightQuestion.text.is_not(None)
            )
        ).all()
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(set(terms(text or "")))
        values: dict[str, object] = {"dirty": False}
        if counts:  # no text left (retention): keep the words it had
            values["terms"] = dict(counts.most_common(KEEP_TERMS))
        s.execute(sa.update(InsightCluster).where(InsightCluster.id == topic_id).values(**values))
    if not dirty:
        return 0
    rows = s.execute(sa.select(InsightCluster.id, InsightCluster.terms)).all()
    all_terms: dict[int, Any] = {r[0]: r[1] for r in rows}
    labels = label_topics({k: dict(v or {}) for k, v in all_terms.items()})
    for topic_id, label in labels.items():
        s.execute(
            sa.update(InsightCluster).where(InsightCluster.id == topic_id).values(label=label)
        )
    return len(dirty)


def _stems(phrase: str) -> set[str]:
    return {w.rstrip("s") for w in phrase.split()}


def _extend(chosen: list[str], pair: str) -> bool:
    """Grow a chosen phrase by a pair that overlaps its end or start (at most 4 words)."""
    words = pair.split()
    if len(words) != 2:
        return False
    used = {w for phrase in chosen for w in phrase.split()}
    for n, phrase in enumerate(chosen):
        have = phrase.split()
        if len(have) >= 4 or words[0] == words[1] or set(words) <= set(have):
            continue
        if have[-1] == words[0] and words[1] not in used:
            chosen[n] = f"{phrase} {words[1]}"
            return True
        if have[0] == words[1] and words[0] not in used:
            chosen[n] = f"{words[0]} {phrase}"
            return True
    return False


def label_topics(topic_terms: dict[int, dict[str, int]]) -> dict[int, str]:
    """A readable label per topic: its most distinctive terms (class-based TF-IDF)."""
    df: Counter[str] = Counter()
    for counts in topic_terms.values():
        df.update(counts.keys())
    n = max(1, len(topic_terms))
    labels = {}
    for topic_id, counts in topic_terms.items():
        total = sum(counts.values()) or 1
        scored = sorted(
            counts.items(),
            # pairs read better than single words: a small bonus; ties by the word itself
            key=lambda kv: (
                -(kv[1] / total) * math.log(1 + n / df[kv[0]]) * (1.3 if " " in kv[0] else 1.0),
                kv[0],
            ),
        )
        chosen: list[str] = []
        for term, _count in scored:
            if _extend(chosen, term):
                continue  # "station rotation" + "rotation timers" = "station rotation timers"
            if any(_stems(term) & _stems(c) for c in chosen):
                continue  # "exit tickets" makes "exit" and "tickets" redundant
            if len(chosen) == LABEL_TERMS:
                break
            chosen.append(term)
        labels[topic_id] = (", ".join(chosen) or "(no words left)").capitalize()
    return labels
