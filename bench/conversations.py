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
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from conversations_match import (  # noqa: E402
    calibrate,
    devset_recall,
    good_match_table,
    labelled_questions,
    pitch_bar,
    timings,
)
from conversations_replay import (  # noqa: E402
    load,
    queries_ndcg10,
    replay_baseline,
    replay_method,
    summarize_turns,
)
from quality import CachingEmbedder, build_index  # noqa: E402

from retrieval import hints as hints_module  # noqa: E402
from retrieval import matching  # noqa: E402
from retrieval.conversation import ConversationSearch  # noqa: E402
from retrieval.embedder import SentenceTransformerEmbedder  # noqa: E402
from retrieval.matching import MatchJudge  # noqa: E402
from retrieval.search import Searcher  # noqa: E402

LIBRARY = ROOT / "examples" / "library"
OUT = ROOT / "bench" / "out"


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
