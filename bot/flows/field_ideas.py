"""Field ideas under answers: practices colleagues pilot, scale or adopted that match a question.

"Colleagues at Lincoln MS are piloting: #12 Exit tickets on sticky notes" — shown in a section
of its own, marked as field ideas (not library sessions), with a button to open the idea. Only
ideas whose title+practice embedding scores at least the calibrated bar against the question
are shown (bench/field_ideas.py; figures in bench/RESULTS.md), at most two, and never an idea
whose published library session is already one of the answer's cards.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.messages import SAY, Action, FieldIdea, Reply
from ideas import usecases as do
from ideas.similar import Embed
from ingest.field_ideas import session_id
from retrieval.embedder import BUNDLED_NAME

if TYPE_CHECKING:
    from bot.messages import Incoming
    from retrieval.types import SearchResponse
    from store.runner import Runner

# Cosine of the question against "title\npractice" for the bundled all-MiniLM-L6-v2: precision
# 1.00 (recall 0.48) on bench/field_ideas.py's labelled set; 0.46 already showed a wrong idea.
FIELD_IDEA_BAR = 0.50
OTHER_MODEL_BAR = 0.60  # not calibrated: another model only shows very close ideas
SHOWN = 2
HEADING = "From colleagues' classrooms (field ideas, not library sessions):"
_DOING = {"piloting": "are piloting", "scaling": "are scaling up", "adopted": "have adopted"}


def field_line(match: do.FieldMatch) -> str:
    """ "Colleagues at Lincoln MS are piloting: #12 Exit tickets on sticky notes"."""
    who = f"Colleagues at {match.school.strip()}" if match.school.strip() else "Colleagues"
    return f"{who} {_DOING.get(match.status, 'are trying')}: #{match.idea_id} {match.title}"


def with_field_ideas(reply: Reply, found: list[do.FieldMatch]) -> Reply:
    """``reply`` with its field-ideas section, in ``text`` too (it reads well alone)."""
    if not found:
        return reply
    items = tuple(FieldIdea(m.idea_id, m.title, m.status, field_line(m)) for m in found)
    buttons = tuple(
        Action(SAY, f"💡 Idea #{m.idea_id}", f"idea {m.idea_id}", typed=f"idea {m.idea_id}")
        for m in found
    )
    text = "\n".join([reply.text, HEADING, *(f"• {i.line}" for i in items)])
    return replace(reply, text=text, field_ideas=items, actions=reply.actions + buttons)


class FieldIdeas:
    """The answer extra (``Answers.add_extra``) that adds matching field ideas."""

    def __init__(self, db: Runner, embed: Embed, model: str, *, bar: float | None = None) -> None:
        self.db, self.embed, self.model = db, embed, model
        self.bar = bar if bar is not None else (
            FIELD_IDEA_BAR if model == BUNDLED_NAME else OTHER_MODEL_BAR
        )  # fmt: skip

    async def __call__(self, incoming: Incoming, response: SearchResponse, reply: Reply) -> Reply:
        query = response.query
        if reply.kind not in ("answer", "no_match") or not query.strip():
            return reply
        listed = {r.session.session_id for r in response.results[: len(reply.cards)]}
        found = await self.db.run(
            do.field_ideas_for, query, response.vector, self.embed, self.model, self.bar,
            SHOWN + len(listed),
        )  # fmt: skip
        fresh = [m for m in found if session_id(m.idea_id) not in listed][:SHOWN]
        return with_field_ideas(reply, fresh)
