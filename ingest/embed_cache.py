"""Every vector ever embedded, keyed by its text hash, so no text is embedded twice.

The previous snapshot only remembers its own chunks: ingesting another folder and then the first
one again, or rolling back and re-ingesting, would embed everything anew. This cache keeps each
vector under ``text_hash(model, text)`` (the exact embedded text under one model) in one SQLite
file beside the index versions::

    <data_dir>/index/cache/embeddings.sqlite

The file belongs to one model, named by its fingerprint (name, dimension, fingerprint of the
weights folder: ``model_identity``), kept in a ``meta`` table: new weights under the same name
find no hits, and their first write empties the file (its vectors are the old weights').

Writes are one transaction per build (all or nothing) and only insert the vectors the file lacks;
the rest are only marked used by this build (a generation number in a small ``recency`` table,
so the vectors' rows are not rewritten). It is bounded: beyond ``max_entries`` the least recently
used vectors are dropped. A cache that cannot be read is set aside and started afresh: it only
ever saves time, so it never fails a build.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.results import Progress
from ingest.vectors import Embedded, Reusable, embed_batches
from retrieval.embedder import Embedder, fingerprint_of

log = logging.getLogger(__name__)

CACHE_DIR = "cache"
CACHE_FILE = "embeddings.sqlite"
MAX_ENTRIES = 200_000  # ~300 MB of 384-dim vectors; far beyond any district's library
LAYOUT = "2"  # 1: one table, a timestamp per vector (no model recorded: emptied on first write)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS vectors ("
    " key TEXT PRIMARY KEY, dim INTEGER NOT NULL, tokens INTEGER NOT NULL, vector BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS recency (key TEXT PRIMARY KEY, used INTEGER NOT NULL) WITHOUT ROWID",
)
_BATCH = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)


def model_identity(embedder: Embedder) -> str:
    """The model a cache file belongs to: name, dimension and weights fingerprint, as text."""
    return json.dumps(fingerprint_of(embedder), sort_keys=True)


@dataclass(frozen=True)
class Hits:
    """Cached vectors found for some keys: ``vectors[i]`` belongs to ``keys[i]``."""

    keys: list[str]
    vectors: np.ndarray | None
    tokens: list[int]


class EmbeddingCache:
    """The file-backed cache of one index directory, for one model (``model_identity``)."""

    def __init__(self, index_dir: Path, model: str = "", *, max_entries: int = MAX_ENTRIES) -> None:
        self.path = Path(index_dir) / CACHE_DIR / CACHE_FILE
        self.model = model
        self.max_entries = max(1, int(max_entries))
        self.written = 0  # vectors the last ``put`` inserted (the others were already there)

    def get(self, keys: Sequence[str], dim: int | None = None) -> Hits:
        """The cached vectors among ``keys``, in the order of ``keys``, all of one width.

        ``dim``: the width wanted; None = whatever the first hit has (the file names the model,
        so the width is the model's: no need to load it just to ask).
        """
        found: dict[str, tuple[np.ndarray, int]] = {}
        if keys and self.path.is_file():
            try:
                with self._connect() as db:
                    if self._meta(db) != (LAYOUT, self.model):  # another model's (or old) file
                        return Hits([], None, [])
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
        """Remember ``vectors[i]`` under ``keys[i]`` and mark them used now; then prune.

        One transaction: every key is marked used by this write (a new generation); only the
        vectors the file lacks are inserted (``written`` counts them).
        """
        self._write(list(keys), range(len(keys)), vectors, tokens)

    def keep(self, hashes: Sequence[str], vectors: np.ndarray, tokens: Mapping[str, int]) -> None:
        """Remember a build's vectors (``vectors[i]`` embeds the text of ``hashes[i]``)."""
        unique = dict(zip(hashes, range(len(hashes)), strict=True))
        self._write(list(unique), list(unique.values()), vectors, tokens)

    def _write(
        self,
        keys: list[str],
        rows_of: Sequence[int],
        vectors: np.ndarray,
        tokens: Mapping[str, int],
    ) -> None:
        """``put``, where ``keys[i]``'s vector is ``vectors[rows_of[i]]`` (no copy of the rest)."""
        self.written = 0
        if not keys:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("BEGIN IMMEDIATE")  # the schema changes too: all in one transaction
                generation = self._prepare(db)
                db.execute("CREATE TEMP TABLE IF NOT EXISTS touched (key TEXT PRIMARY KEY)")
                db.execute("DELETE FROM touched")
                db.executemany("INSERT OR IGNORE INTO touched VALUES (?)", ((k,) for k in keys))
                db.execute(
                    "INSERT OR REPLACE INTO recency (key, used) SELECT key, ? FROM touched",
                    (generation,),
                )
                lacking = {
                    row[0]
                    for row in db.execute(
                        "SELECT key FROM touched WHERE key NOT IN (SELECT key FROM vectors)"
                    )
                }
                width = int(vectors.shape[1])
                rows = [
                    (
                        key,
                        width,
                        int(tokens.get(key, 0)),
                        np.asarray(vectors[row], np.float32).tobytes(),
                    )
                    for key, row in zip(keys, rows_of, strict=True)
                    if key in lacking
                ]
                db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?, ?)", rows)
                self._prune(db)
                db.execute("DELETE FROM touched")
            self.written = len(lacking)
        except (OSError, sqlite3.Error) as err:
            self._set_aside(err)

    def __len__(self) -> int:
        if not self.path.is_file():
            return 0
        try:
            with self._connect() as db:
                return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        except sqlite3.Error:
            return 0

    @staticmethod
    def _meta(db: sqlite3.Connection) -> tuple[str, str] | None:
        """(layout, model) the file records; None for a file of the first layout (no meta)."""
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return None
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        return str(meta.get("layout", "")), str(meta.get("model", ""))

    def _prepare(self, db: sqlite3.Connection) -> int:
        """Make the file this model's, of this layout (emptied if not); the next generation."""
        if self._meta(db) != (LAYOUT, self.model):
            if self.path.stat().st_size > 0:
                log.info("the embedding cache %s was another model's: emptied", self.path)
            for table in ("meta", "vectors", "recency"):
                db.execute(f"DROP TABLE IF EXISTS {table}")  # noqa: S608 (a fixed name)
            for statement in _SCHEMA:
                db.execute(statement)
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("layout", LAYOUT), ("model", self.model), ("generation", "0")],
            )
        (value,) = db.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()
        generation = int(value) + 1
        db.execute("UPDATE meta SET value = ? WHERE name = 'generation'", (str(generation),))
        return generation

    def _prune(self, db: sqlite3.Connection) -> None:
        """Drop the least recently used vectors beyond ``max_entries``."""
        (count,) = db.execute("SELECT COUNT(*) FROM vectors").fetchone()
        if count <= self.max_entries:
            return
        victims = db.execute(
            "SELECT key FROM recency ORDER BY used ASC LIMIT ?", (count - self.max_entries,)
        ).fetchall()
        db.executemany("DELETE FROM vectors WHERE key = ?", victims)
        db.executemany("DELETE FROM recency WHERE key = ?", victims)

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
