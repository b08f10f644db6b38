"""Typed values shared by ingest and retrieval (no faiss, no Slack, no database here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class SessionMeta:
    """One PD session in the library: catalog metadata, no text."""

    session_id: str
    title: str
    presenter: str = ""
    date: str = ""  # ISO date, "" when unknown
    url: str = ""  # recording URL ("" when none)
    grade_bands: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of one library file.

    Transcript chunks carry ``start``/``end`` seconds; document chunks carry their heading path
    ("Exit tickets > Sorting them") and, for PDFs, the 1-based page.
    """

    chunk_id: str  # stable within an index: f"{source}#{ordinal}"
    session_id: str
    source: str  # the library file's path relative to the library root, POSIX separators
    text: str
    start: float | None = None
    end: float | None = None
    heading: str = ""
    page: int | None = None
    # Instruction-like text found at ingest (retrieval/flags.py): rule names, () when clean.
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.flags, tuple):  # a JSON list read back from chunks.jsonl
            object.__setattr__(self, "flags", tuple(self.flags))


@dataclass(frozen=True)
class Filters:
    """Metadata filters; an empty tuple means "any"."""

    grade_bands: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.grade_bands or self.subjects or self.tags)


@dataclass(frozen=True)
class Moment:
    """The best place to look inside a session for one query."""

    chunk_id: str
    source: str
    snippet: str
    score: float
    start: float | None = None
    end: float | None = None
    heading: str = ""
    page: int | None = None
    # A flagged passage no admin has cleared: ``snippet`` is "" and no LLM prompt gets it.
    withheld: bool = False


@dataclass(frozen=True)
class SessionResult:
    """One session in a ranked answer, with its best moment(s) first."""

    session: SessionMeta
    score: float
    moments: tuple[Moment, ...]
    # The session's own "good match" evidence (best chunk cosine, see RankConfig), which
    # grade/subject preferences never move; 0.0 when not computed.
    match: float = 0.0

    @property
    def best(self) -> Moment:
        return self.moments[0]


@dataclass(frozen=True)
class SearchResponse:
    """Ranked sessions for a query, and whether the best one clears the match threshold."""

    query: str
    results: tuple[SessionResult, ...]
    good_match: bool
    threshold: float
    index_version: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)
    # The query's embedding, so judging the answer (retrieval.matching) need not embed it again.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IndexInfo:
    """One published index version, as ``status`` shows it."""

    version: str
    path: str
    sessions: int
    chunks: int
    files: int
    model: str = ""  # the embedding model that built it
    built_at: str = ""  # ISO time the version was written
    library: str = ""  # the library folder it was built from

    @classmethod
    def of(cls, path: str, info: dict[str, Any], files: int) -> IndexInfo:
        """From a version's ``info.json`` (and its number of files)."""
        meta = info.get("snapshot") or {}
        return cls(
            version=path.rstrip("/").rsplit("/", 1)[-1],
            path=path,
            sessions=int(meta.get("sessions", 0)),
            chunks=int(meta.get("chunks", 0)),
            files=files,
            model=str(info.get("model", "")),
            built_at=str(meta.get("written_at", "")),
            library=str(info.get("library", "")),
        )
