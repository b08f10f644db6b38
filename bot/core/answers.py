"""Answering a question: search the library, log the question (and a gap), build the reply;
later, ground the posted answer with a synthesized one when an LLM is configured."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from bot import intents
from bot.core import followups
from bot.flows import ask
from bot.grounded import Grounded, in_progress, with_answer
from bot.messages import Reply
from bot.records import Records, UserState

if TYPE_CHECKING:
    from bot.messages import Incoming
    from retrieval.answer import Synthesizer
    from retrieval.conversation import TurnResult
    from retrieval.followup import Context
    from retrieval.types import Filters, IndexInfo, SearchResponse, SessionMeta
    from store.runner import Runner

log = logging.getLogger(__name__)

LAST_QUESTION = "last_question_id"
PENDING_MAX = 256  # answers never grounded (a failed post) must not pile up
# Adds to an answer (follow-through's *I'll try this* and colleagues' counts); never required.
Extra = Callable[["Incoming", "SearchResponse", Reply], Awaitable[Reply]]


class Retriever(Protocol):
    """The session library the core needs (``retrieval.search.Searcher`` fits)."""

    def search(
        self, query: str, *, k: int = 5, filters: Filters | None = None
    ) -> SearchResponse: ...

    def sessions(self) -> Sequence[SessionMeta]:
        """Every session of the live index (the home screen's "recent sessions")."""
        ...

    def info(self) -> IndexInfo:
        """The live index; raises ``IndexError_`` when there is none it can search."""
        ...


class Answers:
    """Questions in, replies out; CPU-bound searches share a small pool of worker threads."""

    def __init__(
        self,
        retriever: Retriever,
        records: Records,
        db: Runner,
        *,
        synthesizer: Synthesizer | None = None,
        top: int = 3,
        max_question_chars: int = 1000,
        search_workers: int = 2,
        turns: followups.TurnSearch | None = None,
        context_idle: float = followups.CONTEXT_IDLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.retriever, self._records, self._db = retriever, records, db
        self._synthesizer, self._top, self._max_chars = synthesizer, top, max_question_chars
        # Follow-ups: each conversation's context, judged turns (a plain retriever: rules only).
        self.turns = turns or followups.RuleTurns(self._plain_search, top=top)
        self._idle, self.clock = context_idle, clock
        # A small pool so that 20 questions do not fight over 2 cores.
        self._pool = ThreadPoolExecutor(search_workers, thread_name_prefix="search")
        self._pending: OrderedDict[int, tuple[str, SearchResponse]] = OrderedDict()
        self._extras: list[Extra] = []

    def add_extra(self, extra: Extra) -> None:
        """``extra(incoming, response, reply)`` may add to every answer (a failure is logged)."""
        self._extras.append(extra)

    def _plain_search(
        self, query: str, *, k: int = 5, filters: Filters | None = None
    ) -> SearchResponse:
        return self.retriever.search(query, k=k, filters=filters)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def search(
        self, query: str, *, top: int, filters: Filters | None = None
    ) -> SearchResponse:
        loop = asyncio.get_running_loop()
        call = partial(self.retriever.search, query, k=top, filters=filters)
        return await loop.run_in_executor(self._pool, call)

    async def lookup(
        self, question: str, *, top: int, filters: Filters | None = None
    ) -> SearchResponse:
        """The library's answer to ``question`` as data, logged nowhere (``staffroom ask``)."""
        query, _ = ask.truncate_query(intents.normalize(question), self._max_chars)
        return await self.search(query, top=top, filters=filters)

    async def preview(self, question: str, *, filters: Filters | None = None) -> Reply:
        """The reply a first question gets, judged as the bots judge it, logged nowhere."""
        query, _ = ask.truncate_query(intents.normalize(question), self._max_chars)
        loop = asyncio.get_running_loop()
        call = partial(self.turns.turn, query, None, filters=filters)
        turn = await loop.run_in_executor(self._pool, call)
        return ask.verdict_reply(turn.verdict, turn.response, None, ())

    async def ask(self, incoming: Incoming, question: str, state: UserState) -> Reply:
        """Search one turn of the conversation, log it (a gap when nothing fits), the reply.

        The conversation's context (``bot/core/followups.py``) makes "what about for 1st
        graders?" or "another one" a follow-up of the last question in the same thread or DM.
        Off-topic questions and "nothing more" are logged nowhere: they are not content gaps.
        """
        started = time.perf_counter()
        query, cut = ask.truncate_query(question, self._max_chars)
        notes = (
            (f"I read only the first {len(query):,} characters of your message.",) if cut else ()
        )
        key, now = followups.conversation_key(incoming), self.clock()
        context = followups.load_context(state.data, key, now, self._idle)
        turn = await self._turn(query, context)
        verdict = turn.verdict
        data: dict[str, Any] = followups.store_context(
            state.data, key, turn.context, now, self._idle
        )
        question_id: int | None = None
        if verdict.kind not in ("off_topic", "exhausted"):
            shown = replace(turn.response, results=verdict.shown or turn.response.results)
            entry = ask.question_entry(incoming, turn.plan.query, shown, started)
            entry = replace(entry, good_match=verdict.good_match)
            question_id = await self._db.call(self._records.log_question, entry)
            data[LAST_QUESTION] = question_id
        await self._db.call(self._records.save_state, replace(state, data=data))
        log.info(
            "turn %s (%s) q=%s: %s, %d shown",
            turn.plan.kind,
            key,
            question_id,
            verdict.kind,
            len(verdict.shown),
        )
        if verdict.is_gap:
            log.info("content gap q=%s: %r", question_id, turn.plan.query[:200])
        elif verdict.good_match and self._synthesizer is not None and question_id is not None:
            shown = replace(turn.response, results=verdict.shown)
            self._pending[question_id] = (turn.plan.query, shown)
            while len(self._pending) > PENDING_MAX:
                self._pending.popitem(last=False)
        reply = ask.verdict_reply(verdict, turn.response, question_id, notes)
        shown = replace(turn.response, results=verdict.shown or turn.response.results)
        for extra in self._extras:
            try:
                reply = await extra(incoming, shown, reply)
            except Exception:
                log.exception("an answer extra failed for question %s", question_id)
        return reply

    async def _turn(self, query: str, context: Context | None) -> TurnResult:
        if getattr(self.turns, "rewriter", None) is not None:  # an LLM may rewrite follow-ups
            return await self.turns.aturn(query, context)  # type: ignore[attr-defined]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(self.turns.turn, query, context))

    async def ground(
        self, reply: Reply, *, on_delta: Callable[[Reply], Awaitable[object]] | None = None
    ) -> Grounded | None:
        """The synthesized answer for a posted ``reply`` and its citations; None keeps the post.

        ``on_delta`` receives the reply with the partial answer while a streamed one arrives.
        """
        if self._synthesizer is None or reply.question_id is None:
            return None
        pending = self._pending.pop(reply.question_id, None)
        if pending is None:  # no good match, or already refined
            log.debug("question %s keeps its extractive answer: nothing to add", reply.question_id)
            return None
        query, response = pending

        async def streamed(text: str) -> None:
            if on_delta is not None:
                await on_delta(in_progress(reply, text))

        try:
            answer = await self._synthesizer.answer(
                query, response, on_delta=streamed if on_delta is not None else None
            )
        except Exception:
            log.exception("synthesizer failed for question %s", reply.question_id)
            return None
        if answer is None or not answer.text.strip():
            log.debug("question %s keeps its extractive answer", reply.question_id)
            return None
        log.info(
            "question %s: synthesized answer, %s tokens, %s, %.0f ms",
            reply.question_id,
            answer.usage_tokens,
            answer.model,
            answer.latency_ms,
        )
        return Grounded(with_answer(reply, answer.text, answer.citations), answer.citations)
