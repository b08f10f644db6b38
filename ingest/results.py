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
    """What one build did. ``published`` is False when nothing changed (``version`` stays live)."""

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

    @property
    def status(self) -> str:
        return "published" if self.published else "unchanged"
