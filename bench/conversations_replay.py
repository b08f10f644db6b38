"""Conversation replay for bench/conversations.py: today's turn-alone search vs the context.

Scores each turn of examples/library/conversations.yaml by nDCG@3 of its top three sessions
(on "another one" turns, against the topic's sessions not shown yet).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from retrieval.conversation import ConversationSearch
from retrieval.followup import Context
from retrieval.hints import read_hints
from retrieval.search import Searcher

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "examples" / "library"
FOLLOW_UPS = ("refine", "pronoun", "more")


def ndcg(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    if not relevant:
        return float("nan")
    dcg = sum(1 / math.log2(i + 2) for i, sid in enumerate(ranked[:k]) if sid in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def _mean(values: Sequence[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def load(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((LIBRARY / name).read_text(encoding="utf-8")) or []


# --- conversations --------------------------------------------------------------------------


@dataclasses.dataclass
class TurnScore:
    conversation: str
    kind: str
    during_pitch: bool
    ndcg3: float
    repeats: int
    shown_relevant: int  # shown sessions in the turn's relevance set
    refused: bool  # no good match shown
    verdict: str  # answer / gap / off_topic ("" for the baseline)
    shown: int


# One turn searched: (ranked ids, shown ids, verdict kind or "", context for the next turn).
Searched = tuple[list[str], list[str], str, Any]


def replay(conversations: list[dict], search: Callable[[str, Any], Searched]) -> list[TurnScore]:
    """Every non-pitch turn through ``search(text, context)``, scored against the judgments."""
    out = []
    for conv in conversations:
        context: Any = None
        seen: list[str] = []
        for turn in conv["turns"]:
            if turn["kind"] == "pitch":
                continue  # a pitch step is not a search; the question context survives it
            ranked, shown, verdict, context = search(turn["say"], context)
            relevant = set(turn.get("sessions") or ())
            if turn.get("exclude_shown"):
                relevant -= set(seen)
            repeats = len(set(shown) & set(seen)) if turn.get("exclude_shown") else 0
            out.append(
                TurnScore(
                    conv["id"],
                    turn["kind"],
                    bool(turn.get("during_pitch")),
                    ndcg(ranked, relevant, 3),
                    repeats,
                    len(set(shown) & relevant),
                    not shown or (verdict not in ("", "answer")),
                    verdict,
                    len(shown),
                )
            )
            seen += [s for s in shown if s not in seen]
    return out


def replay_baseline(searcher: Searcher, conversations: list[dict]) -> list[TurnScore]:
    """Today's behaviour: every turn searched on its own, top 3 shown when a good match."""

    def search(text: str, context: Any) -> Searched:
        response = searcher.search(text, k=3)
        ranked = [r.session.session_id for r in response.results]
        return ranked, ranked if response.good_match else [], "", None

    return replay(conversations, search)


def replay_method(convo: ConversationSearch, conversations: list[dict]) -> list[TurnScore]:
    """retrieval.conversation: plan (merge, hints, exclusions), search, verdict."""

    def search(text: str, context: Context | None) -> Searched:
        result = convo.turn(text, context)
        ranked = [r.session.session_id for r in result.response.results]
        return ranked, list(result.shown_ids), result.verdict.kind, result.context

    return replay(conversations, search)


def summarize_turns(scores: list[TurnScore]) -> dict[str, Any]:
    def pick(pred: Callable[[TurnScore], bool]) -> list[TurnScore]:
        return [s for s in scores if pred(s)]

    first = pick(lambda s: s.kind == "new")
    follow = pick(lambda s: s.kind in FOLLOW_UPS)
    out: dict[str, Any] = {
        "first_turns": {"n": len(first), "ndcg@3": _mean([s.ndcg3 for s in first])},
        "follow_ups": {"n": len(follow), "ndcg@3": _mean([s.ndcg3 for s in follow])},
    }
    for kind in (*FOLLOW_UPS, "switch"):
        rows = pick(lambda s, kind=kind: s.kind == kind)
        out[kind] = {"n": len(rows), "ndcg@3": _mean([s.ndcg3 for s in rows])}
    more = pick(lambda s: s.kind == "more")
    out["more"]["repeats"] = sum(s.repeats for s in more)
    out["more"]["shown"] = sum(s.shown for s in more)
    out["more"]["shown_relevant"] = sum(s.shown_relevant for s in more)
    out["more"]["nothing_left"] = sum(s.shown == 0 for s in more)
    empty = pick(
        lambda s: s.kind in ("off_topic", "gap") or (math.isnan(s.ndcg3) and s.kind != "more")
    )
    out["no_answer_turns"] = {"n": len(empty), "refused": sum(s.refused for s in empty)}
    pitch = pick(lambda s: s.during_pitch)
    out["during_pitch"] = {"n": len(pitch), "ndcg@3": _mean([s.ndcg3 for s in pitch])}
    return out


# --- single questions -----------------------------------------------------------------------


def queries_ndcg10(searcher: Searcher, queries: list[dict], *, with_hints: bool) -> float:
    scores = []
    for q in queries:
        if not q["sessions"]:
            continue
        prefer = read_hints(q["q"]) if with_hints else None
        response = searcher.search(q["q"], k=10, prefer=prefer)
        ranked = [r.session.session_id for r in response.results]
        scores.append(ndcg(ranked, set(q["sessions"]), 10))
    return _mean(scores)
