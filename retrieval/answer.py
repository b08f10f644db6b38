"""Answer lines above the ranked sessions: extractive always, LLM-synthesized when configured.

The bot posts the extractive reply as soon as retrieval finishes, then, when a synthesizer is
configured (``retrieval/llm_setup.py``), replaces it in place with the grounded answer
(``None`` means: keep what is shown).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from retrieval.moments import deep_link, format_clock
from retrieval.types import Moment, SearchResponse, SessionMeta

log = logging.getLogger(__name__)

DeltaCallback = Callable[[str], Awaitable[None] | None]


@dataclass(frozen=True)
class Citation:
    """What ``[number]`` in an answer points at: one retrieved moment."""

    number: int
    session_id: str
    chunk_id: str
    title: str
    start: float | None
    end: float | None
    url: str  # the recording opened at ``start`` when both are known; "" when none

    @classmethod
    def of(cls, number: int, session: SessionMeta, moment: Moment) -> Citation:
        return cls(
            number=number,
            session_id=session.session_id,
            chunk_id=moment.chunk_id,
            title=session.title,
            start=moment.start,
            end=moment.end,
            url=deep_link(session.url, moment.start),
        )


@dataclass(frozen=True)
class GroundedAnswer:
    """Plain text whose every ``[n]`` matches one of ``citations`` (numbered 1..N in order)."""

    text: str
    citations: tuple[Citation, ...]
    usage_tokens: int
    model: str
    latency_ms: float


class Synthesizer(Protocol):
    """Writes the answer line for a retrieved response."""

    async def answer(
        self, query: str, response: SearchResponse, *, on_delta: DeltaCallback | None = None
    ) -> GroundedAnswer | None:
        """The answer, or ``None`` when there is nothing trustworthy to add to the sessions.

        ``on_delta`` (optional) receives the growing, already citation-checked text while a
        streamed answer arrives.
        """
        ...


class ExtractiveAnswerer:
    """The no-LLM answer: "Best match: <title> at 12:30", from the top session's best moment."""

    def compose(self, response: SearchResponse) -> GroundedAnswer | None:
        if not response.good_match or not response.results:
            return None
        top = response.results[0]
        moment = top.best
        text = f"Best match: {top.session.title}{_where(moment)}"
        return GroundedAnswer(
            text=text,
            citations=(Citation.of(1, top.session, moment),),
            usage_tokens=0,
            model="extractive",
            latency_ms=0.0,
        )

    async def answer(
        self, query: str, response: SearchResponse, *, on_delta: DeltaCallback | None = None
    ) -> GroundedAnswer | None:
        return self.compose(response)


def _where(moment: Moment) -> str:
    """Where to look inside the session: " at 12:30", " (page 3)" or " (Heading)"."""
    if moment.start is not None:
        return f" at {format_clock(moment.start)}"
    if moment.page is not None:
        return f" (page {moment.page})"
    if moment.heading:
        return f" ({moment.heading})"
    return ""

