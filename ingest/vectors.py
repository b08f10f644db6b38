"""Embedding only what is new: vectors reused by text hash, the rest embedded in batches."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ingest.manifest import FileEntry
from ingest.results import Progress
from retrieval.embedder import Embedder
from retrieval.snapshot import Snapshot


@dataclass(frozen=True)
class Reusable:
    """The previous snapshot's vectors and token counts, keyed by text hash."""

    vectors: np.ndarray | None = None
    rows: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, previous: Snapshot | None) -> Reusable:
        if previous is None:
            return cls()
        row_of = {c.chunk_id: i for i, c in enumerate(previous.chunks)}
        rows: dict[str, int] = {}
        tokens: dict[str, int] = {}
        for rel, raw in previous.files.items():
            entry = FileEntry.from_json(raw)
            if entry is None:
                continue
            for k, (h, n) in enumerate(zip(entry.chunk_hashes, entry.chunk_tokens, strict=True)):
                row = row_of.get(f"{rel}#{k}")
                if row is not None:
                    rows.setdefault(h, row)
                    tokens.setdefault(h, n)
        return cls(previous.vectors, rows, tokens)


@dataclass(frozen=True)
class Embedded:
    """This run's new vectors, one row per text, with their token counts."""

    vectors: np.ndarray | None
    tokens: list[int]
    seconds: float


def embed_batches(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int,
    emit: Callable[[Progress], None],
) -> Embedded:
    """Embed ``texts`` in batches, reporting progress after each batch."""
    if not texts:
        return Embedded(None, [], 0.0)
    parts: list[np.ndarray] = []
    tokens: list[int] = []
    seconds = 0.0
    emit(Progress("embed", 0, len(texts), ""))
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        tokens.extend(embedder.count_tokens(batch))
        began = time.perf_counter()
        vectors = np.asarray(embedder.embed_documents(batch), dtype=np.float32)
        seconds += time.perf_counter() - began
        if vectors.ndim != 2 or vectors.shape[0] != len(batch):
            raise ValueError(f"embedder returned {vectors.shape} for {len(batch)} texts")
        parts.append(vectors)
        done = start + len(batch)
        emit(Progress("embed", done, len(texts), f"{done} of {len(texts)} chunks"))
    return Embedded(np.vstack(parts), tokens, seconds)


def assemble(
    hashes: Sequence[str], missing: Sequence[str], fresh: Embedded, old: Reusable
) -> np.ndarray:
    """One vector per chunk: this run's embedding when new, else the previous snapshot's row."""
    new_rows = {h: i for i, h in enumerate(missing)}
    source = fresh.vectors if fresh.vectors is not None else old.vectors
    assert source is not None, "no vectors at all: the caller checks for chunks first"
    out = np.empty((len(hashes), source.shape[1]), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in new_rows:
            out[i] = fresh.vectors[new_rows[h]]  # type: ignore[index]
        else:
            out[i] = old.vectors[old.rows[h]]  # type: ignore[index]
    return out
