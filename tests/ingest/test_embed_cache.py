"""The embedding cache belongs to one model (by fingerprint) and writes only what it lacks."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ingest import build_index
from ingest.embed_cache import CACHE_DIR, EmbeddingCache, model_identity
from retrieval.embedder import FakeEmbedder
from tests.ingest.builders import make_library, talk, write_vtt


def _vectors(n: int, dim: int = 4) -> np.ndarray:
    return np.arange(n * dim, dtype=np.float32).reshape(n, dim) + 1


def _swapped() -> FakeEmbedder:
    """The same model name and width, other weights in its folder."""
    swapped = FakeEmbedder()
    swapped.fingerprint = "sha256:0123456789abcdef"
    return swapped


def test_new_weights_under_the_same_name_get_no_stale_vectors(tmp_path: Path) -> None:
    library = make_library(tmp_path / "library")
    first = build_index(library, tmp_path / "index", FakeEmbedder())
    # No index left to reveal the change: only the cache carries over to a new index folder.
    for name in ("same", "swapped"):
        shutil.copytree(tmp_path / "index" / CACHE_DIR, tmp_path / name / CACHE_DIR)

    same = FakeEmbedder()
    again = build_index(library, tmp_path / "same", same)
    assert (again.cache_hits, same.calls) == (first.chunks, 0)  # the control: the cache works

    swapped = _swapped()
    assert model_identity(swapped) != model_identity(FakeEmbedder())
    rebuilt = build_index(library, tmp_path / "swapped", swapped)
    assert rebuilt.cache_hits == 0 and swapped.calls == rebuilt.embedded == rebuilt.chunks
    # The file is now the new weights' alone: the old vectors were dropped, not mixed in.
    cache = EmbeddingCache(tmp_path / "swapped", model_identity(swapped))
    assert len(cache) == len(cache.get(list(_keys(cache))).keys) == rebuilt.chunks


def _keys(cache: EmbeddingCache) -> list[str]:
    with sqlite3.connect(cache.path) as db:
        return [row[0] for row in db.execute("SELECT key FROM vectors")]


def test_another_model_misses_then_empties_the_file(tmp_path: Path) -> None:
    old = EmbeddingCache(tmp_path, model_identity(FakeEmbedder()))
    old.put(["a", "b"], _vectors(2), {"a": 3, "b": 4})
    new = EmbeddingCache(tmp_path, model_identity(_swapped()))
    assert new.get(["a", "b"]).keys == []
    assert len(old.get(["a", "b"]).keys) == 2  # a miss does not touch the file
    new.put(["c"], _vectors(1), {"c": 5})
    assert len(new) == 1 and old.get(["a", "b", "c"]).keys == []


def test_a_cache_of_the_first_layout_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / CACHE_DIR / "embeddings.sqlite"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:  # keyed by model name only: which weights is unknown
        db.execute(
            "CREATE TABLE vectors (key TEXT PRIMARY KEY, dim INTEGER NOT NULL,"
            " tokens INTEGER NOT NULL, vector BLOB NOT NULL, used REAL NOT NULL)"
        )
        db.execute("INSERT INTO vectors VALUES ('a', 4, 3, ?, 0)", (_vectors(1)[0].tobytes(),))
    cache = EmbeddingCache(tmp_path, model_identity(FakeEmbedder()))
    assert cache.get(["a"]).keys == []
    cache.put(["a"], _vectors(1) * 2, {"a": 3})
    hits = cache.get(["a"])
    assert len(cache) == 1 and np.array_equal(hits.vectors, _vectors(1) * 2)


def test_put_inserts_only_what_is_missing(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "m")
    cache.put(["a", "b", "c"], _vectors(3), dict.fromkeys("abc", 1))
    assert cache.written == 3
    cache.put(["b", "c", "d", "e"], _vectors(4) * 9, dict.fromkeys("bcde", 2))
    assert cache.written == 2 and len(cache) == 5
    hits = cache.get(["a", "b", "d"])
    assert hits.tokens == [1, 1, 2]  # "b" kept its first vector: the same text, the same vector
    assert np.array_equal(hits.vectors[1], _vectors(3)[1])
    cache.put(["a", "b"], _vectors(2), {})
    assert cache.written == 0


def test_lru_bound_drops_the_least_recently_used(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "m", max_entries=3)
    cache.put(["a", "b", "c"], _vectors(3), {})
    cache.put(["a"], _vectors(1), {})  # used again: "b" and "c" are now the oldest
    cache.put(["d"], _vectors(1), {})
    assert len(cache) == 3 and cache.get(["a", "b", "c", "d"]).keys in (
        ["a", "c", "d"],
        ["a", "b", "d"],
    )
    cache.put(["e", "f"], _vectors(2), {})
    assert cache.get(["a", "b", "c", "d", "e", "f"]).keys == ["d", "e", "f"]


def test_a_one_file_change_writes_only_that_files_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = make_library(tmp_path / "library")
    index = tmp_path / "index"
    first = build_index(library, index, FakeEmbedder())
    written: list[int] = []
    keep = EmbeddingCache.keep

    def counting_keep(self: EmbeddingCache, *args: object, **kwargs: object) -> None:
        keep(self, *args, **kwargs)  # type: ignore[arg-type]
        written.append(self.written)

    monkeypatch.setattr(EmbeddingCache, "keep", counting_keep)
    write_vtt(library / "exit-tickets/recording.vtt", talk("exit tickets and wait time", 40))
    summary = build_index(library, index, FakeEmbedder())
    assert summary.changed == ["exit-tickets/recording.vtt"]
    assert 0 < summary.embedded < first.chunks
    assert written == [summary.embedded]  # one write, the new vectors only
    assert len(EmbeddingCache(index)) == first.chunks + summary.embedded


def test_a_failed_write_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = EmbeddingCache(tmp_path, "m")
    cache.put(["a"], _vectors(1), {})

    def broken(self: EmbeddingCache, db: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(EmbeddingCache, "_prune", broken)
    other = EmbeddingCache(tmp_path, "another model")
    other.put(["b"], _vectors(1), {})  # would empty the file and insert "b": all rolled back
    assert other.written == 0 and other.get(["b"]).keys == []
    assert cache.get(["a", "b"]).keys == ["a"] and len(cache) == 1
