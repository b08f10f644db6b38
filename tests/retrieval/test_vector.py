"""VectorIndex: exact vs HNSW recall, subsets, -1 labels hidden, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.vector import VectorIndex
from staffroom_errors import IndexError_


def _clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    data = centres[rng.integers(0, 50, n)] + 0.5 * rng.normal(size=(n, dim))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


def _brute(data: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[int]:
    rows = np.arange(len(data)) if rows is None else rows
    scores = data[rows] @ query
    return [int(rows[i]) for i in np.argsort(-scores, kind="stable")[:k]]


def test_exact_index_matches_brute_force_and_hides_missing_labels() -> None:
    data = _clustered(40, 16)
    index = VectorIndex.build(data)
    assert not index.approximate
    hits = index.search(data[3], 100)[0]
    assert len(hits) == 40  # k > n: faiss pads with -1 labels, which never come out
    assert [row for row, _ in hits[:5]] == _brute(data, data[3], 5)
    assert hits[0] == (3, pytest.approx(1.0, abs=1e-5))
    assert all(a[1] >= b[1] for a, b in zip(hits, hits[1:], strict=False))


def test_hnsw_recall_at_10_against_exact_is_at_least_095() -> None:
    data = _clustered(4000, 32)
    rng = np.random.default_rng(1)
    queries = data[rng.choice(len(data), 100, replace=False)] + 0.2 * rng.normal(size=(100, 32))
    exact = VectorIndex.build(data)
    approx = VectorIndex.build(data, exact_max=0)
    assert approx.approximate and not exact.approximate
    truth = exact.search(queries, 10)
    got = approx.search(queries, 10)
    recall = np.mean(
        [len({r for r, _ in t} & {r for r, _ in g}) / 10 for t, g in zip(truth, got, strict=True)]
    )
    assert recall >= 0.95


@pytest.mark.parametrize("approximate", [False, True])
def test_subset_search_returns_only_subset_rows_in_exact_order(approximate: bool) -> None:
    data = _clustered(2000, 16, seed=2)
    index = VectorIndex.build(data, exact_max=0 if approximate else 10_000)
    subset = np.arange(0, 2000, 7)
    got = index.search(data[5], 10, subset=subset)[0]
    assert {row for row, _ in got} <= set(subset.tolist())
    assert [row for row, _ in got] == _brute(data, data[5], 10, subset)


def test_large_subset_on_hnsw_uses_the_filtered_graph_walk() -> None:
    data = _clustered(3000, 16, seed=3)
    index = VectorIndex.build(data, exact_max=0)
    index.exact_subset_max = 100  # force the IDSelector path
    subset = np.arange(0, 3000, 2)
    got = index.search(data[10], 10, subset=subset)[0]
    assert len(got) == 10
    assert {row for row, _ in got} <= set(subset.tolist())
    assert len({r for r, _ in got} & set(_brute(data, data[10], 10, subset))) >= 9


def test_empty_subset_empty_index_and_zero_k() -> None:
    data = _clustered(10, 8)
    index = VectorIndex.build(data)
    assert index.search(data[0], 5, subset=[]) == [[]]
    assert index.search(data[0], 0) == [[]]
    empty = VectorIndex.build(np.zeros((0, 8), dtype=np.float32))
    assert empty.size == 0 and empty.search(data[0], 5) == [[]]
    with pytest.raises(ValueError):
        index.search(np.zeros(4, dtype=np.float32), 3)


@pytest.mark.parametrize("approximate", [False, True])
def test_save_load_round_trip(tmp_path: Path, approximate: bool) -> None:
    data = _clustered(300, 16)
    index = VectorIndex.build(data, exact_max=0 if approximate else 1000)
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss")
    assert loaded.approximate == approximate and loaded.size == 300
    assert loaded.search(data[:3], 5) == index.search(data[:3], 5)
    assert np.allclose(loaded.reconstruct([4, 7]), data[[4, 7]])


def test_unreadable_file_is_a_friendly_index_error(tmp_path: Path) -> None:
    (tmp_path / "v.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(IndexError_):
        VectorIndex.load(tmp_path / "v.faiss")


def test_extended_index_never_returns_dead_rows_and_matches_a_fresh_build() -> None:
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    added = vectors[:5] * -1
    rows = np.array([*range(0, 300, 2), 300, 301, 302, 303, 304])  # odd rows removed
    extended = VectorIndex.build(vectors).extended(added, rows)
    fresh = VectorIndex.build(np.vstack([vectors[::2], added]))
    queries = vectors[:20]
    assert extended.size == fresh.size == 155 and extended.slots == 305
    assert extended.search(queries, 10) == fresh.search(queries, 10)
    assert extended.search(queries, 5, subset=range(100, 155)) == fresh.search(
        queries, 5, subset=range(100, 155)
    )
    assert np.array_equal(extended.row_vectors(), fresh.matrix)
    assert not extended.matrix.flags.writeable  # a view of faiss's own copy


def test_dead_rows_crowding_the_top_still_leave_k_live_hits() -> None:
    rng = np.random.default_rng(5)
    others = rng.standard_normal((50, 8)).astype(np.float32)
    target = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    vectors = np.vstack([np.repeat(target, 10, axis=0), others / np.linalg.norm(others, axis=1)[:, None]])
    rows = np.arange(10, 60)  # the ten copies of the query are all dead
    extended = VectorIndex.build(vectors).extended(np.zeros((0, 8), np.float32), rows)
    hits = extended.search(target, 3)[0]
    fresh = VectorIndex.build(vectors[10:]).search(target, 3)[0]
    assert hits == fresh and len(hits) == 3
