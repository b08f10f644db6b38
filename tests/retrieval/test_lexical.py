"""LexicalIndex: stemming, stopwords, coverage scale, subsets, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.lexical import LexicalIndex, tokenize
from staffroom_errors import IndexError_

TEXTS = [
    "Students sort exit tickets into three piles.",
    "The teacher runs station rotation with a timer.",
    "Restorative circles repair harm after a conflict.",
    "Running record helps with reading conferences.",
]


def test_tokenize_drops_stopwords_and_stems() -> None:
    assert tokenize("The students are running to the stations") == ["student", "run", "station"]
    assert tokenize("The students", stem=False) == ["students"]


def test_stemmed_query_matches_inflected_text() -> None:
    index = LexicalIndex.build(TEXTS)
    hits = index.search("how do I sort an exit ticket?", 3)
    assert hits[0][0] == 0
    assert index.search("records", 4)[0][0] == 3  # "records" and "record" meet at one stem
    assert index.search("zebra quantum", 4) == []  # only rows that match something


def test_coverage_is_a_fraction_of_the_query_and_penalises_unknown_words() -> None:
    index = LexicalIndex.build(TEXTS)
    full = index.scores("exit tickets piles")[0] / index.coverage_scale("exit tickets piles")
    diluted_q = "exit tickets piles zebra quantum"
    diluted = index.scores(diluted_q)[0] / index.coverage_scale(diluted_q)
    assert 0 < diluted < full < 1


def test_subset_limits_the_rows() -> None:
    index = LexicalIndex.build(TEXTS)
    assert index.search("teacher timer circles", 4, subset=[2])[0][0] == 2
    assert all(row == 2 for row, _ in index.search("teacher timer circles", 4, subset=[2]))


def test_empty_query_and_empty_index() -> None:
    index = LexicalIndex.build(TEXTS)
    assert not index.scores("the and of").any()
    empty = LexicalIndex.build([])
    assert empty.size == 0 and empty.search("anything", 3) == []


def test_save_load_round_trip(tmp_path: Path) -> None:
    index = LexicalIndex.build(TEXTS)
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert loaded.size == 4 and loaded.stem
    assert np.allclose(loaded.scores("station timer"), index.scores("station timer"))
    LexicalIndex.build([]).save(tmp_path / "empty")
    assert LexicalIndex.load(tmp_path / "empty").size == 0


def test_missing_files_are_a_friendly_index_error(tmp_path: Path) -> None:
    (tmp_path / "lex").mkdir()
    with pytest.raises(IndexError_):
        LexicalIndex.load(tmp_path / "lex")


def test_extended_index_scores_exactly_like_a_fresh_build(tmp_path: Path) -> None:
    """Rows 1 and 2 removed, two texts added: idf and length norms follow the live rows."""
    added = ["Exit tickets again, sorted into piles by the teacher.", "Timer rotation stations."]
    base = LexicalIndex.build(TEXTS)
    rows = np.array([0, 3, 4, 5])
    extended = base.extended(added, rows)
    extended.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex").with_rows(rows)
    fresh = LexicalIndex.build([TEXTS[0], TEXTS[3], *added])
    for query in ("exit tickets piles", "teacher timer circles", "running record", "conflict"):
        assert np.array_equal(extended.scores(query), fresh.scores(query))
        assert np.array_equal(loaded.scores(query), fresh.scores(query))
        assert extended.query_terms(query) == fresh.query_terms(query)
        assert extended.coverage_scale(query) == fresh.coverage_scale(query)
    assert extended.query_terms("conflict") == []  # only a removed row had it
