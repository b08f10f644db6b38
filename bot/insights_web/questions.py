"""A gap becomes a design question: opened and announced exactly as `question new` does in chat."""

from __future__ import annotations

from datetime import date

import ideas
from bot.flows.design_questions import open_question
from bot.flows.idea_views import IdeaDeps
from insights.access import Viewer


async def open_design_question(
    deps: IdeaDeps, viewer: Viewer, text: str, deadline: date | None
) -> tuple[int, bool]:
    """(question number, whether it was announced in STAFFROOM_QUESTIONS_CHANNEL)."""
    author = ideas.Actor(viewer.platform, viewer.user_id, viewer.name)
    q, sent = await open_question(deps, author, text, deadline)
    return q.id, sent is not None and sent.ok
