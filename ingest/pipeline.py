"""Incremental, atomic index builds: scan -> parse -> chunk -> embed -> write -> publish.

Unchanged files (same size and mtime, or same content hash) are not re-read: their chunks and
vectors come from the live snapshot. Vectors are reused by a hash of the exact embedded text, so
a catalog edit re-embeds only chunks whose text changed. The new snapshot is written into a
private build directory and published by one pointer swap; any error (or Ctrl-C) before that
discards the build and leaves the live index untouched.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ingest.catalog import Catalog, FileHints, check_front_matter, load_catalog, resolve_sessions
from ingest.changes import FileState, by_source, classify
from ingest.chunking import ChunkSizes, chunk_file
from ingest.embed_cache import EmbeddingCache, embed_new, model_identity
from ingest.flagging import flag_chunks, flagged_report, flags_info, needs_rescan
from ingest.loaders import SUPPORTED_SUFFIXES, load
from ingest.lock import build_lock
from ingest.manifest import FileEntry, jsonable, scan, text_hash
from ingest.results import BuildSummary, Progress
from ingest.vectors import Reusable, assemble
from ingest.versions import check_library
from retrieval.embedder import Embedder, fingerprint_of
from retrieval.indexing import check_model, index_text
from retrieval.snapshot import FORMAT, IndexRoot, Snapshot, write_snapshot
from retrieval.types import Chunk, SessionMeta
from staffroom_errors import ConfigError, IndexError_, LibraryError, LoaderError

log = logging.getLogger(__name__)

# Bump when loaders or chunking change what they produce: every file is then re-read (vectors
# are still reused wherever the embedded text comes out the same).
CHUNKER_VERSION = "2"
KEEP_VERSIONS = 5  # published versions kept for rollback (STAFFROOM_INDEX_KEEP_VERSIONS)


def build_index(
    library: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    full: bool = False,
    progress: Callable[[Progress], None] | None = None,
    batch_size: int = 64,
    chunk_sizes: ChunkSizes | None = None,
    replace: bool = False,
    keep_versions: int = KEEP_VERSIONS,
) -> BuildSummary:
    """Bring the index in ``index_dir`` up to date with ``library``; see the module docstring.

    Args:
        full: re-read every file (vectors are still reused where the embedded text is the same).
        progress: called with each Progress event, from this thread.
        batch_size: texts per embedding call (one "embed" event each).
        chunk_sizes: body sizes in model tokens; a change re-reads every file.
        replace: allow a library folder other than the live index's (else `LibraryError`).
        keep_versions: published versions kept (the live one always is), for rollback.
    """
    started = time.perf_counter()
    library, index_dir = Path(library), Path(index_dir)
    if not library.is_dir():
        raise LibraryError(
            f"No library at {library}.", hint="Point ingest at the folder of session files."
        )
    _check_writable(index_dir)
    emit = progress or (lambda _event: None)

    def waiting() -> None:
        emit(Progress("scan", 0, 0, "waiting for another build to finish"))

    with build_lock(index_dir, on_wait=waiting):
        sizes = chunk_sizes or ChunkSizes()
        build = _Build(library, IndexRoot(index_dir), embedder, emit, full, batch_size, sizes)
        build.replace, build.keep = replace, max(1, keep_versions)
        return build.run(started)


def _check_writable(index_dir: Path) -> None:
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=index_dir):
            pass
    except OSError as err:
        raise ConfigError(
            f"Cannot write the index in {index_dir} ({err.strerror or err}).",
            hint="Check STAFFROOM_DATA_DIR and its permissions.",
        ) from err


def _reason(err: LoaderError, rel: str) -> str:
    """The loader's message without the file name the summary already shows."""
    name = Path(rel).name
    return err.message.removeprefix(f"{name}: ")


class _Build:
    def __init__(
        self,
        library: Path,
        root: IndexRoot,
        embedder: Embedder,
        emit: Callable[[Progress], None],
        full: bool,
        batch_size: int,
        sizes: ChunkSizes,
    ) -> None:
        self.library, self.root, self.embedder, self.emit = library, root, embedder, emit
        self.full, self.batch_size, self.sizes = full, max(1, batch_size), sizes
        self.warnings: list[str] = []
        self.replace, self.keep = False, KEEP_VERSIONS
        self.cache = EmbeddingCache(root.path, model_identity(embedder))

    @property
    def key(self) -> str:
        """What must match the live index for its files' chunks to be reused as they are."""
        s = self.sizes
        sizes = f"{s.target}/{s.limit}/{s.min_tokens}/{s.overlap}"
        return f"chunker={CHUNKER_VERSION};sizes={sizes};model={self.embedder.name}"

    def run(self, started: float) -> BuildSummary:
        found = scan(self.library)
        if not found:
            suffixes = ", ".join(s for s in SUPPORTED_SUFFIXES if s not in (".markdown", ".htm"))
            raise LibraryError(f"{self.library} has no sessions: add {suffixes} files.")
        catalog = load_catalog(self.library)
        previous = self._previous()
        if previous is not None and not self.replace:
            check_library(self.library, previous, {f.rel for f in found})
        reusable = (
            previous is not None and not self.full and previous.info.get("ingest_key") == self.key
        )
        files, removed = classify(found, previous, reusable=reusable, emit=self.emit)
        self._parse([f for f in files if f.entry is None])
        ok = [f for f in files if not f.error]
        hints = {f.found.rel: self._hints(f) for f in ok}
        file_session, all_sessions, warnings = resolve_sessions(catalog, hints)
        self.warnings.extend(warnings)
        prev_chunks = by_source(previous.chunks) if previous else {}
        for f in ok:
            self._chunk(f, file_session[f.found.rel], all_sessions, prev_chunks)
        failed = [(f.found.rel, f.error) for f in files if f.error]
        partial = [(f.found.rel, p) for f in files if not f.error for p in f.problems]
        chunks = [c for f in files for c in f.chunks]
        rescan = previous is None or needs_rescan(previous.info)
        read_now = {f.found.rel for f in files if f.parsed is not None}
        chunks = flag_chunks(chunks, fresh=read_now, rescan=rescan)
        sha_of = {f.found.rel: f.sha256 for f in files}
        if not chunks:
            first = f"{failed[0][0]}: {failed[0][1]}" if failed else "no text"
            raise LibraryError(f"Nothing in {self.library} could be indexed ({first}).")
        used = {c.session_id for c in chunks}
        sessions = {sid: meta for sid, meta in sorted(all_sessions.items()) if sid in used}
        texts = [index_text(c, sessions[c.session_id]) for c in chunks]
        hashes = [text_hash(self.embedder.name, t) for t in texts]
        old = Reusable.from_snapshot(previous)
        missing = list(dict.fromkeys(h for h in hashes if h not in old.rows))
        by_status = {
            s: [f.found.rel for f in files if f.status == s and not f.error]
            for s in ("added", "changed", "unchanged")
        }
        summary = BuildSummary(
            added=by_status["added"],
            changed=by_status["changed"],
            unchanged=by_status["unchanged"],
            removed=removed,
            failed=failed,
            sessions=len(sessions),
            chunks=len(chunks),
            embedded=0,
            tokens_embedded=0,
            embed_seconds=0.0,
            seconds=0.0,
            version=previous.version if previous else None,
            published=False,
            warnings=self.warnings,
            flagged=flagged_report(chunks, sha_of, self.root.path),
            partial=partial,
        )
        unchanged = (
            previous is not None
            and not rescan
            and not (summary.added or summary.changed or summary.removed or missing)
            and previous.info.get("ingest_key") == self.key
            and previous.info["snapshot"].get("format") == FORMAT  # else: rewrite, nothing embedded
            and list(previous.chunks) == chunks
            and previous.sessions == sessions
            and _failures(previous) == {f.found.rel: f.error for f in files if f.error and f.sha256}
        )
        if unchanged:
            return replace(summary, seconds=time.perf_counter() - started)
        text_of = dict(zip(hashes, texts, strict=True))
        new = embed_new(self.cache, self.embedder, missing, text_of, old, self.batch_size, self.emit)
        self._check_window(chunks, hashes, new.embedded_tokens)
        tokens = {**old.tokens, **new.tokens}
        summary = replace(
            summary,
            embedded=len(new.embedded_tokens),
            cache_hits=new.hits,
            tokens_embedded=sum(new.embedded_tokens.values()),
            embed_seconds=new.vectors.seconds,
        )
        vectors = assemble(hashes, new.rows, new.vectors, old)
        self.cache.keep(hashes, vectors, tokens)
        manifest = self._manifest(files, hashes, tokens)
        info = self._info(chunks, hashes, tokens, vectors, catalog, summary)
        info["flags"] = flags_info(chunks, sha_of)
        info["partial"] = [list(pair) for pair in partial]
        # The live index is extended rather than rebuilt unless --full (write_snapshot decides
        # whether extending pays).
        version = self._write(chunks, vectors, sessions, manifest, info, previous if reusable else None)
        return replace(
            summary, version=version, published=True, seconds=time.perf_counter() - started
        )

    # --- previous snapshot and change detection ------------------------------------------

    def _previous(self) -> Snapshot | None:
        try:
            current = self.root.current()
            previous = Snapshot.load(current) if current is not None else None
        except IndexError_ as err:
            self.warnings.append(f"The live index could not be read ({err.message}); rebuilt.")
            return None
        if previous is None:
            return None
        try:
            check_model(previous.info, self.embedder)
        except IndexError_:  # its vectors are another model's: nothing of it is reused
            # (the cache names its model's fingerprint too: another model's vectors are not hits)
            self.warnings.append("The live index was built with another embedding model; rebuilt.")
            return None
        return previous

    def _parse(self, todo: Sequence[FileState]) -> None:
        for i, f in enumerate(todo):
            self.emit(Progress("parse", i, len(todo), f.found.rel))
            try:
                f.parsed = load(f.found.path)
                check_front_matter(f.parsed.front_matter, f.found.rel)
            except LoaderError as err:
                f.error = _reason(err, f.found.rel)
                log.info("skipped %s: %s", f.found.rel, f.error)
        self.emit(Progress("parse", len(todo), len(todo), ""))

    @staticmethod
    def _hints(f: FileState) -> FileHints:
        if f.parsed is not None:
            # JSON-shaped now, exactly as the manifest will give it back next time.
            return FileHints(f.parsed.title, jsonable(f.parsed.front_matter))
        assert f.entry is not None
        return FileHints(f.entry.title, f.entry.front_matter)

    def _chunk(
        self,
        f: FileState,
        sid: str,
        sessions: Mapping[str, SessionMeta],
        prev_chunks: Mapping[str, list[Chunk]],
    ) -> None:
        if f.parsed is None:  # unchanged: the previous chunks, moved if the catalog moved it
            f.chunks = [
                c if c.session_id == sid else dataclasses.replace(c, session_id=sid)
                for c in prev_chunks.get(f.found.rel, [])
            ]
            return
        f.chunks = chunk_file(
            f.parsed,
            source=f.found.rel,
            session=sessions[sid],
            counter=self.embedder,
            sizes=self.sizes,
        )
        if not f.chunks:
            f.error = "no text to index"

    # --- vectors -------------------------------------------------------------------------

    def _check_window(
        self, chunks: Sequence[Chunk], hashes: Sequence[str], tokens: Mapping[str, int]
    ) -> None:
        """Warn about newly embedded texts the model will cut (earlier ones were checked then)."""
        if not tokens:
            return
        limit = self.embedder.max_tokens
        over = [c.chunk_id for c, h in zip(chunks, hashes, strict=True) if tokens.get(h, 0) > limit]
        if over:
            self.warnings.append(
                f"{len(over)} chunks are longer than the model's {limit}-token window and are "
                f"cut when embedded (first: {over[0]})."
            )

    # --- writing -------------------------------------------------------------------------

    def _manifest(
        self, files: Sequence[FileState], hashes: Sequence[str], tokens: Mapping[str, int]
    ) -> dict[str, dict]:
        manifest: dict[str, dict] = {}
        position = 0
        for f in files:
            if not f.sha256:
                continue  # unreadable: nothing to remember, it is retried next time
            hint = self._hints(f) if not f.error else FileHints()
            mine = hashes[position : position + len(f.chunks)]
            position += len(f.chunks)
            entry = FileEntry(
                size=f.found.size,
                mtime_ns=f.found.mtime_ns,
                sha256=f.sha256,
                title=hint.title,
                front_matter=hint.front_matter,
                chunk_hashes=tuple(mine),
                chunk_tokens=tuple(tokens[h] for h in mine),
                error=f.error,
                problems=() if f.error else f.problems,
            )
            manifest[f.found.rel] = entry.to_json()
        return manifest

    def _info(
        self,
        chunks: Sequence[Chunk],
        hashes: Sequence[str],
        tokens: Mapping[str, int],
        vectors: np.ndarray,
        catalog: Catalog,
        summary: BuildSummary,
    ) -> dict[str, object]:
        session_tokens: dict[str, int] = {}
        session_chunks: dict[str, int] = {}
        for chunk, h in zip(chunks, hashes, strict=True):
            session_tokens[chunk.session_id] = session_tokens.get(chunk.session_id, 0) + tokens[h]
            session_chunks[chunk.session_id] = session_chunks.get(chunk.session_id, 0) + 1
        return {
            "model": self.embedder.name,
            "embedder": fingerprint_of(self.embedder),
            "dim": int(vectors.shape[1]),
            "ingest_key": self.key,
            "library": os.fspath(self.library.resolve()),
            "catalog": catalog.path,
            "tokens": sum(session_tokens.values()),
            "session_tokens": session_tokens,
            "session_chunks": session_chunks,
            "build": summary.stats(),
        }

    def _write(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        sessions: Mapping[str, SessionMeta],
        manifest: Mapping[str, dict],
        info: Mapping[str, object],
        base: Snapshot | None = None,
    ) -> str:
        self.emit(Progress("write", 0, 1, "writing the new index"))
        build_dir = self.root.new_build_dir()
        try:
            write_snapshot(
                build_dir,
                chunks=chunks,
                vectors=vectors,
                sessions=sessions,
                files=manifest,
                info=info,
                base=base,
            )
            self.emit(Progress("write", 1, 1, "publishing"))
            version = self.root.publish(build_dir)
        except BaseException:
            self.root.discard(build_dir)  # the live version keeps serving, untouched
            raise
        try:
            self.root.prune(keep=self.keep)
        except (OSError, IndexError_) as err:  # old versions linger; the build itself is fine
            self.warnings.append(f"Could not prune old index versions ({err}).")
        return version


def _failures(previous: Snapshot) -> dict[str, str]:
    return {
        rel: str(raw.get("error"))
        for rel, raw in previous.files.items()
        if isinstance(raw, dict) and raw.get("error")
    }
