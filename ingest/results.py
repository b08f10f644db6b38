"""What a build reports while it runs (Progress) and when it ends (BuildSummary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Phase = Literal["scan", "parse", "embed", "write"]


@dataclass(frozen=True)
class Progress:
    """One progress event: ``done`` of ``total`` in ``phase`` (total 0 = unknown)."""

    phase: Phase
    done: int
    total: int
    detail: str = ""


@dataclass(frozen=True)
class BuildSummary:
    """What one build did. ``published`` is False when nothing changed (``version`` stays live).

    Files are added/changed/unchanged by content against the live index, even when ``full``
    re-read them; a file that could not be parsed is only in ``failed``.
    """

    added: list[str]
    changed: list[str]
    unchanged: list[str]
    removed: list[str]
    failed: list[tuple[str, str]]  # (path, reason) of files skipped this run
    sessions: int
    chunks: int
    embedded: int  # chunks actually embedded this run
    tokens_embedded: int
    embed_seconds: float
    seconds: float
    version: str | None
    published: bool
    warnings: list[str] = field(default_factory=list)
    # (path, what was found) per file with instruction-like passages no admin has cleared
    flagged: list[tuple[str, str]] = field(default_factory=list)
    cache_hits: int = 0  # new chunks whose vectors came from the embedding cache, not the model
    # (path, what was skipped) per file indexed only in part: "2 of 3 cues skipped (lines 5, 9)"
    partial: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "published" if self.published else "unchanged"

    def stats(self) -> dict[str, object]:
        """Counts for the snapshot's ``info`` (JSON-ready)."""
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "failed": [list(pair) for pair in self.failed],
            "embedded": self.embedded,
            "cache_hits": self.cache_hits,
            "partial": [list(pair) for pair in self.partial],
            "tokens_embedded": self.tokens_embedded,
            "embed_seconds": round(self.embed_seconds, 3),
            "flagged": [list(pair) for pair in self.flagged],
        }
