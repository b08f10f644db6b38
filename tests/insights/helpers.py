"""Seeding for insights tests: questions asked by named people in given weeks, votes, ideas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import store
from insights.record import record_question

UTC_ZONE = ZoneInfo("UTC")
MONDAY = date(2026, 11, 2)  # a Monday: "this week" in these tests is the one starting here
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


def at(weeks_ago: int = 0, day: int = 1, hour: int = 10) -> datetime:
    return datetime.combine(
        MONDAY - timedelta(weeks=weeks_ago) + timedelta(days=day), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=hour)


def ask(
    s: Session,
    user: str,
    text: str,
    *,
    good: bool = True,
    when: datetime | None = None,
    session: str = "exit-tickets",
    start: float | None = 750.0,
    platform: str = "slack",
    helpful: bool | None = None,
    voter: str | None = None,
) -> int:
    """One question as the bot logs it (raw text), with its insights row; its id."""
    results = (
        [
            {
                "session_id": session,
                "score": 0.8,
                "source": f"{session}/a.vtt",
                "start": start,
                "end": None,
            }
        ]
        if good
        else []
    )
    q = store.log_question(
        s,
        platform=platform,
        user_id=user,
        text=text,
        good_match=good,
        top_score=0.8 if good else 0.1,
        results=results,
    )
    if when is not None:
        q.created_at = when
        s.flush()
    if not good:
        store.record_gap(s, q.id, text)
    record_question(s, q, UTC_ZONE)
    if helpful is not None:
        store.record_feedback(s, q.id, platform, voter or user, helpful)
    return q.id


def people(n: int, prefix: str = "U") -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]


def _idea(s: Session, title: str, school: str, author: str, status: str = "new") -> int:
    idea = store.Idea(title=title, practice="p", problem="p", evidence="e", school=school,
                author_platform="slack", author_id=author, status=status,
                created_at=store.utcnow(), updated_at=store.utcnow())  # fmt: skip
    s.add(idea)
    s.flush()
    return idea.id


def seed_adoption(s: Session) -> tuple[int, int]:
    """Lincoln MS designs exit tickets (piloting), Eastside HS a phone hotel (adopted and
    published); 6 Eastside and 2 Maple teachers pilot the first, 5 Lincoln teachers try the
    second's library session; 4 more Lincoln teachers try another session."""
    exit_id = _idea(s, "Exit tickets on sticky notes", "Lincoln MS", "ULIN0", "piloting")
    phone_id = _idea(s, "Phone hotel", "Eastside HS", "UEAS0", "adopted")
    for n in range(1, 5):
        _idea(s, f"Lincoln idea {n}", "Lincoln MS", f"ULIN{n}")
        _idea(s, f"Eastside idea {n}", "Eastside HS", f"UEAS{n}")
    _idea(s, "Maple idea", "Maple ES", "UMAP0")
    verdicts = ["adopt", "adopt", "adopt", "adapt", "adapt", None]
    for n, verdict in enumerate(verdicts):
        s.add(store.PilotMember(idea_id=exit_id, platform="slack", user_id=f"UEP{n}",
                          school="Eastside HS", verdict=verdict))  # fmt: skip
    for n in range(2):
        s.add(
            store.PilotMember(
                idea_id=exit_id, platform="slack", user_id=f"UMP{n}", school="Maple ES"
            )
        )
    for n in range(5):
        s.add(store.FollowTry(platform="slack", user_id=f"ULT{n}", session_id=f"field-idea-{phone_id}",
                        school="Lincoln MS", title="Phone hotel"))  # fmt: skip
    for n in range(4):
        s.add(store.FollowTry(platform="slack", user_id=f"ULS{n}", session_id="exit-tickets",
                        school="Lincoln MS"))  # fmt: skip
    s.flush()
    return exit_id, phone_id
