"""Follow-ups in the bot: the context each conversation keeps between turns, and the turn search.

A conversation is one Slack thread or DM, one Teams chat or channel thread, or the terminal
chat (``conversation_key``). Its ``retrieval.followup.Context`` (the topic's question, the
follow-up words merged into it, the grades/subjects in force, the sessions already shown) is
kept in the user's conversation state in the database, so every replica reads the same one,
and is dropped once the conversation has been idle longer than ``STAFFROOM_CONTEXT_IDLE``.

``ConversationSearch`` (retrieval) plans, searches and judges a turn with the real Searcher.
``RuleTurns`` gives a plain retriever (tests' fakes, a searcher without an embedder) the same
turn plan with the Searcher's own good-match verdict, so follow-ups never depend on the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from retrieval.followup import Context, plan_turn
from retrieval.hints import grade_note
from retrieval.matching import Verdict, relative_cut
from retrieval.types import SearchResponse

if TYPE_CHECKING:
    from bot.messages import Incoming
    from retrieval.conversation import TurnResult
    from retrieval.types import Filters

CONTEXTS = "contexts"  # the key of the per-conversation contexts in the user's state data
MAX_CONTEXTS = 8  # contexts one user keeps (the most recently used); older ones are dropped
CONTEXT_IDLE = 30 * 60.0  # seconds: the default of STAFFROOM_CONTEXT_IDLE

Search = Callable[..., SearchResponse]


class TurnSearch(Protocol):
    """What the core needs to answer one turn (``retrieval.conversation.ConversationSearch``)."""

    def turn(
        self, text: str, context: Context | None, *, filters: Filters | None = None
    ) -> TurnResult: ...


def conversation_key(incoming: Incoming) -> str:
    """The conversation a message belongs to: its channel or chat, and its thread if any."""
    return f"{incoming.platform}:{incoming.conversation_id}/{incoming.thread_id}"


def load_context(
    data: Mapping[str, Any], key: str, now: float, idle: float = CONTEXT_IDLE
) -> Context | None:
    """The context ``key`` kept, unless it has been idle longer than ``idle`` seconds."""
    kept = data.get(CONTEXTS)
    entry = kept.get(key) if isinstance(kept, Mapping) else None
    if not isinstance(entry, Mapping):
        return None
    at = entry.get("at")
    if not isinstance(at, int | float) or now - float(at) > idle:
        return None
    try:
        return Context.from_json(entry["context"])
    except (KeyError, TypeError, ValueError):
        return None  # written by another version: start fresh rather than fail the answer


def store_context(
    data: Mapping[str, Any],
    key: str,
    context: Context,
    now: float,
    idle: float = CONTEXT_IDLE,
) -> dict[str, Any]:
    """``data`` with ``context`` kept for ``key``; expired and surplus contexts are dropped."""
    kept = data.get(CONTEXTS)
    entries = {
        k: v
        for k, v in (kept.items() if isinstance(kept, Mapping) else ())
        if k != key and isinstance(v, Mapping) and now - _at(v) <= idle
    }
    newest = sorted(entries.items(), key=lambda kv: _at(kv[1]), reverse=True)
    entries = dict(newest[: MAX_CONTEXTS - 1])
    entries[key] = {"context": context.to_json(), "at": now}
    return {**data, CONTEXTS: entries}


def _at(entry: Mapping[str, Any]) -> float:
    """When a kept context was last used (0: unreadable, so it counts as expired)."""
    at = entry.get("at")
    return float(at) if isinstance(at, int | float) else 0.0


class RuleTurns:
    """Follow-ups over a plain retriever: the rule-based plan, shown sessions left out,
    the Searcher's own good-match flag, the relative cut and grade notes as the verdict."""

    def __init__(self, search: Search, *, top: int = 3) -> None:
        self._search, self.top = search, top

    def turn(
        self, text: str, context: Context | None, *, filters: Filters | None = None
    ) -> TurnResult:
        from retrieval.conversation import TurnResult, remember

        plan = plan_turn(text, context)
        response = self._search(plan.query, k=self.top + len(plan.exclude), filters=filters)
        results = tuple(r for r in response.results if r.session.session_id not in plan.exclude)
        response = replace(response, results=results[: self.top])
        more = plan.kind == "more" and plan.context.answered
        if response.good_match and response.results:
            shown = relative_cut(response.results, self.top)
            notes = tuple(grade_note(r.session, plan.prefer) for r in shown)
            verdict = Verdict("answer", shown, notes, 0.0, 0.0)
        else:
            verdict = Verdict("exhausted" if more else "gap", (), (), 0.0, 0.0)
        return TurnResult(plan, response, verdict, remember(plan, verdict))
