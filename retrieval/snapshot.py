"""The on-disk index: immutable snapshot directories, published by swapping one pointer file.

    <data_dir>/index/
        CURRENT                  "v000007-20251105T101500Z\\n": the live version
        v000006-.../             a complete snapshot (kept a while for readers still on it)
        v000007-.../
            info.json            written last: a snapshot without it is incomplete
            chunks.jsonl  vectors.npy  vectors.faiss  lexical/  sessions.json  files.json
        .build-<uuid>/           a build in progress; ignored until published
        .publish.lock            serialises publish and prune across processes

A crash at any moment leaves CURRENT naming a complete version: a build is written and fsynced
in its own directory, renamed to its version name, and only then does CURRENT change, by
``os.replace`` of a fsynced temporary file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.indexing import index_text
from retrieval.lexical import LexicalIndex
from retrieval.types import Chunk, IndexInfo, SessionMeta
from retrieval.vector import VectorIndex
from staffroom_errors import IndexError_

FORMAT = 1
_CHUNKS, _VECTORS, _FAISS, _LEXICAL = "chunks.jsonl", "vectors.npy", "vectors.faiss", "lexical"
_SESSIONS, _FILES, _INFO = "sessions.json", "files.json", "info.json"
_POINTER = "CURRENT"
_BUILD_PREFIX = ".build-"
_VERSION = re.compile(r"^v(\d{6,})-[0-9TZ]+$")
_REBUILD_HINT = "Run `staffroom ingest --full` to rebuild it."
# A build dir untouched for this long belongs to a crashed ingest, not a running one.
_STALE_BUILD_S = 6 * 3600


def write_snapshot(
    dest: Path,
    *,
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    sessions: Mapping[str, SessionMeta],
    files: Mapping[str, dict],
    info: Mapping[str, Any],
) -> None:
    """Write a complete snapshot into the new, empty directory ``dest``; every file fsynced.

    ``vectors[i]`` must embed ``index_text(chunks[i], sessions[chunks[i].session_id])``.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
        raise ValueError(f"{len(chunks)} chunks but vectors of shape {vectors.shape}")
    missing = {c.session_id for c in chunks} - set(sessions)
    if missing:
        raise ValueError(f"chunks name unknown sessions: {sorted(missing)[:5]}")
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty")

    lines = (json.dumps(asdict(c), ensure_ascii=False) for c in chunks)
    _write_text(dest / _CHUNKS, "".join(line + "\n" for line in lines))
    with open(dest / _VECTORS, "wb") as handle:
        np.save(handle, vectors)
        _sync(handle)
    vector_index = VectorIndex.build(vectors)
    vector_index.save(dest / _FAISS)
    texts = [index_text(c, sessions[c.session_id]) for c in chunks]
    LexicalIndex.build(texts).save(dest / _LEXICAL)
    _sync_tree(dest / _LEXICAL)
    _write_json(dest / _SESSIONS, {sid: asdict(meta) for sid, meta in sessions.items()})
    _write_json(dest / _FILES, dict(files))
    snapshot_info = {
        "format": FORMAT,
        "chunks": len(chunks),
        "sessions": len(sessions),
        "dim": int(vectors.shape[1]),
        "vector_index": "hnsw" if vector_index.approximate else "exact",
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(dest / _INFO, {**dict(info), "snapshot": snapshot_info})
    _fsync_dir(dest)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """A loaded index version, fully in memory: its files may be pruned once it is loaded."""

    path: Path
    version: str
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray
    sessions: dict[str, SessionMeta]
    files: dict[str, Any]
    info: dict[str, Any]
    vector_index: VectorIndex = field(repr=False)
    lexical: LexicalIndex = field(repr=False)

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        """Load the snapshot in ``path``; `IndexError_` if it is missing, incomplete or corrupt."""
        path = Path(path)
        if not (path / _INFO).is_file():
            raise IndexError_(f"The index in {path} is missing or incomplete.", hint=_REBUILD_HINT)
        try:
            info = json.loads((path / _INFO).read_text(encoding="utf-8"))
            meta = info["snapshot"]
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')} != {FORMAT}")
            chunks = tuple(_chunk(json.loads(line)) for line in _lines(path / _CHUNKS))
            vectors = np.load(path / _VECTORS, allow_pickle=False)
            raw_sessions = json.loads((path / _SESSIONS).read_text(encoding="utf-8"))
            sessions = {sid: _session(value) for sid, value in raw_sessions.items()}
            files = json.loads((path / _FILES).read_text(encoding="utf-8"))
            vector_index = VectorIndex.load(path / _FAISS)
            lexical = LexicalIndex.load(path / _LEXICAL)
        except (OSError, ValueError, KeyError, TypeError, IndexError_) as err:
            raise IndexError_(f"The index in {path} is corrupt ({err}).", hint=_REBUILD_HINT) from err
        sizes = {len(chunks), vectors.shape[0], vector_index.size, lexical.size, meta["chunks"]}
        if len(sizes) != 1 or vectors.ndim != 2:
            raise IndexError_(
                f"The index in {path} is corrupt (its parts disagree on the chunk count).",
                hint=_REBUILD_HINT,
            )
        return cls(path, path.name, chunks, vectors, sessions, files, info, vector_index, lexical)

    def describe(self) -> IndexInfo:
        return IndexInfo.of(str(self.path), self.info, len(self.files))


class IndexRoot:
    """The folder of index versions and the CURRENT pointer (``<data_dir>/index``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def new_build_dir(self) -> Path:
        """A fresh private directory to write a snapshot into."""
        self.path.mkdir(parents=True, exist_ok=True)
        build = self.path / f"{_BUILD_PREFIX}{uuid.uuid4().hex}"
        build.mkdir()
        return build

    def publish(self, build_dir: Path) -> str:
        """Make the complete snapshot in ``build_dir`` the live version; returns its name."""
        build_dir = Path(build_dir)
        if build_dir.parent.resolve() != self.path.resolve():
            raise ValueError(f"{build_dir} is not a build dir of {self.path}")
        if not (build_dir / _INFO).is_file():
            raise ValueError(f"{build_dir} holds no complete snapshot")
        with self._lock():
            number = max((n for n, _ in self._versions()), default=0) + 1
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            version = f"v{number:06d}-{stamp}"
            os.rename(build_dir, self.path / version)
            _fsync_dir(self.path)
            self._point(version)
        return version

    def rollback(self, version: str) -> None:
        """Make the kept, complete ``version`` live again: the same one pointer swap as publish.

        Readers notice it as they notice a publish (the CURRENT name changed) and load it.
        """
        with self._lock():
            if not _VERSION.match(version) or not (self.path / version / _INFO).is_file():
                raise IndexError_(f"There is no complete index version {version} to make live.")
            self._point(version)

    def _point(self, version: str) -> None:
        """CURRENT := version, by ``os.replace`` of a fsynced temporary file (caller locks)."""
        _write_text(self.path / f".{_POINTER}.{uuid.uuid4().hex}.tmp", version + "\n",
                    replace=self.path / _POINTER)
        _fsync_dir(self.path)

    def current_version(self) -> str | None:
        """The live version's name, or None before the first publish."""
        try:
            text = (self.path / _POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise IndexError_(f"Cannot read {self.path / _POINTER}.", hint=_REBUILD_HINT) from err
        if not _VERSION.match(text):
            raise IndexError_(f"{self.path / _POINTER} is corrupt.", hint=_REBUILD_HINT)
        return text

    def current(self) -> Path | None:
        """The live version's directory, or None before the first publish."""
        version = self.current_version()
        return None if version is None else self.path / version

    def info(self) -> IndexInfo | None:
        """The live version's facts without loading it; None before the first publish."""
        current = self.current()
        if current is None:
            return None
        try:
            info = json.loads((current / _INFO).read_text(encoding="utf-8"))
            files = json.loads((current / _FILES).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise IndexError_(f"The index in {current} is unreadable.", hint=_REBUILD_HINT) from err
        return IndexInfo.of(str(current), info, len(files))

    def discard(self, build_dir: Path) -> None:
        """Delete an unpublished build directory."""
        build_dir = Path(build_dir)
        if build_dir.parent.resolve() == self.path.resolve() and build_dir.name.startswith(
            _BUILD_PREFIX
        ):
            shutil.rmtree(build_dir, ignore_errors=True)

    def prune(self, keep: int = 3) -> list[str]:
        """Delete all but the newest ``keep`` versions (never the live one) and stale builds."""
        if not self.path.is_dir():
            return []
        removed: list[str] = []
        with self._lock():
            current = self.current_version()
            versions = sorted(self._versions())
            doomed = [name for _, name in versions[: max(0, len(versions) - max(keep, 1))]]
            now = time.time()
            for entry in self.path.iterdir():
                stale = entry.name.startswith((_BUILD_PREFIX, ".trash-", f".{_POINTER}."))
                if stale and now - entry.stat().st_mtime > _STALE_BUILD_S:
                    doomed.append(entry.name)
            for name in doomed:
                if name == current:
                    continue
                _remove(self.path / name)
                removed.append(name)
        return removed

    def versions(self) -> list[str]:
        """Published version names, oldest first."""
        return [name for _, name in sorted(self._versions())] if self.path.is_dir() else []

    def _versions(self) -> Iterator[tuple[int, str]]:
        for entry in self.path.iterdir():
            match = _VERSION.match(entry.name)
            if match and entry.is_dir():
                yield int(match.group(1)), entry.name

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise publishers and pruners (two ingests at once must not pick one number)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".publish.lock", "a+b") as handle:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: single-writer by convention
                yield
                return
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- helpers ------------------------------------------------------------------------------


def _chunk(raw: dict[str, Any]) -> Chunk:
    return Chunk(**raw)


def _session(raw: dict[str, Any]) -> SessionMeta:
    tuples = {key: tuple(raw.get(key) or ()) for key in ("grade_bands", "subjects", "tags")}
    return SessionMeta(**{**raw, **tuples})


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def _remove(path: Path) -> None:
    """Rename away first, so no half-deleted directory ever carries a version name."""
    if path.is_dir():
        trash = path.with_name(f".trash-{uuid.uuid4().hex}")
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _sync(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _write_text(path: Path, text: str, *, replace: Path | None = None) -> None:
    """Write and fsync ``path``; then atomically move it onto ``replace`` when given."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        _sync(handle)
    if replace is not None:
        os.replace(path, replace)


def _write_json(path: Path, value: Any) -> None:
    _write_text(path, json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True))


def _sync_tree(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.is_file():
            with open(entry, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be opened elsewhere
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
