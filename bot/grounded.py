"""A synthesized answer on the way to the chat: the refined reply, its citations, paced updates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from bot.messages import Reply
from retrieval.answer import Citation
from retrieval.moments import format_clock

T = TypeVar("T")
STREAMING_MARK = " …"  # after a partial answer: more is on its way


@dataclass(frozen=True)
class Grounded:
    """The reply with the synthesized answer line, and what its ``[n]`` point at."""

    reply: Reply
    citations: tuple[Citation, ...]


def where(citation: Citation) -> str:
    """ "▶ 12:30" for a timed moment, "" otherwise."""
    return f"▶ {format_clock(citation.start)}" if citation.start is not None else ""


def citation_line(citation: Citation) -> str:
    """ "[1] “Title” ▶ 12:30": plain text for notifications, the terminal and Teams."""
    spot = where(citation)
    return f"[{citation.number}] “{citation.title}”" + (f" {spot}" if spot else "")


def with_answer(reply: Reply, text: str, citations: tuple[Citation, ...] = ()) -> Reply:
    """``reply`` with ``text`` as its answer line; the extractive lines stay in ``text``."""
    lines = [text] + [citation_line(c) + (f" {c.url}" if c.url else "") for c in citations]
    return replace(reply, answer=text, text="\n".join([*lines, reply.text]))


def in_progress(reply: Reply, text: str) -> Reply:
    """``reply`` showing a streamed answer that is still arriving."""
    return with_answer(reply, text + STREAMING_MARK)


class Throttle(Generic[T]):
    """Sends at most one update per ``interval`` seconds; ``finish`` always sends, in turn.

    Updates offered too soon are dropped, not queued: each carries the whole text so far, and
    the next one (or ``finish``) supersedes it.
    """

    def __init__(
        self,
        send: Callable[[T], Awaitable[object]],
        interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._send, self._interval = send, interval
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None
        self.sent = 0

    async def offer(self, update: T) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return
        await self._deliver(update)

    async def finish(self, update: T) -> None:
        if self._last is not None:
            wait = self._interval - (self._clock() - self._last)
            if wait > 0:
                await self._sleep(wait)  # the platform's per-message edit rate, not a test wait
        await self._deliver(update)

    async def _deliver(self, update: T) -> None:
        self._last = self._clock()
        self.sent += 1
        await self._send(update)
