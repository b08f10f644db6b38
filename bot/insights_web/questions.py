"""A gap becomes a design question: opened with the idea queue's rules, announced as chat does."""

from __future__ import annotations

import asyncio
from datetime import date

import ideas
from bot.flows.design_questions import announcement
from bot.outbox import Address, Outbox
from insights.access import Viewer
from store import Database


async def open_design_question(
    database: Database,
    outbox: Outbox,
    where: Address | None,
    viewer: Viewer,
    text: str,
    deadline: date | None,
) -> tuple[int, bool]:
    """(question number, whether it was announced in STAFFROOM_QUESTIONS_CHANNEL)."""
    author = ideas.Actor(viewer.platform, viewer.user_id, viewer.name)

    def open_it():
        with database.session() as s:
            q = ideas.open_question(s, text, author=author, deadline=deadline)
            s.flush()
            s.expunge(q)
            return q

    q = await asyncio.to_thread(open_it)
    if where is None:
        return q.id, False
    sent = await outbox.send(where, announcement(q))
    if not sent.ok:
        return q.id, False

    def remember() -> None:
        with database.session() as s:
            ideas.set_announce_ref(s, q.id, sent.ref)

    await asyncio.to_thread(remember)
    return q.id, True
