"""A synthetic district history for benchmarks, demos and the browser test.

Questions written the way teachers type, from topic templates (most answerable by the sample
library's sessions, some not), asked by people with a long-tailed activity, with votes, and
an idea queue across schools moving through its statuses. Written in bulk through the same
scrubbing and facet rules as live questions, so what the pages show is what they would show.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from insights import facets
from insights.record import week_of
from insights.scrub import asker_key, scrub
from insights.synthetic_text import GRADES, MOMENTS, SUBJECTS, TOPICS
from store import (
    ContentGap,
    Feedback,
    Idea,
    IdeaEvent,
    InsightAnswer,
    InsightQuestion,
    Question,
    Vote,
)


@dataclass(frozen=True)
class History:
    questions: int
    askers: int
    schools: int
    ideas: int


def seed(
    s: Session,
    *,
    questions: int,
    askers: int,
    schools: int,
    weeks: int,
    end: date,
    tz: ZoneInfo = ZoneInfo("UTC"),
    seed_value: int = 7,
    ideas: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> History:
    """Write a synthetic history ending in ``end``'s week; existing rows are kept."""
    rng = random.Random(seed_value)
    base_id = int(s.scalar(sa.select(sa.func.max(Question.id))) or 0)
    people = [f"U{n:05d}" for n in range(askers)]
    activity = [1 / (n + 1) ** 0.8 for n in range(askers)]  # a few ask a lot, most a little
    school_of = {p: f"School {n % schools + 1:02d}" for n, p in enumerate(people)}
    start = end - timedelta(weeks=weeks)
    scrubbed: dict[str, str] = {}
    pending_q: list[dict] = []
    pending_i: list[dict] = []
    pending_a: list[dict] = []
    pending_f: list[dict] = []
    pending_g: list[dict] = []
    weights = [1.0 / (n + 1) ** 0.6 for n in range(len(TOPICS))]

    def flush() -> None:
        for model, rows in (
            (Question, pending_q),
            (InsightQuestion, pending_i),
            (InsightAnswer, pending_a),
            (Feedback, pending_f),
            (ContentGap, pending_g),
        ):
            if rows:
                s.execute(sa.insert(model), rows)
                rows.clear()

    for n in range(questions):
        qid = base_id + n + 1
        topic_n = rng.choices(range(len(TOPICS)), weights)[0]
        session, templates = TOPICS[topic_n]
        text = rng.choice(templates).format(
            n=rng.choice([28, 32, 90, 120, 150]),
            grade=rng.choice(GRADES),
            subject=rng.choice(SUBJECTS),
        )
        user = rng.choices(people, activity)[0]
        # questions grow over the year, with a dip in the holidays
        day = start + timedelta(days=int(weeks * 7 * rng.random() ** 0.8))
        when = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=rng.randint(7, 20), minutes=rng.randint(0, 59)
        )
        good = session is not None and rng.random() > 0.08
        others = [t[0] for t in TOPICS if t[0] and t[0] != session]
        sessions = [session] + rng.sample(others, 2) if good else []
        results = [
            {
                "session_id": sid,
                "score": round(0.7 - 0.1 * r, 3),
                "source": f"{sid}/a",
                "start": float(rng.choice(MOMENTS)),
                "end": None,
            }
            for r, sid in enumerate(sessions)
        ]
        pending_q.append(
            {
                "id": qid,
                "platform": "slack",
                "user_id": user,
                "channel_id": None,
                "thread_id": None,
                "text": text,
                "created_at": when,
                "index_version": "synthetic",
                "good_match": good,
                "top_score": 0.7 if good else 0.2,
                "results": results,
                "latency_ms": 120,
                "reply_ref": None,
            }
        )
        clean = scrubbed.get(text)
        if clean is None:
            clean = scrubbed[text] = scrub(text)
        pending_i.append(
            {
                "question_id": qid,
                "created_at": when,
                "week": week_of(when, tz),
                "asker": asker_key("slack", user),
                "text": clean,
                "good_match": good,
                "grade_band": facets.grade_band(clean),
                "subject": facets.subject(clean),
                "cluster_id": None,
            }
        )
        for r, res in enumerate(results[:3], 1):
            pending_a.append(
                {
                    "question_id": qid,
                    "rank": r,
                    "session_id": res["session_id"],
                    "moment_start": int(res["start"] or 0),
                    "week": pending_i[-1]["week"],
                    "asker": pending_i[-1]["asker"],
                }
            )
        if not good:
            pending_g.append({"question_id": qid, "text": text, "created_at": when})
        if rng.random() < 0.22:
            pending_f.append(
                {
                    "question_id": qid,
                    "platform": "slack",
                    "user_id": user,
                    "helpful": rng.random() < (0.8 if good else 0.15),
                    "comment": "",
                    "created_at": when + timedelta(minutes=2),
                }
            )
        if len(pending_q) >= 5000:
            flush()
            if progress:
                progress(n + 1)
    flush()
    count = _ideas(
        s, rng, people, school_of, ideas if ideas is not None else max(30, askers // 4), start, end
    )
    if s.get_bind().dialect.name == "postgresql":
        for table in ("questions", "ideas", "idea_events", "votes", "feedback", "content_gaps"):
            s.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 1))"
                )
            )
    return History(questions, askers, schools, count)


PATH = ["new", "under_review", "piloting", "scaling", "adopted"]


def _ideas(
    s: Session,
    rng: random.Random,
    people: list[str],
    school_of: dict[str, str],
    count: int,
    start: date,
    end: date,
) -> int:
    base = int(s.scalar(sa.select(sa.func.max(Idea.id))) or 0)
    ideas, events, votes = [], [], []
    span = (end - start).days
    for n in range(count):
        iid = base + n + 1
        author = rng.choice(people)
        created = datetime.combine(
            start + timedelta(days=rng.randint(0, span)), datetime.min.time(), tzinfo=UTC
        ) + timedelta(hours=9)
        status, at = "new", created
        events.append(
            {
                "idea_id": iid,
                "actor_platform": "slack",
                "actor_id": author,
                "from_status": None,
                "to_status": "new",
                "note": "submitted",
                "created_at": at,
            }
        )
        for nxt in PATH[1:]:
            at = at + timedelta(days=rng.randint(3, 40))
            if at.date() > end or rng.random() < 0.35:
                break
            if rng.random() < 0.12:
                nxt = "declined"
            events.append(
                {
                    "idea_id": iid,
                    "actor_platform": "slack",
                    "actor_id": "USTAFF",
                    "from_status": status,
                    "to_status": nxt,
                    "note": "",
                    "created_at": at,
                }
            )
            status = nxt
            if nxt == "declined":
                break
        title = rng.choice(
            [
                "Silent signals for transitions",
                "Two-minute exit tickets",
                "Peer tutoring at lunch",
                "Family texts in home languages",
                "Number talk warm-ups",
                "Reading buddies across grades",
                "Phone parking lot",
                "Student-led conferences",
            ]
        )
        ideas.append(
            {
                "id": iid,
                "title": f"{title} ({n + 1})",
                "practice": "A practice.",
                "problem": "A problem.",
                "grade_bands": [],
                "subjects": [],
                "school": school_of[author],
                "evidence": "It worked.",
                "help_needed": "",
                "author_platform": "slack",
                "author_id": author,
                "author_name": "",
                "status": status,
                "question_id": None,
                "merged_into_id": None,
                "related_sessions": [],
                "embedding": None,
                "embedding_model": "",
                "review_channel": None,
                "review_ref": None,
                "review_post_status": "posted",
                "review_post_attempts": 1,
                "review_post_error": "",
                "version": 1,
                "created_at": created,
                "updated_at": at,
            }
        )
        for voter in rng.sample(people, min(len(people), rng.randint(0, 12))):
            votes.append(
                {
                    "idea_id": iid,
                    "platform": "slack",
                    "user_id": voter,
                    "kind": rng.choice(["try", "try", "tried"]),
                    "outcome": None,
                    "created_at": created + timedelta(days=1),
                }
            )
    for model, rows in ((Idea, ideas), (IdeaEvent, events), (Vote, votes)):
        for i in range(0, len(rows), 5000):
            s.execute(sa.insert(model), rows[i : i + 5000])
    return count
