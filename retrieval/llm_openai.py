"""Grounded answers from any OpenAI-compatible chat server, with a hard time budget."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import dataclass

import openai
from openai import AsyncOpenAI

from retrieval.answer import Citation, DeltaCallback, GroundedAnswer
from retrieval.llm_budget import TokenBudget
from retrieval.llm_citations import check_citations, finished_part
from retrieval.llm_prompt import Excerpt, build_messages, number_excerpts
from retrieval.llm_support import SupportCheck
from retrieval.types import SearchResponse

log = logging.getLogger(__name__)

# Errors meaning "this server does not do streaming (with usage)": retry once without it.
_STREAM_REJECTED = (openai.BadRequestError, openai.NotFoundError, openai.UnprocessableEntityError)


@dataclass(frozen=True)
class _Completion:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None


class OpenAISynthesizer:
    """``Synthesizer`` over ``openai.AsyncOpenAI``; every failure returns ``None`` and logs."""

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model: str = "gpt-4o-mini",
        timeout: float = 8.0,
        budget: TokenBudget | None = None,
        *,
        max_tokens: int = 300,
        stream: bool = True,
    ) -> None:
        # No client retries: a retry (or a Retry-After sleep) would only eat the time budget,
        # and the extractive answer is already on screen.
        self._client = AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        self.model = model
        self.timeout = timeout
        self._budget = budget
        self._max_tokens = max_tokens
        self._stream = stream

    async def aclose(self) -> None:
        await self._client.close()

    async def answer(
        self, query: str, response: SearchResponse, *, on_delta: DeltaCallback | None = None
    ) -> GroundedAnswer | None:
        if not response.good_match or not response.results:
            log.debug("llm skipped: no good match", extra={"event": "llm_skipped"})
            return None
        remaining = self._budget.remaining() if self._budget is not None else None
        if remaining is not None and remaining <= 0:
            _log_skip("daily_budget_spent", self.model)
            return None
        excerpts = number_excerpts(response)
        if not excerpts:  # every top passage is withheld (flagged at ingest)
            log.debug("llm skipped: no excerpt to offer", extra={"event": "llm_skipped"})
            return None
        messages = build_messages(query, excerpts)
        valid = {e.number for e in excerpts}
        support = SupportCheck(excerpts)
        prompt_chars = sum(len(m["content"]) for m in messages)
        started = time.perf_counter()
        try:
            done = await asyncio.wait_for(
                self._complete(messages, valid, support, _DeltaSink(on_delta)), self.timeout
            )
        except (TimeoutError, openai.APITimeoutError):
            self._spend(prompt_chars // 4)  # the server may bill a request we gave up on
            _log_skip("timeout", self.model, started)
            return None
        except openai.RateLimitError:
            _log_skip("rate_limited", self.model, started)
            return None
        except openai.APIStatusError as err:
            _log_skip(f"http_{err.status_code}", self.model, started)
            return None
        except (openai.APIConnectionError, openai.APIError) as err:
            _log_skip(type(err).__name__, self.model, started)
            return None
        latency_ms = (time.perf_counter() - started) * 1000
        prompt = done.prompt_tokens if done.prompt_tokens is not None else prompt_chars // 4
        completion = (
            done.completion_tokens if done.completion_tokens is not None else len(done.text) // 4
        )
        self._spend(prompt + completion)
        checked = check_citations(done.text, valid, supported=support)
        log.info(
            "llm answer",
            extra={
                "event": "llm_answer",
                "model": self.model,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "latency_ms": round(latency_ms, 1),
                "citations": len(checked.sources),
                "unsupported_dropped": checked.unsupported,
                "shown": bool(checked.text),
            },
        )
        if not checked.text:
            _log_skip("no_valid_citations", self.model, started)
            return None
        return GroundedAnswer(
            text=checked.text,
            citations=_citations(checked.sources, excerpts),
            usage_tokens=prompt + completion,
            model=self.model,
            latency_ms=latency_ms,
        )

    async def _complete(
        self,
        messages: list[dict[str, str]],
        valid: set[int],
        support: SupportCheck,
        sink: _DeltaSink,
    ) -> _Completion:
        if self._stream:
            try:
                return await self._streamed(messages, valid, support, sink)
            except _STREAM_REJECTED as err:
                log.info(
                    "llm streaming rejected; using plain completions",
                    extra={"event": "llm_no_stream", "status": err.status_code},
                )
                self._stream = False
        result = await self._client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=self._max_tokens,
            temperature=0,
        )
        text = (result.choices[0].message.content or "") if result.choices else ""
        usage = result.usage
        return _Completion(
            text,
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
        )

    async def _streamed(
        self,
        messages: list[dict[str, str]],
        valid: set[int],
        support: SupportCheck,
        sink: _DeltaSink,
    ) -> _Completion:
        stream = await self._client.chat.completions.create(  # type: ignore[call-overload]
            model=self.model,
            messages=messages,
            max_tokens=self._max_tokens,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
        parts: list[str] = []
        prompt_tokens = completion_tokens = None
        shown = ""
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    prompt_tokens = chunk.usage.prompt_tokens
                    completion_tokens = chunk.usage.completion_tokens
                for choice in chunk.choices:
                    if choice.delta.content:
                        parts.append(choice.delta.content)
                if sink.active:
                    partial = finished_part("".join(parts))
                    checked = check_citations(partial, valid, supported=support).text
                    if checked and checked != shown:
                        shown = checked
                        await sink.send(checked)
        return _Completion("".join(parts), prompt_tokens, completion_tokens)

    def _spend(self, tokens: int) -> None:
        if self._budget is not None and tokens > 0:
            self._budget.spend(tokens)


class _DeltaSink:
    """Calls the caller's ``on_delta``; a failing callback is logged and then left alone."""

    def __init__(self, callback: DeltaCallback | None) -> None:
        self._callback = callback

    @property
    def active(self) -> bool:
        return self._callback is not None

    async def send(self, text: str) -> None:
        if self._callback is None:
            return
        try:
            result = self._callback(text)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("llm on_delta callback failed", extra={"event": "llm_delta_failed"})
            self._callback = None


def _citations(sources: tuple[int, ...], excerpts: tuple[Excerpt, ...]) -> tuple[Citation, ...]:
    by_number = {e.number: e for e in excerpts}
    return tuple(
        Citation.of(i, by_number[n].session, by_number[n].moment)
        for i, n in enumerate(sources, start=1)
    )


def _log_skip(reason: str, model: str, started: float | None = None) -> None:
    extra: dict[str, object] = {"event": "llm_fallback", "reason": reason, "model": model}
    if started is not None:
        extra["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    log.warning("llm answer not used: %s", reason, extra=extra)
