"""Quality floor on the sample library's graded questions, with the real model and pipeline."""

from __future__ import annotations

import yaml

from retrieval.search import Searcher
from tests.fixtures_retrieval import SAMPLE_LIBRARY


def _queries():
    return yaml.safe_load((SAMPLE_LIBRARY / "queries.yaml").read_text(encoding="utf-8"))


def test_hybrid_recall_at_5_on_sample_questions(sample_data_dir, real_embedder):
    searcher = Searcher(sample_data_dir / "index", real_embedder)
    answerable = [q for q in _queries() if q["sessions"]]
    assert len(answerable) >= 40
    recalls = []
    for q in answerable:
        top5 = [r.session.session_id for r in searcher.search(q["q"], k=5).results]
        relevant = set(q["sessions"])
        recalls.append(len(relevant & set(top5)) / len(relevant))
    recall = sum(recalls) / len(recalls)
    assert recall >= 0.8, f"hybrid Recall@5 {recall:.3f} is under the 0.8 floor"


def test_hybrid_beats_each_single_method_on_sample_questions(sample_data_dir, real_embedder):
    searcher = Searcher(sample_data_dir / "index", real_embedder)
    answerable = [q for q in _queries() if q["sessions"]]

    def mrr(mode: str) -> float:
        total = 0.0
        for q in answerable:
            ranked = [
                r.session.session_id for r in searcher.search(q["q"], k=10, mode=mode).results
            ]
            hit = next((i for i, s in enumerate(ranked, 1) if s in q["sessions"]), None)
            total += 1 / hit if hit else 0.0
        return total / len(answerable)

    hybrid, dense, lexical = mrr("hybrid"), mrr("dense"), mrr("lexical")
    assert hybrid >= dense and hybrid >= lexical, (hybrid, dense, lexical)


def test_most_answerable_questions_clear_the_match_threshold(sample_data_dir, real_embedder):
    searcher = Searcher(sample_data_dir / "index", real_embedder)
    queries = _queries()
    answerable = [q["q"] for q in queries if q["sessions"]]
    kept = sum(searcher.search(q, k=3).good_match for q in answerable) / len(answerable)
    assert kept >= 0.85, f"only {kept:.0%} of answerable questions count as a good match"
    assert searcher.search("how do I run exit tickets with 32 kids?", k=3).good_match
    off_topic = [q["q"] for q in queries if not q["sessions"]]
    refused = sum(not searcher.search(q, k=3).good_match for q in off_topic)
    assert refused >= len(off_topic) // 2, f"only {refused}/{len(off_topic)} off-topic refused"
