"""The home screen (Slack App Home): what Staffroom can do, recent sessions, my ideas."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ideas
from bot.messages import SessionCard
from retrieval.types import SessionMeta

if TYPE_CHECKING:
    from store import Database

log = logging.getLogger(__name__)

CAPABILITIES = (
    "Ask a teaching question: mention me in a channel, message me here, or use `/pd <question>`. "
    "I answer with the best PD sessions and the exact moment to watch.",
    "Ask about any message: its ⋯ menu → *Ask Staffroom about this*.",
    "Tell me whether an answer helped with 👍 / 👎, so the PD team sees what works.",
)

RecentSessions = Callable[[int], Sequence[SessionMeta]]
UserIdeas = Callable[[str, str], Sequence[str]]


@dataclass(frozen=True)
class Home:
    """Everything the home screen shows, platform-neutral."""

    capabilities: tuple[str, ...]
    recent: tuple[SessionCard, ...]
    ideas: tuple[str, ...]


def build_home(
    platform: str,
    user_id: str,
    *,
    recent: RecentSessions | None = None,
    ideas: UserIdeas | None = None,
    count: int = 5,
) -> Home:
    """The home for one user; a failing source is logged and shown empty, never fatal."""
    cards: tuple[SessionCard, ...] = ()
    mine: tuple[str, ...] = ()
    if recent is not None:
        try:
            cards = tuple(_card(meta) for meta in recent(count))
        except Exception:
            log.exception("could not list recent sessions for the home screen")
    if ideas is not None:
        try:
            mine = tuple(ideas(platform, user_id))
        except Exception:
            log.exception("could not list ideas for %s/%s", platform, user_id)
    return Home(CAPABILITIES, cards, mine)


def _card(meta: SessionMeta) -> SessionCard:
    return SessionCard(
        title=meta.title,
        presenter=meta.presenter,
        moment=meta.date,
        link=meta.url,
        snippet=meta.summary,
        grades=meta.grade_bands,
        subjects=meta.subjects,
    )


def ideas_of(database: Database) -> UserIdeas:
    """ "Title — status" of a user's newest ideas, read from ``database``."""

    def mine(platform: str, user_id: str) -> Sequence[str]:
        with database.session() as s:
            found = ideas.list_ideas(s, author=(platform, user_id), limit=10)
            return [f"{idea.title} — {ideas.status_label(idea.status)}" for idea in found]

    return mine
