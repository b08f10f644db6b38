"""Searcher with the fake embedder: ranking, filters, moments, hot swap, limits, threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.embedder import FakeEmbedder
from retrieval.search import MAX_QUERY_CHARS, Searcher, normalise_query
from retrieval.types import Chunk, Filters, SessionMeta
from staffroom_errors import IndexError_, InputError
from tests.fixtures_retrieval import TINY_CHUNKS, TINY_SESSIONS, IndexBuilder


class _Clock:
    """A hand-driven monotonic clock, so the refresh throttle is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _searcher(root: Path, **kwargs) -> Searcher:
    return Searcher(root, FakeEmbedder(), **kwargs)


def test_obviously_relevant_session_ranks_first(build_index: IndexBuilder) -> None:
    root, version = build_index()
    response = _searcher(root.path).search("how do I sort exit tickets into piles?", k=3)
    assert response.results[0].session.session_id == "exit-tickets"
    assert response.index_version == version
    assert len({r.session.session_id for r in response.results}) == len(response.results)
    scores = [r.score for r in response.results]
    assert scores == sorted(scores, reverse=True)
    assert {"embed", "dense", "lexical", "fuse", "total"} <= set(response.timings_ms)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_ranks_sessions(build_index: IndexBuilder, mode) -> None:
    root, _ = build_index()
    response = _searcher(root.path).search("talking piece circle after a conflict", mode=mode)
    assert response.results[0].session.session_id == "restorative-circles"


def test_unknown_mode_is_refused(build_index: IndexBuilder) -> None:
    root, _ = build_index()
    with pytest.raises(ValueError):
        _searcher(root.path).search("exit tickets", mode="magic")  # type: ignore[arg-type]


def test_moments_keep_timestamps_headings_and_a_snippet(build_index: IndexBuilder) -> None:
    root, _ = build_index()
    result = _searcher(root.path).search("sort the exit tickets into three piles").results[0]
    assert 1 <= len(result.moments) <= 3
    best = result.best
    assert best.chunk_id == "exit-tickets/recording.vtt#0"
    assert (best.start, best.end, best.source) == (12.0, 58.5, "exit-tickets/recording.vtt")
    assert "piles" in best.snippet and len(best.snippet) <= 300
    handout = [m for m in result.moments if m.source.endswith("handout.md")]
    assert all(m.heading == "The ticket > Sorting" and m.start is None for m in handout)
    assert [m.score for m in result.moments] == sorted((m.score for m in result.moments), reverse=True)


def test_filters_are_case_insensitive_and_can_exclude_everything(build_index: IndexBuilder) -> None:
    root, _ = build_index()
    searcher = _searcher(root.path)
    by_grade = searcher.search("exit tickets", filters=Filters(grade_bands=("k-2",)))
    assert [r.session.session_id for r in by_grade.results] == ["restorative-circles"]
    by_subject = searcher.search("exit tickets", filters=Filters(subjects=("math",)))
    # exit-tickets is for "All subjects", so a Math filter keeps it.
    assert {r.session.session_id for r in by_subject.results} == {"station-rotation", "exit-tickets"}
    science = searcher.search("exit tickets", filters=Filters(subjects=("Science",)))
    assert [r.session.session_id for r in science.results] == ["exit-tickets"]
    by_tag = searcher.search("groups", filters=Filters(tags=("Small Groups", "nothing")))
    assert [r.session.session_id for r in by_tag.results] == ["station-rotation"]
    nothing = searcher.search("exit tickets", filters=Filters(grade_bands=("Adult ed",)))
    assert nothing.results == () and not nothing.good_match


def test_a_40k_character_query_is_cut_safely(build_index: IndexBuilder) -> None:
    root, _ = build_index()
    embedder = FakeEmbedder()
    searcher = Searcher(root.path, embedder)
    response = searcher.search("exit tickets " + "word " * 8000, k=2)
    assert len(response.query) <= MAX_QUERY_CHARS
    assert response.results[0].session.session_id == "exit-tickets"
    assert normalise_query("  a \n b\tc  ") == "a b c"
    assert normalise_query("x" * 5000) == "x" * MAX_QUERY_CHARS  # one huge word still fits


@pytest.mark.parametrize("query", ["", "   \n\t "])
def test_an_empty_query_is_an_input_error(build_index: IndexBuilder, query: str) -> None:
    root, _ = build_index()
    with pytest.raises(InputError):
        _searcher(root.path).search(query)


def test_threshold_decides_good_match(build_index: IndexBuilder) -> None:
    root, _ = build_index()
    query = "sort exit tickets into piles"
    assert _searcher(root.path, threshold=0.0).search(query).good_match
    strict = _searcher(root.path, threshold=1.01).search(query)
    assert not strict.good_match and strict.threshold == 1.01 and strict.results
    unrelated = _searcher(root.path).search("quantum chromodynamics lattice")
    assert not unrelated.good_match


def test_no_index_yet_is_a_friendly_error(tmp_path: Path) -> None:
    with pytest.raises(IndexError_) as err:
        _searcher(tmp_path / "index").search("exit tickets")
    assert "staffroom ingest" in err.value.user_text()


def test_index_built_with_another_model_is_refused(build_index: IndexBuilder) -> None:
    root, _ = build_index(info={"model": "some-other-model"})
    with pytest.raises(IndexError_, match="some-other-model"):
        _searcher(root.path).search("exit tickets")


NEW_CHUNK = Chunk(
    "wait-time/recording.srt#0",
    "wait-time",
    "wait-time/recording.srt",
    "Count to five silently after asking a question; wait time doubles the hands.",
    start=1.0,
    end=20.0,
)
NEW_SESSIONS = {**TINY_SESSIONS, "wait-time": SessionMeta("wait-time", "Wait Time")}


def test_hot_swap_to_a_newly_published_version(build_index: IndexBuilder) -> None:
    root, first = build_index()
    clock = _Clock()
    searcher = _searcher(root.path, clock=clock, refresh_s=0.5)
    before = searcher.search("wait time after asking a question")
    assert before.index_version == first
    live = searcher._live  # noqa: SLF001 - what an in-flight search holds
    assert live is not None
    old_snapshot = live.snapshot

    _, second = build_index(chunks=(*TINY_CHUNKS, NEW_CHUNK), sessions=NEW_SESSIONS)
    clock.now += 0.1  # inside the throttle window: the pointer is not re-read yet
    assert searcher.search("wait time").index_version == first
    clock.now += 1.0
    after = searcher.search("wait time after asking a question")
    assert after.index_version == second == searcher.version
    assert after.results[0].session.session_id == "wait-time"
    assert len(old_snapshot.chunks) == len(TINY_CHUNKS)  # the old one stayed whole


def test_a_broken_new_version_keeps_the_old_one_serving(build_index: IndexBuilder) -> None:
    root, first = build_index()
    searcher = _searcher(root.path)
    searcher.search("exit tickets")
    _, second = build_index()
    (root.path / second / "vectors.faiss").write_bytes(b"broken")
    assert searcher.refresh(force=True) is False
    assert searcher.search("exit tickets").index_version == first


def test_empty_index_answers_with_no_results(build_index: IndexBuilder) -> None:
    root, _ = build_index(chunks=(), sessions={})
    response = _searcher(root.path).search("exit tickets")
    assert response.results == () and not response.good_match


def test_k_limits_sessions(build_index: IndexBuilder) -> None:
    root, _ = build_index()
    assert len(_searcher(root.path).search("the class", k=1).results) <= 1
    assert _searcher(root.path).search("exit tickets", k=0).results == ()
