"""Conversations: follow-up quality, honest matches and the off-topic / gap split.

Replays examples/library/conversations.yaml over the sample library with the real bundled model
and the product pipeline, and scores the calibrated decisions of retrieval/matching.py on
queries.yaml, scope.yaml and pitches.yaml (devset answerable questions too, when present):

  * follow-up turns' nDCG@3: each turn alone (today) vs retrieval.conversation (merge, hints,
    exclusions), plus first turns, topic switches and "more" repeats;
  * queries.yaml nDCG@10 with and without grade/subject hints (must stay >= 0.93);
  * good-match precision/recall before (cosine >= 0.40) and after recalibration, the
    off-topic/gap split, the relative cut's 1/2/3-session shares, the pitch "covers this" bar;
  * medians of the added per-turn time.

    python bench/conversations.py               # table + bench/out/conversations.json
    python bench/conversations.py --calibrate   # the grids behind the constants
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import CachingEmbedder, build_index, load_devset, write_devset_library  # noqa: E402

from retrieval import hints as hints_module  # noqa: E402
from retrieval import matching  # noqa: E402
from retrieval.conversation import ConversationSearch  # noqa: E402
from retrieval.embedder import SentenceTransformerEmbedder  # noqa: E402
from retrieval.followup import Context, plan_turn  # noqa: E402
from retrieval.hints import read_hints  # noqa: E402
from retrieval.matching import MatchJudge, relative_cut  # noqa: E402
from retrieval.search import Searcher  # noqa: E402

LIBRARY = ROOT / "examples" / "library"
DEVSET = Path(os.environ.get("STAFFROOM_DEVSET", "/work/shared/bench/devset"))
OUT = ROOT / "bench" / "out"
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


def replay_baseline(searcher: Searcher, conversations: list[dict]) -> list[TurnScore]:
    """Today's behaviour: every turn searched on its own, top 3 shown when a good match."""
    out = []
    for conv in conversations:
        seen: list[str] = []
        for turn in conv["turns"]:
            if turn["kind"] == "pitch":
                continue
            response = searcher.search(turn["say"], k=3)
            ranked = [r.session.session_id for r in response.results]
            relevant = set(turn.get("sessions") or ())
            if turn.get("exclude_shown"):
                relevant -= set(seen)
            shown = ranked if response.good_match else []
            repeats = len(set(shown) & set(seen)) if turn.get("exclude_shown") else 0
            out.append(
                TurnScore(
                    conv["id"],
                    turn["kind"],
                    bool(turn.get("during_pitch")),
                    ndcg(ranked, relevant, 3),
                    repeats,
                    len(set(shown) & relevant),
                    not response.good_match,
                    "",
                    len(shown),
                )
            )
            seen += [s for s in shown if s not in seen]
    return out


def replay_method(convo: ConversationSearch, conversations: list[dict]) -> list[TurnScore]:
    """retrieval.conversation: plan (merge, hints, exclusions), search, verdict."""
    out = []
    for conv in conversations:
        context: Context | None = None
        seen: list[str] = []
        for turn in conv["turns"]:
            if turn["kind"] == "pitch":
                continue  # a pitch step is not a search; the question context survives it
            result = convo.turn(turn["say"], context)
            ranked = [r.session.session_id for r in result.response.results]
            relevant = set(turn.get("sessions") or ())
            if turn.get("exclude_shown"):
                relevant -= set(seen)
            shown = list(result.shown_ids)
            repeats = len(set(ranked) & set(seen)) if turn.get("exclude_shown") else 0
            out.append(
                TurnScore(
                    conv["id"],
                    turn["kind"],
                    bool(turn.get("during_pitch")),
                    ndcg(ranked, relevant, 3),
                    repeats,
                    len(set(shown) & relevant),
                    result.verdict.kind != "answer",
                    result.verdict.kind,
                    len(shown),
                )
            )
            seen += [s for s in shown if s not in seen]
            context = result.context
    return out


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


# --- main -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="print the calibration grids")
    parser.add_argument("--no-devset", action="store_true", help="skip the devset recall check")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (0: no timing)")
    args = parser.parse_args(argv)

    embedder = CachingEmbedder(SentenceTransformerEmbedder())
    conversations = load("conversations.yaml")
    report: dict[str, Any] = {
        "constants": {
            "RELATIVE_CUT": matching.RELATIVE_CUT,
            "BAR_BASE": matching.BAR_BASE,
            "BAR_GENERIC": matching.BAR_GENERIC,
            "OFF_TOPIC_BLOCK": matching.OFF_TOPIC_BLOCK,
            "COVER_BAR": matching.COVER_BAR,
            "GRADE_BOOST": hints_module.GRADE_BOOST,
            "SUBJECT_BOOST": hints_module.SUBJECT_BOOST,
        }
    }
    with tempfile.TemporaryDirectory(prefix="staffroom-convo-") as tmp:
        work = Path(tmp)
        build_index(LIBRARY, work / "index", embedder)
        embedder.save()
        searcher = Searcher(work / "index", embedder)
        judge = MatchJudge(embedder, calibrated=True)
        convo = ConversationSearch(searcher, judge)

        baseline = summarize_turns(replay_baseline(searcher, conversations))
        method_scores = replay_method(convo, conversations)
        method = summarize_turns(method_scores)
        report["conversations"] = {
            "n": len(conversations),
            "no_context": baseline,
            "method": method,
            "turns": [dataclasses.asdict(s) for s in method_scores],
        }
        queries = load("queries.yaml")
        report["queries_ndcg@10"] = {
            "plain": queries_ndcg10(searcher, queries, with_hints=False),
            "with_hints": queries_ndcg10(searcher, queries, with_hints=True),
        }
        items = labelled_questions(conversations)
        report["good_match"] = good_match_table(searcher, judge, items)
        report["pitch"] = pitch_bar(searcher, judge)
        if args.rounds:
            report["timings_ms"] = timings(work / "index", embedder.inner, args.rounds)
        if args.calibrate:
            report["calibration"] = calibrate(searcher, judge, conversations, items)
        if not args.no_devset:
            report["devset"] = devset_recall(
                embedder, lambda s: MatchJudge(embedder, calibrated=True), work
            )
        embedder.save()

    print_report(report)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "conversations.json").write_text(
        json.dumps(report, indent=1, default=str), encoding="utf-8"
    )
    return 0


def print_report(report: dict[str, Any]) -> None:
    c = report["conversations"]
    base, method = c["no_context"], c["method"]
    print(f"{c['n']} conversations")
    print(f"{'turns':<28} {'n':>3} {'no context':>11} {'method':>8}")
    for key in ("first_turns", "follow_ups", "refine", "pronoun", "more", "switch", "during_pitch"):
        print(
            f"{key:<28} {method[key]['n']:>3} {base[key]['ndcg@3']:>11.3f} {method[key]['ndcg@3']:>8.3f}"
        )
    for name, m in (("no context", base["more"]), ("method", method["more"])):
        print(
            f"'more' turns, {name}: repeats {m['repeats']}, shown {m['shown']} "
            f"({m['shown_relevant']} relevant), nothing shown {m['nothing_left']}"
        )
    print(
        f"no-answer turns refused: no context {base['no_answer_turns']['refused']}/"
        f"{base['no_answer_turns']['n']}, method {method['no_answer_turns']['refused']}/"
        f"{method['no_answer_turns']['n']}"
    )
    q = report["queries_ndcg@10"]
    print(f"queries.yaml nDCG@10: plain {q['plain']:.3f}, with hints {q['with_hints']:.3f}")
    for name in ("queries.yaml", "all labelled"):
        row = report["good_match"][name]
        for when in ("before", "after"):
            r = row[when]
            print(
                f"good match {name:<13} {when:<6} P={r['precision']:.3f} R={r['recall']:.3f} "
                f"gaps accepted {r['accepted_gap']} off-topic accepted {r['accepted_off_topic']} (n={r['n']})"
            )
    print("misses:", report["good_match"]["miss_kind"])
    print("verdicts by label:", report["good_match"]["verdicts"])
    print("shown:", json.dumps(report["good_match"]["shown"]))
    print("issue examples:", json.dumps(report["good_match"]["issue_examples"]))
    print("pitch bar:", json.dumps({k: report["pitch"][k] for k in ("before", "after")}))
    if report.get("timings_ms"):
        print("timings ms (median):", report["timings_ms"])
    if report.get("devset"):
        print("devset:", report["devset"])
    if report.get("calibration"):
        print(json.dumps(report["calibration"], indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
