"""The neutral form every loader returns: timed cues or heading-aware blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cue:
    """One caption cue: seconds from the start of the recording and its plain text."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Block:
    """One paragraph-like piece of a document under its heading path."""

    text: str
    heading: tuple[str, ...] = ()
    page: int | None = None  # 1-based, PDFs only


@dataclass(frozen=True)
class Parsed:
    """A parsed library file: cues (transcripts) or blocks (documents), never both."""

    cues: tuple[Cue, ...] = ()
    blocks: tuple[Block, ...] = ()
    title: str = ""  # first heading or document metadata title; "" when none
    front_matter: dict[str, Any] = field(default_factory=dict, compare=False)
    # What was skipped while the rest was read: "2 of 3 cues skipped (lines 5, 9)"
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_transcript(self) -> bool:
        return bool(self.cues)
