"""Every vector ever embedded, keyed by its text hash, so no text is embedded twice.

The previous snapshot only remembers its own chunks: ingesting another folder and then the first
one again, or rolling back and re-ingesting, would embed everything anew. This cache keeps each
vector under ``text_hash(model, text)`` (the exact embedded text under one model) in one SQLite
file beside the index versions::

    <data_dir>/index/cache/embeddings.sqlite

Writes are one transaction per build (all or nothing). It is bounded: beyond ``max_entries`` the
least recently used vectors are dropped. A cache that cannot be read is set aside and started
afresh: it only ever saves time, so it never fails a build.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.results import Progress
from ingest.vectors import Embedded, Reusable, embed_batches
from retrieval.embedder import Embedder

log = logging.getLogger(__name__)

CACHE_DIR = "cache"
CACHE_FILE = "embeddings.sqlite"
MAX_ENTRIES = 200_000  # ~300 MB of 384-dim vectors; far beyond any district's library
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors ("
    " key TEXT PRIMARY KEY, dim INTEGER NOT NULL, tokens INTEGER NOT NULL,"
    " vector BLOB NOT NULL, used REAL NOT NULL)"
)
_BATCH = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)


@dataclass(frozen=True)
class Hits:
    """Cached vectors found for some keys: ``vectors[i]`` belongs to ``keys[i]``."""

    keys: list[str]
    vectors: np.ndarray | None
    tokens: list[int]


class EmbeddingCache:
    """The file-backed cache of one index directory."""

    def __init__(self, index_dir: Path, *, max_entries: int = MAX_ENTRIES) -> None:
        self.path = Path(index_dir) / CACHE_DIR / CACHE_FILE
        self.max_entries = max(1, int(max_entries))

    def get(self, keys: Sequence[str], dim: int | None = None) -> Hits:
        """The cached vectors among ``keys``, in the order of ``keys``, all of one width.

        ``dim``: the width wanted; None = whatever the first hit has (the key names the model,
        so the width is the model's: no need to load it just to ask).
        """
        found: dict[str, tuple[np.ndarray, int]] = {}
        if keys and self.path.is_file():
            try:
                with self._connect() as db:
                    for start in range(0, len(keys), _BATCH):
                        part = list(keys[start : start + _BATCH])
                        marks = ",".join("?" * len(part))
                        rows = db.execute(
                            f"SELECT key, dim, tokens, vector FROM vectors "  # noqa: S608
                            f"WHERE key IN ({marks})",
                            part,
                        )
                        for key, width, tokens, blob in rows:
                            dim = int(width) if dim is None else dim
                            vector = np.frombuffer(blob, dtype=np.float32)
                            if vector.shape == (dim,):
                                found[key] = (vector, int(tokens))
            except sqlite3.Error as err:
                self._set_aside(err)
                found = {}
        order = [k for k in keys if k in found]
        if not order:
            return Hits([], None, [])
        vectors = np.vstack([found[k][0] for k in order]).astype(np.float32)
        return Hits(order, vectors, [found[k][1] for k in order])

    def put(self, keys: Sequence[str], vectors: np.ndarray, tokens: Mapping[str, int]) -> None:
        """Remember ``vectors[i]`` under ``keys[i]`` and mark them used now; then prune."""
        if not keys:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        now = time.time()
        rows = [
            (key, int(vectors.shape[1]), int(tokens.get(key, 0)), vectors[i].tobytes(), now)
            for i, key in enumerate(keys)
        ]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)
                db.executemany(
                    "INSERT INTO vectors (key, dim, tokens, vector, used) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET used = excluded.used",
                    rows,
                )
                (count,) = db.execute("SELECT COUNT(*) FROM vectors").fetchone()
                if count > self.max_entries:
                    db.execute(
                        "DELETE FROM vectors WHERE key IN (SELECT key FROM vectors "
                        "ORDER BY used ASC LIMIT ?)",
                        (count - self.max_entries,),
                    )
        except (OSError, sqlite3.Error) as err:
            self._set_aside(err)

    def keep(self, hashes: Sequence[str], vectors: np.ndarray, tokens: Mapping[str, int]) -> None:
        """Remember a build's vectors (``vectors[i]`` embeds the text of ``hashes[i]``)."""
        unique = dict(zip(hashes, range(len(hashes)), strict=True))
        self.put(list(unique), vectors[list(unique.values())], tokens)

    def __len__(self) -> int:
        if not self.path.is_file():
            return 0
        try:
            with self._connect() as db:
                return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        except sqlite3.Error:
            return 0

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def _set_aside(self, err: Exception) -> None:
        """A corrupt file is moved aside (a new one starts); anything else is only logged."""
        if type(err) is not sqlite3.DatabaseError:  # locked, disk full, ...: the file is fine
            log.warning("the embedding cache %s was not used this time (%s)", self.path, err)
            return
        log.warning("the embedding cache %s is corrupt (%s); starting a new one", self.path, err)
        with contextlib.suppress(OSError):
            self.path.replace(self.path.with_name(f"{CACHE_FILE}.broken"))


@dataclass(frozen=True)
class NewVectors:
    """Vectors for the texts the previous snapshot lacked: from the cache, else embedded now.

    ``vectors`` row i belongs to ``rows[i]``; ``tokens`` covers every row, ``embedded_tokens``
    only the texts the model embedded this run.
    """

    rows: list[str]
    vectors: Embedded
    tokens: dict[str, int]
    embedded_tokens: dict[str, int]
    hits: int


def embed_new(
    cache: EmbeddingCache,
    embedder: Embedder,
    missing: Sequence[str],
    text_of: Mapping[str, str],
    old: Reusable,
    batch_size: int,
    emit: Callable[[Progress], None],
) -> NewVectors:
    """Look ``missing`` (text hashes) up in the cache and embed only the rest, in batches."""
    dim = None if old.vectors is None else int(old.vectors.shape[1])
    hits = cache.get(missing, dim)
    found = set(hits.keys)
    todo = [h for h in missing if h not in found]
    fresh = embed_batches(embedder, [text_of[h] for h in todo], batch_size, emit)
    embedded = dict(zip(todo, fresh.tokens, strict=True))
    rows, vectors = _with_hits(hits, fresh, todo)
    tokens = {**dict(zip(hits.keys, hits.tokens, strict=True)), **embedded}
    return NewVectors(rows, vectors, tokens, embedded, len(hits.keys))


def _with_hits(hits: Hits, fresh: Embedded, embedded: Sequence[str]) -> tuple[list[str], Embedded]:
    """Cache hits and this run's embeddings as one ``Embedded`` and the keys of its rows."""
    if hits.vectors is None:
        return list(embedded), fresh
    if fresh.vectors is None:
        return hits.keys + list(embedded), Embedded(hits.vectors, hits.tokens, fresh.seconds)
    if fresh.vectors.shape[1] != hits.vectors.shape[1]:
        raise ValueError(
            f"cached vectors have {hits.vectors.shape[1]} dimensions, the model gives "
            f"{fresh.vectors.shape[1]}"
        )
    vectors = np.vstack([hits.vectors, fresh.vectors])
    return hits.keys + list(embedded), Embedded(vectors, hits.tokens + fresh.tokens, fresh.seconds)
