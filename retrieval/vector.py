"""Dense vector search: the only module that imports faiss.

Vectors live in slots (faiss ids); callers address rows, and ``rows[i]`` is row i's slot. A fresh
build has rows == slots; an extended index keeps the slots of rows that no longer exist (they
are never returned) and adds new ones. faiss's ``-1`` labels, its ``(D, I)`` arrays and slots
never leave this module. The vectors are held once, in faiss; ``matrix`` is a view of them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from staffroom_errors import IndexError_

# Below this many vectors an exact scan takes a few milliseconds, so approximate search would buy
# nothing and cost recall.
EXACT_MAX = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
# Recall@10 against exact search on 50k clustered, noisy 384-d vectors (bench/quality.py
# --hnsw; a harder set than real embeddings): efSearch 64 -> 0.76, 128 -> 0.89, 256 -> 0.96.
# 0.95 is the floor we want; the tests hold a smaller set to it.
HNSW_EF_SEARCH = 256

Hits = list[tuple[int, float]]


class VectorIndex:
    """Inner-product search over L2-normalised vectors: exact when small, HNSW when large."""

    # Subsets up to this size are scanned exactly even in an HNSW index (tests lower it).
    exact_subset_max: int = EXACT_MAX

    def __init__(self, index: faiss.Index, rows: np.ndarray | None = None) -> None:
        self._index = index
        self.slots = int(index.ntotal)
        self._matrix = _flat_view(index)
        self._rows: np.ndarray | None = None
        self._row_of: np.ndarray | None = None
        if rows is not None and not _is_identity(rows, self.slots):
            self._rows = np.asarray(rows, dtype=np.int64)
            self._row_of = np.full(self.slots, -1, dtype=np.int64)
            self._row_of[self._rows] = np.arange(len(self._rows))
        self.size = self.slots if self._rows is None else len(self._rows)

    @classmethod
    def build(
        cls, vectors: np.ndarray, *, exact_max: int = EXACT_MAX, ef_search: int = HNSW_EF_SEARCH
    ) -> VectorIndex:
        """Index ``vectors`` (n x dim float32); HNSW when n > ``exact_max``."""
        vectors = _as_matrix(vectors)
        n, dim = vectors.shape
        index: faiss.Index
        if n > exact_max:
            hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            hnsw.hnsw.efSearch = ef_search
            index = hnsw
        else:
            index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return cls(index)

    def extended(self, vectors: np.ndarray, rows: np.ndarray) -> VectorIndex:
        """A copy with ``vectors`` added in new slots (``slots``, ``slots + 1``, ...)."""
        index = faiss.clone_index(self._index)
        vectors = _as_matrix(vectors)
        if len(vectors):
            index.add(vectors)
        return VectorIndex(index, rows)

    def with_rows(self, rows: np.ndarray | None) -> VectorIndex:
        """The same vectors, searched as the rows ``rows`` (slot per row)."""
        return VectorIndex(self._index, rows)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def approximate(self) -> bool:
        return isinstance(self._index, faiss.IndexHNSW)

    @property
    def matrix(self) -> np.ndarray:
        """Every slot's vector (slots x dim), read-only, without a copy."""
        return self._matrix

    def search(
        self, query_vecs: np.ndarray, k: int, *, subset: Sequence[int] | np.ndarray | None = None
    ) -> list[Hits]:
        """Top ``k`` (row, inner product) per query, best first; only rows in ``subset`` if given.

        A subset no bigger than the exact threshold is scanned exactly: a filtered HNSW walk
        loses recall when few nodes qualify.
        """
        queries = _as_matrix(query_vecs)
        if queries.shape[1] != self.dim:
            raise ValueError(f"query dim {queries.shape[1]} != index dim {self.dim}")
        if k <= 0 or self.size == 0:
            return [[] for _ in range(len(queries))]
        if subset is None and self._rows is None:
            return self._hits(*self._index.search(queries, min(k, self.size)))
        if subset is None:  # a few dead slots: over-fetch and drop them, cheaper than a selector
            want = min(k, self.size)
            extra = min(self.slots - self.size, want)
            hits = self._hits(*self._index.search(queries, min(want + extra, self.slots)))
            if all(len(h) >= want for h in hits):
                return [h[:want] for h in hits]
        if subset is None:
            slots = self._rows
        else:
            ids = np.asarray(subset, dtype=np.int64)
            ids = ids[(ids >= 0) & (ids < self.size)]
            slots = ids if self._rows is None else self._rows[ids]
        assert slots is not None
        if len(slots) == 0:
            return [[] for _ in range(len(queries))]
        mask = np.zeros(self.slots, dtype=bool)
        mask[slots] = True
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(self.slots, faiss.swig_ptr(bits))
        count = int(np.count_nonzero(mask))
        if not self.approximate or count <= self.exact_subset_max:
            flat = faiss.downcast_index(self._index.storage) if self.approximate else self._index  # type: ignore[attr-defined]
            params = faiss.SearchParameters()
            params.sel = selector
            found = flat.search(queries, min(k, count), params=params)
        else:
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # missing in stubs
            params.sel = selector
            params.efSearch = max(self._index.hnsw.efSearch, 2 * k)  # type: ignore[attr-defined]
            found = self._index.search(queries, min(k, count), params=params)
        del bits  # the selector points into it: kept alive until here
        return self._hits(*found)

    def _hits(self, scores: np.ndarray, labels: np.ndarray) -> list[Hits]:
        """Rows and scores; unused labels (-1) and dead slots (row -1) left out."""
        out: list[Hits] = []
        for srow, lrow in zip(scores, labels, strict=True):
            keep = lrow >= 0
            rows, kept = lrow[keep], srow[keep]
            if self._row_of is not None:
                rows = self._row_of[rows]
                kept = kept[rows >= 0]
                rows = rows[rows >= 0]
            out.append([(int(r), float(s)) for r, s in zip(rows, kept, strict=True)])
        return out

    def reconstruct(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The stored vectors for ``rows`` (a copy)."""
        ids = np.asarray(rows, dtype=np.int64)
        return self._matrix[ids if self._rows is None else self._rows[ids]]

    def row_vectors(self) -> np.ndarray:
        """Every row's vector in row order: a view when rows are slots, else a copy."""
        return self._matrix if self._rows is None else self._matrix[self._rows]

    def save(self, path: Path) -> None:
        """Write the index to ``path`` and fsync it."""
        faiss.write_index(self._index, str(path))
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as err:
            raise IndexError_(f"The vector index {path.name} is unreadable.") from err


class _Pinned:
    """Exposes faiss's vector storage to numpy and keeps the index alive while a view exists."""

    def __init__(self, index: faiss.Index, flat: faiss.Index) -> None:
        self.index = index
        n, d = int(flat.ntotal), int(flat.d)
        # A view that does not own the memory: hence this object, which keeps the index alive.
        raw = faiss.rev_swig_ptr(flat.get_xb(), n * d)  # type: ignore[attr-defined]
        address = int(raw.__array_interface__["data"][0])
        self.__array_interface__ = {
            "shape": (n, d), "typestr": "<f4", "version": 3, "data": (address, True),
        }  # fmt: skip


def _flat_view(index: faiss.Index) -> np.ndarray:
    flat = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    if not int(flat.ntotal):
        return np.zeros((0, int(flat.d)), dtype=np.float32)
    return np.asarray(_Pinned(index, flat))


def _is_identity(rows: np.ndarray, slots: int) -> bool:
    return len(rows) == slots and bool(np.array_equal(rows, np.arange(slots)))



    def load(cls, path: Path) -> VectorIndex:
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as err:
            raise IndexError_(f"The vector index {path.name} is unreadable.") from err


def _as_matrix(vectors: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {array.shape}")
    return array
