"""Write what insights keep about one question, in the transaction that logs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from insights import facets
from insights.scrub import asker_key, scrub
from store import InsightAnswer, InsightQuestion, Question

ANSWER_RANKS = 3  # the sessions an answer shows by default


def week_of(when: datetime, tz: ZoneInfo) -> date:
    """The Monday of ``when``'s week in the district's time zone."""
    local = when.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def record_question(s: Session, question: Question, tz: ZoneInfo) -> InsightQuestion:
    """The insights row for ``question``: scrubbed text, pseudonym, facets, sessions sent."""
    clean = scrub(question.text)
    row = InsightQuestion(
        question_id=question.id,
        created_at=question.created_at,
        week=week_of(question.created_at, tz),
        asker=asker_key(question.platform, question.user_id),
        text=clean,
        good_match=bool(question.good_match),
        grade_band=facets.grade_band(clean),
        subject=facets.subject(clean),
    )
    s.add(row)
    s.flush()
    if question.good_match:
        for rank, result in enumerate(_results(question.results)[:ANSWER_RANKS], 1):
            s.add(
                InsightAnswer(
                    question_id=question.id,
                    rank=rank,
                    session_id=str(result.get("session_id", ""))[:255],
                    moment_start=_seconds(result.get("start")),
                    week=row.week,
                    asker=row.asker,
                )
            )
        s.flush()
    return row


def _results(results: Sequence[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    return [r for r in results or () if isinstance(r, Mapping) and r.get("session_id")]


def _seconds(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
