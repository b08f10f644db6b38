"""The ingest side of retrieval/flags.py: mark instruction-like chunks, sum them up per file."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from retrieval.flags import RULES_VERSION, Clearances, file_flags, scan
from retrieval.types import Chunk


def needs_rescan(previous_info: Mapping[str, Any] | None) -> bool:
    """Whether chunks reused from the live index were scanned with other (or no) rules."""
    flags = (previous_info or {}).get("flags")
    return not isinstance(flags, dict) or flags.get("rules") != RULES_VERSION


def flag_chunks(chunks: Sequence[Chunk], *, fresh: Collection[str], rescan: bool) -> list[Chunk]:
    """``chunks`` with ``flags`` set: scanned when their file was read now (or ``rescan``)."""
    out = []
    for chunk in chunks:
        if rescan or chunk.source in fresh:
            flags = scan(chunk.text)
            if flags != chunk.flags:
                chunk = replace(chunk, flags=flags)
        out.append(chunk)
    return out


def flags_info(chunks: Sequence[Chunk], sha_of: Mapping[str, str]) -> dict[str, Any]:
    """What the index info records: the rules' version and each flagged file."""
    files = file_flags(chunks, sha_of)
    return {"rules": RULES_VERSION, "files": {p: f.to_json() for p, f in files.items()}}


def flagged_report(
    chunks: Sequence[Chunk], sha_of: Mapping[str, str], index_dir: Path
) -> list[tuple[str, str]]:
    """(file, what was found) for each flagged file no admin has cleared, for the summary."""
    cleared = Clearances(index_dir).read()
    return [
        (path, f.note)
        for path, f in file_flags(chunks, sha_of).items()
        if not f.sha256 or cleared.get(path) != f.sha256
    ]
