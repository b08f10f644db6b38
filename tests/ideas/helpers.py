"""Small builders shared by the idea tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas import Actor, submit_idea
from store import Idea

AUTHOR = Actor("slack", "U_AUTHOR", "Ana Author")
REVIEWER = Actor("slack", "U_STAFF", "Sam Staff")

ANSWERS: dict[str, Any] = {
    "title": "Two-minute exit tickets",
    "practice": "Students answer one question on a sticky note; I sort them into three piles.",
    "problem": "I don't know who is lost until the unit test.",
    "evidence": "Re-teach groups shrank from 11 to 4 over six weeks.",
    "grade_bands": ["6-8"],
    "subjects": ["Math"],
    "school": "Lincoln Middle",
}


def make_idea(s: Session, status: str = "new", **answers: Any) -> Idea:
    """A submitted idea, forced into `status` (tests of the state machine start anywhere)."""
    idea = submit_idea(s, {**ANSWERS, **answers}, author=AUTHOR)
    if status != "new":
        s.execute(sa.update(Idea).where(Idea.id == idea.id).values(status=status))
        s.refresh(idea)
    return idea
