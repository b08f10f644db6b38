"""Change detection: each scanned file against the live snapshot's manifest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingest.manifest import FileEntry, LibraryFile, sha256_file
from ingest.parsed import Parsed
from ingest.results import Progress
from retrieval.snapshot import Snapshot
from retrieval.types import Chunk

Status = Literal["added", "changed", "unchanged"]


@dataclass
class FileState:
    """One scanned file's state during a build."""

    found: LibraryFile
    status: Status
    sha256: str = ""
    entry: FileEntry | None = None  # the previous build's record, when reusable
    parsed: Parsed | None = None
    error: str = ""
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def problems(self) -> tuple[str, ...]:
        """What was skipped in a file read in part: by its loader now, or as recorded last time."""
        if self.parsed is not None:
            return self.parsed.problems
        return self.entry.problems if self.entry is not None else ()


def classify(
    found: Sequence[LibraryFile],
    previous: Snapshot | None,
    *,
    reusable: bool,
    emit: Callable[[Progress], None],
) -> tuple[list[FileState], list[str]]:
    """Each scanned file's state against the live snapshot, and the paths that disappeared.

    With ``reusable`` (same chunker and model, not a full rebuild), an unchanged file keeps its
    previous entry and is not re-read; otherwise every file is parsed again.
    """
    old = previous.files if previous else {}
    counts = {src: len(cs) for src, cs in by_source(previous.chunks).items()} if previous else {}
    files: list[FileState] = []
    for i, item in enumerate(found):
        emit(Progress("scan", i, len(found), item.rel))
        entry = FileEntry.from_json(old[item.rel]) if item.rel in old else None
        if entry and entry.size == item.size and entry.mtime_ns == item.mtime_ns:
            sha = entry.sha256  # same size and mtime: trust the recorded hash
        else:
            try:
                sha = sha256_file(item.path)
            except OSError as err:
                status: Status = "changed" if item.rel in old else "added"
                files.append(FileState(item, status, error=f"cannot be read ({err.strerror})"))
                continue
        same = entry is not None and entry.sha256 == sha
        status = "unchanged" if same else "changed" if item.rel in old else "added"
        consistent = entry is not None and (
            entry.error or counts.get(item.rel, 0) == len(entry.chunk_hashes)
        )
        keep = entry if reusable and same and consistent else None
        files.append(FileState(item, status, sha, keep, error=keep.error if keep else ""))
    emit(Progress("scan", len(found), len(found), ""))
    present = {f.rel for f in found}
    return files, sorted(rel for rel in old if rel not in present)


def by_source(chunks: Sequence[Chunk]) -> dict[str, list[Chunk]]:
    out: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        out.setdefault(chunk.source, []).append(chunk)
    return out
