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
