"""What gets embedded and keyword-indexed for a chunk: its text under a short contextual header."""

from __future__ import annotations

from retrieval.types import Chunk, SessionMeta


def context_header(session: SessionMeta, heading: str = "") -> str:
    """``"Session title > heading path"``: tells the model what a bare passage is about.

    A transcript passage ("so then I sort them into three piles") means little on its own; under
    "Exit Tickets That Change Tomorrow's Lesson" it matches "how do I use exit tickets".
    """
    parts = [session.title.strip()]
    heading = heading.strip()
    if heading and heading.casefold() != parts[0].casefold():
        parts.append(heading)
    return " > ".join(p for p in parts if p)


def index_text(chunk: Chunk, session: SessionMeta) -> str:
    """The text embedded and BM25-indexed for ``chunk``; deterministic and cheap."""
    header = context_header(session, chunk.heading)
    body = chunk.text.strip()
    return f"{header}\n\n{body}" if header else body
