"""Honest-match checks for bench/conversations.py: good match, off-topic/gap, relative cut,
pitch bar, devset recall, per-turn time and the calibration grids behind retrieval.matching."""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from conversations_replay import (
    load,
    queries_ndcg10,
    replay_method,
    summarize_turns,
)
from quality import build_index, load_devset, write_devset_library

from retrieval import hints as hints_module
from retrieval import matching
from retrieval.conversation import ConversationSearch
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.followup import plan_turn
from retrieval.hints import read_hints
from retrieval.matching import MatchJudge, relative_cut
from retrieval.search import Searcher

DEVSET = Path(os.environ.get("STAFFROOM_DEVSET", "/work/shared/bench/devset"))


@dataclasses.dataclass
class Labelled:
    text: str
    relevant: frozenset[str]
    label: str  # answerable / gap / off_topic
    source: str


def labelled_questions(conversations: list[dict]) -> list[Labelled]:
    out = [
        Labelled(
            q["q"],
            frozenset(q["sessions"]),
            "answerable" if q["sessions"] else q.get("scope", "off_topic"),
            "queries",
        )
        for q in load("queries.yaml")
    ]
    out += [Labelled(q["q"], frozenset(), q["scope"], "scope") for q in load("scope.yaml")]
    for conv in conversations:
        turn = conv["turns"][0]
        if turn["kind"] in ("new", "gap", "off_topic"):
            label = "answerable" if turn.get("sessions") else turn["kind"]
            out.append(
                Labelled(turn["say"], frozenset(turn.get("sessions") or ()), label, "conversations")
            )
    return out


def good_match_table(
    searcher: Searcher, judge: MatchJudge, items: list[Labelled]
) -> dict[str, Any]:
    """Precision/recall of "good match" (answerable vs not), before and after, per source."""
    rows = []
    for item in items:
        response = searcher.search(item.text, k=3, prefer=read_hints(item.text))
        verdict = judge.assess(response, hints=read_hints(item.text))
        plain = searcher.search(item.text, k=3)
        before_shown = [r.session.session_id for r in plain.results] if plain.good_match else []
        # shares are of good answers; a weak answer's "closest" sessions are counted apart
        after_shown = [r.session.session_id for r in verdict.shown] if verdict.good_match else []
        rows.append(
            {
                "q": item.text,
                "source": item.source,
                "label": item.label,
                "before": plain.good_match,
                "after": verdict.kind == "answer",
                "kind": verdict.kind,
                "weak": verdict.kind == "weak",
                "before_shown": before_shown,
                "after_shown": after_shown,
                "relevant": sorted(item.relevant),
            }
        )

    def pr(sub: list[dict], key: str) -> dict[str, float]:
        y = np.array([r["label"] == "answerable" for r in sub])
        g = np.array([r[key] for r in sub])
        return {
            "recall": float(g[y].mean()) if y.any() else float("nan"),
            "precision": float(y[g].mean()) if g.any() else float("nan"),
            "accepted_gap": int(sum(g[i] for i, r in enumerate(sub) if r["label"] == "gap")),
            "accepted_off_topic": int(
                sum(g[i] for i, r in enumerate(sub) if r["label"] == "off_topic")
            ),
            "n": len(sub),
        }

    out: dict[str, Any] = {}
    for name, sub in (
        ("queries.yaml", [r for r in rows if r["source"] == "queries"]),
        ("all labelled", rows),
    ):
        out[name] = {"before": pr(sub, "before"), "after": pr(sub, "after")}
    misses = [r for r in rows if r["label"] != "answerable"]
    out["verdicts"] = {
        label: dict(Counter(r["kind"] for r in rows if r["label"] == label))
        for label in ("answerable", "gap", "off_topic")
    }
    out["miss_kind"] = {
        "off_topic_called_off_topic": sum(
            r["kind"] == "off_topic" for r in misses if r["label"] == "off_topic"
        ),
        "off_topic": sum(r["label"] == "off_topic" for r in misses),
        "gap_logged_as_gap": sum(
            r["kind"] in ("weak", "gap") for r in misses if r["label"] == "gap"
        ),
        "gap": sum(r["label"] == "gap" for r in misses),
    }
    answered = [r for r in rows if r["label"] == "answerable"]
    out["shown"] = shown_shares(answered)
    out["issue_examples"] = {
        r["q"]: {"before": r["before"], "after": r["after"], "kind": r["kind"]}
        for r in rows
        if r["q"]
        in (
            "my 9th graders keep pulling out their phones",
            "how do i set up rubrics in google classroom",
        )
    }
    out["rows"] = rows
    return out


def shown_shares(rows: list[dict]) -> dict[str, Any]:
    """How many sessions good answers show, and how many of them are relevant."""
    out = {}
    for key in ("before_shown", "after_shown"):
        shown = [r[key] for r in rows if r[key]]
        counts = Counter(len(s) for s in shown)
        total = sum(len(s) for s in shown)
        hits = sum(
            len(set(s) & set(r["relevant"]))
            for r, s in zip([r for r in rows if r[key]], shown, strict=True)
        )
        reach = [len(set(r[key]) & set(r["relevant"])) / len(r["relevant"]) for r in rows if r[key]]
        out[key.split("_")[0]] = {
            "answers": len(shown),
            "share_1_2_3": [round(counts[n] / len(shown), 3) if shown else 0.0 for n in (1, 2, 3)],
            "shown_precision": round(hits / total, 3) if total else float("nan"),
            "relevant_recall": round(float(np.mean(reach)), 3) if reach else float("nan"),
        }
    return out


def devset_recall(
    embedder, judge_for: Callable[[Searcher], MatchJudge], work: Path
) -> dict[str, Any]:
    """Share of devset questions (all answerable) still called a good match, before/after."""
    if not DEVSET.exists():
        return {}
    docs, queries = load_devset(DEVSET)
    write_devset_library(docs, work / "devset-lib")
    build_index(work / "devset-lib", work / "devset-index", embedder)
    embedder.save()
    searcher = Searcher(work / "devset-index", embedder)
    judge = judge_for(searcher)
    before = after = 0
    kept_relevant = []
    for q in queries:
        response = searcher.search(q.text, k=3)
        before += response.good_match
        verdict = judge.assess(response)
        after += verdict.kind == "answer"
        if verdict.shown:
            ids = [r.session.session_id for r in verdict.shown]
            top3 = [r.session.session_id for r in response.results]
            rel_top3 = set(top3) & q.relevant
            kept_relevant.append(len(set(ids) & rel_top3) / len(rel_top3) if rel_top3 else 1.0)
    return {
        "queries": len(queries),
        "good_match_before": round(before / len(queries), 3),
        "good_match_after": round(after / len(queries), 3),
        "relative_cut_keeps_relevant_top3": round(float(np.mean(kept_relevant)), 3),
    }


def pitch_bar(searcher: Searcher, judge: MatchJudge) -> dict[str, Any]:
    """ "Sessions that already cover this": today's good-match rule vs the calibrated bar."""
    rows = []
    for pitch in load("pitches.yaml"):
        response = searcher.search(f"{pitch['title']}. {pitch['practice']}", k=2)
        before = [r.session.session_id for r in response.results[:2]] if response.good_match else []
        after = [r.session.session_id for r in judge.covering(response)]
        rows.append(
            {
                "title": pitch["title"],
                "covered_by": pitch["covered_by"],
                "before": before,
                "after": after,
                "score": response.results[0].score,
            }
        )

    def rate(key: str) -> dict[str, int]:
        covered = [r for r in rows if r["covered_by"]]
        other = [r for r in rows if not r["covered_by"]]
        return {
            "covered_found": sum(bool(set(r[key]) & set(r["covered_by"])) for r in covered),
            "covered": len(covered),
            "unrelated_shown": sum(bool(r[key]) for r in other),
            "unrelated": len(other),
        }

    return {"before": rate("before"), "after": rate("after"), "rows": rows}


def timings(
    index: Path, embedder: SentenceTransformerEmbedder, rounds: int = 5
) -> dict[str, float]:
    """Median per-call milliseconds of each step, uncached model (machine is shared: medians)."""
    searcher = Searcher(index, embedder)
    judge = MatchJudge(embedder, calibrated=True)
    convo = ConversationSearch(searcher, judge)
    texts = [
        t["say"] for c in load("conversations.yaml") for t in c["turns"] if t["kind"] != "pitch"
    ]
    context = plan_turn("how do I run exit tickets with 32 kids?").remember(["exit-tickets"])
    samples: dict[str, list[float]] = {
        "plan_turn": [],
        "search": [],
        "search_prefer": [],
        "assess": [],
        "turn": [],
    }
    prefer = read_hints("for my 1st graders in math")
    for _ in range(rounds):
        for text in texts:
            clock = time.perf_counter()
            plan_turn(text, context)
            samples["plan_turn"].append((time.perf_counter() - clock) * 1000)
            clock = time.perf_counter()
            response = searcher.search(text, k=3)
            samples["search"].append((time.perf_counter() - clock) * 1000)
            clock = time.perf_counter()
            searcher.search(text, k=3, prefer=prefer, exclude=("exit-tickets",))
            samples["search_prefer"].append((time.perf_counter() - clock) * 1000)
            clock = time.perf_counter()
            judge.assess(response)
            samples["assess"].append((time.perf_counter() - clock) * 1000)
            clock = time.perf_counter()
            convo.turn(text, context)
            samples["turn"].append((time.perf_counter() - clock) * 1000)
    return {k: round(statistics.median(v), 3) for k, v in samples.items()}


# --- calibration grids ----------------------------------------------------------------------


def calibrate(
    searcher: Searcher, judge: MatchJudge, conversations: list[dict], items: list[Labelled]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # grade/subject boost: follow-up and first-turn nDCG@3 and queries.yaml nDCG@10
    queries = load("queries.yaml")
    grid = {}
    saved = (hints_module.GRADE_BOOST, hints_module.SUBJECT_BOOST)
    try:
        for boost in (0.0, 0.015, 0.03, 0.05, 0.08):
            hints_module.GRADE_BOOST = hints_module.SUBJECT_BOOST = boost
            summary = summarize_turns(
                replay_method(ConversationSearch(searcher, judge), conversations)
            )
            grid[f"{boost:.3f}"] = {
                "follow_ups": round(summary["follow_ups"]["ndcg@3"], 3),
                "first_turns": round(summary["first_turns"]["ndcg@3"], 3),
                "queries_ndcg@10": round(queries_ndcg10(searcher, queries, with_hints=True), 3),
            }
    finally:
        hints_module.GRADE_BOOST, hints_module.SUBJECT_BOOST = saved
    out["boost"] = grid
    # relative cut
    answerable = [i for i in items if i.label == "answerable"]
    cut = {}
    for ratio in (0.0, 0.75, 0.8, 0.85, 0.9):
        rows = []
        for item in answerable:
            response = searcher.search(item.text, k=3)
            if not response.good_match:
                continue
            shown = [r.session.session_id for r in relative_cut(response.results, 3, ratio)]
            rows.append(
                {"before_shown": [], "after_shown": shown, "relevant": sorted(item.relevant)}
            )
        cut[f"{ratio:.2f}"] = shown_shares(rows)["after"]
    out["relative_cut"] = cut
    # the generic-question bar: grid over base and slope
    feats = []
    for item in items:
        response = searcher.search(item.text, k=3)
        teach, _ = judge.scope.similarities([item.text])
        off = float(judge.scope.scores([item.text])[0])
        feats.append((item, response, float(teach[0]), off))
    bars = {}
    for base, slope in (
        (0.40, 0.0),
        (0.44, 0.0),
        (0.46, 0.0),
        (0.15, 0.65),
        (0.19, 0.59),
        (0.22, 0.5),
        (0.25, 0.45),
    ):
        accepted = []
        for item, response, teach, off in feats:
            good = (
                bool(response.results)
                and response.good_match
                and response.results[0].match >= base + slope * teach
                and off <= matching.OFF_TOPIC_BLOCK
            )
            accepted.append((item, good))
        q = [(i, g) for i, g in accepted if i.source == "queries"]
        bars[f"{base:.2f}+{slope:.2f}*teach"] = {
            "queries_recall": round(np.mean([g for i, g in q if i.label == "answerable"]), 3),
            "queries_precision": round(np.mean([i.label == "answerable" for i, g in q if g]), 3),
            "all_recall": round(np.mean([g for i, g in accepted if i.label == "answerable"]), 3),
            "gaps_accepted": sum(g for i, g in accepted if i.label == "gap"),
            "off_topic_accepted": sum(g for i, g in accepted if i.label == "off_topic"),
        }
    out["bar"] = bars
    scope_grid = {}
    for margin in (-0.06, -0.04, -0.02, 0.0, 0.02):
        off = [o for i, _, _, o in feats if i.label == "off_topic"]
        gap = [o for i, _, _, o in feats if i.label == "gap"]
        scope_grid[f"{margin:+.2f}"] = {
            "off_topic_caught": f"{sum(o > margin for o in off)}/{len(off)}",
            "gaps_called_off_topic": f"{sum(o > margin for o in gap)}/{len(gap)}",
        }
    out["off_topic_margin"] = scope_grid
    return out
