"""Answer lines above the ranked sessions: extractive always, LLM-synthesized when configured.

The bot posts the extractive reply as soon as retrieval finishes, then, when a synthesizer is
configured, replaces it in place with the grounded answer (``None`` means: keep what is shown).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from retrieval.llm_budget import DailyTokenBudget, TokenBudget
from retrieval.moments import deep_link, format_clock
from retrieval.types import Moment, SearchResponse, SessionMeta
from staffroom_errors import ConfigError

if TYPE_CHECKING:
    from retrieval.llm_openai import OpenAISynthesizer

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


class LLMSettings(Protocol):
    """The fields of ``bot.settings.Settings`` the synthesizer needs (retrieval cannot import bot)."""

    openai_api_key: str
    openai_base_url: str
    llm_model: str
    llm_timeout: float
    llm_daily_tokens: int


def build_synthesizer(
    settings: LLMSettings, *, budget: TokenBudget | None = None
) -> OpenAISynthesizer | None:
    """The OpenAI synthesizer when a key is configured, else ``None`` (answers stay extractive).

    ``budget`` defaults to an in-memory daily allowance of ``llm_daily_tokens``.
    """
    key = settings.openai_api_key.strip()
    if not key:
        return None
    base_url = settings.openai_base_url.strip()
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"OPENAI_BASE_URL must be an http(s) URL, got {base_url!r}.",
            hint="For example https://my-server:8000/v1 for vLLM or http://localhost:11434/v1 "
            "for Ollama.",
        )
    if settings.llm_timeout <= 0:
        raise ConfigError("STAFFROOM_LLM_TIMEOUT must be more than 0 seconds.")
    if settings.llm_daily_tokens < 0:
        raise ConfigError("STAFFROOM_LLM_DAILY_TOKENS must be 0 (unlimited) or more.")
    from retrieval.llm_openai import OpenAISynthesizer  # the openai import is slow: keep it lazy

    return OpenAISynthesizer(
        key,
        base_url=base_url or None,
        model=settings.llm_model,
        timeout=settings.llm_timeout,
        budget=budget if budget is not None else DailyTokenBudget(settings.llm_daily_tokens),
    )


def _where(moment: Moment) -> str:
    """Where to look inside the session: " at 12:30", " (page 3)" or " (Heading)"."""
    if moment.start is not None:
        return f" at {format_clock(moment.start)}"
    if moment.page is not None:
        return f" (page {moment.page})"
    if moment.heading:
        return f" ({moment.heading})"
    return ""

