"""The library on disk: which files there are, their content hashes, and what changed.

The per-file manifest travels inside each index snapshot (``files``), so an incremental build
knows, without reading unchanged files, their hash, their session hints and the text hash of
each of their chunks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.loaders import supported

SKIPPED_NAMES = frozenset({"catalog.yaml", "catalog.yml", "queries.yaml", "queries.yml"})


@dataclass(frozen=True)
class LibraryFile:
    """One supported file found by the scan."""

    rel: str  # POSIX path relative to the library root
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileEntry:
    """What the last build recorded about one file."""

    size: int
    mtime_ns: int
    sha256: str
    title: str = ""
    front_matter: Mapping[str, Any] = field(default_factory=dict)
    chunk_hashes: tuple[str, ...] = ()  # text hash of chunk #0, #1, ... (index_text + model)
    chunk_tokens: tuple[int, ...] = ()  # index_text tokens of each chunk
    error: str = ""  # why the file was skipped; "" when it ingested
    problems: tuple[str, ...] = ()  # parts skipped in a file indexed in part (Parsed.problems)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256}
        if self.title:
            out["title"] = self.title
        if self.front_matter:
            out["front_matter"] = jsonable(self.front_matter)
        if self.problems:
            out["problems"] = list(self.problems)
        if self.error:
            out["error"] = self.error
        else:
            out["chunks"] = [
                [h, n] for h, n in zip(self.chunk_hashes, self.chunk_tokens, strict=True)
            ]
        return out

    @classmethod
    def from_json(cls, raw: Any) -> FileEntry | None:
        """The entry, or None when it is not one this version wrote (then the file is re-read)."""
        try:
            chunks = raw.get("chunks") or []
            return cls(
                size=int(raw["size"]),
                mtime_ns=int(raw["mtime_ns"]),
                sha256=str(raw["sha256"]),
                title=str(raw.get("title", "")),
                front_matter=dict(raw.get("front_matter") or {}),
                chunk_hashes=tuple(str(h) for h, _ in chunks),
                chunk_tokens=tuple(int(n) for _, n in chunks),
                error=str(raw.get("error", "")),
                problems=tuple(str(p) for p in raw.get("problems") or ()),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


def jsonable(value: Any) -> Any:
    """Front-matter values made JSON-safe (YAML dates become ISO strings)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _hidden(name: str) -> bool:
    return name.startswith((".", "~$"))  # dotfiles and Office lock files


def scan(library: Path) -> list[LibraryFile]:
    """Supported files under ``library`` in sorted order, skipping hidden files and folders."""
    found: list[LibraryFile] = []
    for root, dirs, files in os.walk(library):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        base = Path(root)
        for name in sorted(files):
            path = base / name
            rel = path.relative_to(library).as_posix()
            if _hidden(name) or rel in SKIPPED_NAMES or not supported(path):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue  # a dangling link or a file deleted while we looked
            found.append(LibraryFile(rel, path, stat.st_size, stat.st_mtime_ns))
    return found


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def text_hash(model: str, text: str) -> str:
    """Key of an embedding: the exact embedded text under one model."""
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()[:32]
