"""Design questions: prompts central staff open for pitches ("How might we ...?")."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas.fields import clean
from ideas.records import Actor
from staffroom_errors import IdeaError, InputError
from store import DesignQuestion, utcnow

QUESTION_MAX = 500


def open_question(
    s: Session, text: str, *, author: Actor, deadline: date | None = None, today: date | None = None
) -> DesignQuestion:
    """Open a design question for pitches; a deadline, when given, must not be in the past."""
    body = clean("question", text, required=True)
    if len(body) > QUESTION_MAX:
        raise InputError(f"A design question can be at most {QUESTION_MAX} characters.")
    if deadline is not None and deadline < (today or utcnow().date()):
        raise InputError(f"The deadline {deadline.isoformat()} is already past.")
    q = DesignQuestion(
        text=body,
        deadline=deadline,
        author_platform=author.platform,
        author_id=author.user_id,
        status="open",
        created_at=utcnow(),
    )
    s.add(q)
    s.flush()
    return q


def get_design_question(s: Session, question_id: int) -> DesignQuestion:
    q = s.get(DesignQuestion, question_id, populate_existing=True)
    if q is None:
        raise IdeaError(f"There is no design question #{question_id}.")
    return q


def list_open_questions(s: Session, today: date | None = None) -> list[DesignQuestion]:
    """Open questions whose deadline (if any) has not passed, newest first."""
    day = today or utcnow().date()
    return list(
        s.scalars(
            sa.select(DesignQuestion)
            .where(
                DesignQuestion.status == "open",
                sa.or_(DesignQuestion.deadline.is_(None), DesignQuestion.deadline >= day),
            )
            .order_by(DesignQuestion.id.desc())
        )
    )


def close_question(s: Session, question_id: int) -> DesignQuestion:
    """Stop taking pitches for a question (closing twice is harmless)."""
    q = get_design_question(s, question_id)
    q.status = "closed"
    s.flush()
    return q


def set_announce_ref(s: Session, question_id: int, ref: str) -> None:
    """Remember the message that announced the question."""
    get_design_question(s, question_id).announce_ref = ref
    s.flush()
