"""CSV export of the idea queue: every field plus vote and comment counts."""

from __future__ import annotations

import csv
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas.engagement import comment_counts, vote_counts
from store import Idea

COLUMNS: tuple[str, ...] = (
    "id", "title", "status", "practice", "problem", "grade_bands", "subjects", "school",
    "evidence", "help_needed", "author_platform", "author_id", "author_name", "question_id",
    "merged_into_id", "related_sessions", "try_count", "tried_count", "comment_count",
    "review_channel", "review_ref", "review_post_status", "created_at", "updated_at",
)  # fmt: skip

# A cell starting with one of these runs as a formula in a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(
            str(v.get("session_id", "")) if isinstance(v, dict) else str(v) for v in value
        )
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(s: Session, out: TextIO) -> int:
    """Write every idea (oldest first) as CSV to `out`; returns the number of rows."""
    ideas = list(s.scalars(sa.select(Idea).order_by(Idea.id)))
    ids = [i.id for i in ideas]
    votes = vote_counts(s, ids)
    comments = comment_counts(s, ids)
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for idea in ideas:
        extra = {
            "try_count": votes[idea.id].try_count,
            "tried_count": votes[idea.id].tried_count,
            "comment_count": comments[idea.id],
        }
        writer.writerow(
            [_cell(extra[c]) if c in extra else _cell(getattr(idea, c)) for c in COLUMNS]
        )
    return len(ideas)
