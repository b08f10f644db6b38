"""One turn of a conversation, below the bot: plan → search → verdict → the context to keep.

    convo = ConversationSearch(searcher)                 # once, at start-up
    turn = convo.turn("how do I run exit tickets with 32 kids?", None)
    turn.verdict.kind, turn.verdict.shown                # what to post
    later = convo.turn("what about for 1st graders?", turn.context)

The bot keeps ``turn.context`` per thread / DM / Teams chat and drops it when the conversation
has been idle for its expiry time; nothing here stores anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from retrieval.embedder import Embedder
from retrieval.followup import (
    Context,
    QueryRewriter,
    TurnPlan,
    plan_turn,
    plan_turn_llm,
    topic_words,
)
from retrieval.hints import Hints
from retrieval.matching import MatchJudge, Verdict
from retrieval.types import Filters, SearchResponse

# A follow-up that, on its own, is this clearly off-topic ("thanks! is it supposed to snow
# tomorrow?", "weather tomorrow?") is not merged with the last question: it starts fresh.
# Short real follow-ups score up to ~0.15 on their own ("how long does it take?"), so the bar
# sits well above. Follow-ups of one topic word ("online?", "shorter?") are not checked: alone
# they read as neither ("parking?" 0.16, "online?" 0.00).
FOLLOW_UP_OFF_TOPIC = 0.20
GUARD_WORDS = 2


class PreferringRetriever(Protocol):
    """What a turn needs from the Searcher."""

    embedder: Embedder

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: Filters | None = None,
        prefer: Hints | None = None,
        exclude: Iterable[str] = (),
    ) -> SearchResponse: ...


@dataclass(frozen=True)
class TurnResult:
    """A searched turn: how it was read, what was found, what to show, what to remember."""

    plan: TurnPlan
    response: SearchResponse
    verdict: Verdict
    context: Context  # keep this for the conversation's next turn

    @property
    def shown_ids(self) -> tuple[str, ...]:
        return tuple(r.session.session_id for r in self.verdict.shown)


class ConversationSearch:
    """Plans, searches and judges turns; optionally lets an LLM rewrite follow-ups."""

    def __init__(
        self,
        searcher: PreferringRetriever,
        judge: MatchJudge | None = None,
        *,
        top: int = 3,
        rewriter: QueryRewriter | None = None,
        rewrite_timeout: float = 3.0,
    ) -> None:
        self.searcher = searcher
        self.judge = judge or MatchJudge(searcher.embedder)
        self.top = top
        self.rewriter = rewriter
        self.rewrite_timeout = rewrite_timeout

    def turn(
        self, text: str, context: Context | None, *, filters: Filters | None = None
    ) -> TurnResult:
        """Search one turn without an LLM."""
        return self._finish(self._guard(text, plan_turn(text, context)), context, filters)

    async def aturn(
        self, text: str, context: Context | None, *, filters: Filters | None = None
    ) -> TurnResult:
        """Search one turn, letting the rewriter (if any) write follow-up queries first."""
        plan = await plan_turn_llm(text, context, self.rewriter, timeout=self.rewrite_timeout)
        plan = self._guard(text, plan)
        return await asyncio.to_thread(self._finish, plan, context, filters)

    def _guard(self, text: str, plan: TurnPlan) -> TurnPlan:
        # Only a follow-up with a few words of its own can be a question about something else;
        # "does that work online?" is not embedded twice.
        if plan.kind == "new" or len(topic_words(text)) < GUARD_WORDS:
            return plan
        if float(self.judge.scope.scores([text])[0]) > FOLLOW_UP_OFF_TOPIC:
            return plan_turn(text, None)
        return plan

    def _finish(
        self, plan: TurnPlan, previous: Context | None, filters: Filters | None
    ) -> TurnResult:
        response = self.searcher.search(
            plan.query, k=self.top, filters=filters, prefer=plan.prefer, exclude=plan.exclude
        )
        more = plan.kind == "more" and plan.context.answered
        verdict = self.judge.assess(
            response, hints=plan.prefer, topic_best=plan.context.best if more else None
        )
        context = remember(plan, verdict)
        if verdict.kind == "off_topic" and plan.kind == "new" and previous is not None:
            context = previous  # small talk in a thread does not end its topic
        return TurnResult(plan, response, verdict, context)


def remember(plan: TurnPlan, verdict: Verdict) -> Context:
    """What the conversation keeps after a turn: the sessions shown (weak answers count as
    shown) and, unless it was "another one" on an answered topic, whether and how well it was
    answered."""
    shown = [r.session.session_id for r in verdict.shown]
    if plan.kind == "more" and plan.context.answered:
        return plan.remember(shown)
    answered = verdict.kind == "answer"
    return plan.remember(shown, answered=answered, best=verdict.shown[0].score if answered else 0.0)
