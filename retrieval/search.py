"""The Searcher: hybrid search over the live index version, swapped in without a restart."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.embedder import Embedder
from retrieval.flags import Clearances, flags_of, withheld_sources
from retrieval.hints import Hints, adjust
from retrieval.indexing import check_model, index_text
from retrieval.ranking import (
    MODES,
    Mode,
    RankConfig,
    SessionRank,
    moment_rows,
    rank_sessions,
)
from retrieval.rerank import DEFAULT_CANDIDATES, Reranker
from retrieval.snapshot import IndexRoot, Snapshot
from retrieval.snippets import snippet
from retrieval.types import (
    Filters,
    IndexInfo,
    Moment,
    SearchResponse,
    SessionMeta,
    SessionResult,
)
from staffroom_errors import IndexError_, InputError

log = logging.getLogger(__name__)

# "No good match" threshold on the best chunk cosine among the results (all-MiniLM-L6-v2,
# ~120-token chunks). Measured with bench/quality.py --calibrate:
#   threshold                          0.36   0.38   0.40   0.42   0.44   0.46
#   library answerable kept (64)      1.000  0.984  0.953  0.938  0.906  0.875
#   library off-topic rejected (10)   0.400  0.500  0.600  0.600  0.700  0.900
#   devset answerable kept (280)      0.964  0.954  0.936  0.886  0.857  0.818
# A teacher who gets "nothing covers that" for a real question loses more than one shown a
# weak session for an admin question, so 0.40 keeps ~95% of real questions. Off-topic
# questions about school logistics share vocabulary with PD sessions; cosine alone cannot
# refuse them all. Another model needs its own value (STAFFROOM_MATCH_THRESHOLD).
DEFAULT_THRESHOLD = 0.40
# The model reads 256 word pieces (~1,000 characters); a longer "question" is a pasted
# document, and cutting it early keeps tokenizing and scoring cheap.
MAX_QUERY_CHARS = 1000
REFRESH_S = 0.5
_SPACE = re.compile(r"\s+")


def normalise_query(query: str, max_chars: int = MAX_QUERY_CHARS) -> str:
    """Collapse whitespace and cut to ``max_chars`` at a word boundary."""
    text = _SPACE.sub(" ", query).strip()
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars + 1]
    space = cut.rfind(" ")
    return cut[:space] if space > max_chars // 2 else text[:max_chars]


# Distinct filters whose allowed rows a loaded version remembers (grade x subject is a few dozen).
_FILTER_CACHE = 128


@dataclass(frozen=True, eq=False)
class _Live:
    """A loaded snapshot plus the per-row lookups searching needs."""

    snapshot: Snapshot
    session_of: tuple[str, ...]  # row -> session id
    session_ids: tuple[str, ...]  # the sessions, in the order ``session_index`` counts them
    session_index: np.ndarray  # row -> position in ``session_ids``
    allowed: dict[tuple, np.ndarray] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, snapshot: Snapshot) -> _Live:
        session_of = tuple(c.session_id for c in snapshot.chunks)
        ids = tuple(snapshot.sessions)
        position = {sid: i for i, sid in enumerate(ids)}
        index = np.fromiter((position[sid] for sid in session_of), np.int32, len(session_of))
        return cls(snapshot, session_of, ids, index)

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """Rows whose session passes ``filters``; None when nothing is filtered.

        Worked out once per distinct filter per loaded version (sorted row numbers).
        """
        if filters is None or filters.is_empty():
            return None
        key = (tuple(filters.grade_bands), tuple(filters.subjects), tuple(filters.tags))
        rows = self.allowed.get(key)
        if rows is None:
            sessions = self.snapshot.sessions
            passing = np.array([_passes(sessions[sid], filters) for sid in self.session_ids],
                               dtype=bool)  # fmt: skip
            rows = np.flatnonzero(passing[self.session_index]) if len(passing) else passing
            rows = rows.astype(np.int64)
            if len(self.allowed) >= _FILTER_CACHE:
                self.allowed.clear()
            self.allowed[key] = rows
        return rows


# A session for "All subjects" belongs in a Math teacher's filtered results too.
_EVERYONE = frozenset({"all", "all subjects", "all grades", "k-12"})


def _passes(meta: SessionMeta, filters: Filters) -> bool:
    def ok(wanted: tuple[str, ...], have: tuple[str, ...]) -> bool:
        if not wanted:
            return True
        have_folded = {h.casefold().strip() for h in have}
        if have_folded & _EVERYONE:
            return True
        return any(w.casefold().strip() in have_folded for w in wanted)

    return (
        ok(filters.grade_bands, meta.grade_bands)
        and ok(filters.subjects, meta.subjects)
        and ok(filters.tags, meta.tags)
    )


class Searcher:
    """Answers queries from the live version under ``index_root``.

    Each search re-reads the tiny CURRENT file (at most every ``refresh_s``); a new version is
    loaded completely before it replaces the old one, so searches in flight finish on the old.
    """

    def __init__(
        self,
        index_root: Path,
        embedder: Embedder,
        *,
        threshold: float | None = None,
        config: RankConfig | None = None,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
        reranker: Reranker | None = None,
        rerank_candidates: int = DEFAULT_CANDIDATES,
    ) -> None:
        self.root = IndexRoot(index_root)
        self.embedder = embedder
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.config = config or RankConfig()
        self.reranker = reranker
        self.rerank_candidates = max(1, int(rerank_candidates))
        self._clearances = Clearances(self.root.path)
        self._withheld: tuple[str, frozenset[str]] = ("", frozenset())
        self._refresh_s = refresh_s
        self._clock = clock
        self._live: _Live | None = None
        self._checked_at = -float("inf")
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """The version searched now ("" before the first load)."""
        live = self._live
        return live.snapshot.version if live else ""

    def refresh(self, *, force: bool = False) -> bool:
        """Swap to the published version if it changed; True when a swap happened."""
        now = self._clock()
        if not force and self._live is not None and now - self._checked_at < self._refresh_s:
            return False
        with self._lock:
            self._checked_at = now
            version = self.root.current_version()
            if version is None:
                if self._live is None:
                    raise IndexError_(
                        "There is no index yet.", hint="Run `staffroom ingest PATH` first."
                    )
                return False
            if self._live is not None and self._live.snapshot.version == version:
                return False
            try:
                snapshot = self._load(version)
            except IndexError_:
                if self._live is None:
                    raise
                log.exception("index %s is unusable; still serving %s", version, self.version)
                return False
            self._live = _Live.of(snapshot)
            log.info("now searching index %s", version)
            return True

    def _load(self, version: str) -> Snapshot:
        try:
            snapshot = Snapshot.load(self.root.path / version)
        except IndexError_:
            # Publishers prune old versions: if a newer one appeared meanwhile, load that.
            newer = self.root.current_version()
            if newer is None or newer == version:
                raise
            snapshot = Snapshot.load(self.root.path / newer)
        self._check_model(snapshot)
        return snapshot

    def _check_model(self, snapshot: Snapshot) -> None:
        check_model(snapshot.info, self.embedder)

    def sessions(self) -> tuple[SessionMeta, ...]:
        """Every session of the version searched now (loaded first if need be)."""
        return tuple(self._loaded().snapshot.sessions.values())

    def info(self) -> IndexInfo:
        """The version searched now, after swapping to a newer published one if there is one.

        Raises ``IndexError_`` when there is no usable index (what readiness checks).
        """
        self.refresh(force=True)
        return self._loaded().snapshot.describe()

    def _loaded(self) -> _Live:
        self.refresh()
        live = self._live
        assert live is not None  # refresh raised otherwise
        return live

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        prefer: Hints | None = None,
        exclude: Iterable[str] = (),
    ) -> SearchResponse:
        """The ``k`` best sessions for ``query``, each with its best moments.

        ``prefer`` nudges sessions for the grades/subjects it names up (never a filter);
        ``exclude`` leaves out sessions already shown ("another one").
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        text = normalise_query(query)
        if not text:
            raise InputError("Ask a question, e.g. 'how do I run exit tickets?'")
        started = time.perf_counter()
        live = self._loaded()
        timings: dict[str, float] = {}
        ranked, vector = self._rank(
            live, text, max(k, 0), filters, mode, timings, prefer, frozenset(exclude)
        )
        timings["total"] = (time.perf_counter() - started) * 1000
        match = max((r.match for r, _ in ranked), default=0.0)
        return SearchResponse(
            query=text,
            results=tuple(result for _, result in ranked),
            good_match=bool(ranked) and match >= self.threshold,
            threshold=self.threshold,
            index_version=live.snapshot.version,
            timings_ms=timings,
            vector=vector,
        )

    def _rank(
        self,
        live: _Live,
        text: str,
        k: int,
        filters: Filters | None,
        mode: Mode,
        timings: dict[str, float],
        prefer: Hints | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> tuple[list[tuple[SessionRank, SessionResult]], np.ndarray | None]:
        """The ranked sessions, and the query's vector (None when nothing was searched)."""
        snap, cfg = live.snapshot, self.config
        allowed = live.allowed_rows(filters)
        if k == 0 or not snap.chunks or (allowed is not None and len(allowed) == 0):
            return [], None
        clock = time.perf_counter()
        # Embedded in every mode: the cosine is part of "good match" even for keyword ranking.
        query_vec = self.embedder.embed_queries([text])[0]
        timings["embed"] = (time.perf_counter() - clock) * 1000
        candidates: set[int] = set()
        if mode != "lexical":
            clock = time.perf_counter()
            hits = snap.vector_index.search(query_vec, cfg.candidates, subset=allowed)[0]
            candidates.update(row for row, _ in hits)
            timings["dense"] = (time.perf_counter() - clock) * 1000

        clock = time.perf_counter()
        raw = snap.lexical.scores(text)
        scale = snap.lexical.coverage_scale(text)
        if mode != "dense":
            masked = raw if allowed is None else _mask(raw, allowed)
            # argpartition, not a full sort: at 100k chunks sorting every score costs ~8 ms
            n = min(cfg.candidates, len(masked))
            top = np.argpartition(-masked, n - 1)[:n] if 0 < n < len(masked) else np.arange(len(masked))
            candidates.update(int(r) for r in top if masked[r] > 0)
        timings["lexical"] = (time.perf_counter() - clock) * 1000

        clock = time.perf_counter()
        rows = np.array(sorted(candidates), dtype=np.int64)
        if len(rows) == 0:
            return [], query_vec
        dense = snap.vector_index.reconstruct(rows) @ query_vec
        coverage = raw[rows] / scale if scale > 0 else np.zeros(len(rows), dtype=np.float32)
        ranked = rank_sessions(rows, dense, coverage, live.session_of, mode, cfg)
        if exclude:  # before a re-ranker spends its candidates on them
            ranked = adjust(ranked, snap.sessions, exclude=exclude)
        rerank_ms = 0.0
        if self.reranker is not None and ranked:
            started = time.perf_counter()
            ranked = self._rerank(snap, text, ranked, max(k, self.rerank_candidates))
            rerank_ms = timings["rerank"] = (time.perf_counter() - started) * 1000
        if prefer:
            ranked = adjust(ranked, snap.sessions, prefer)
        idf = snap.lexical.idf(snap.lexical.query_terms(text))
        withheld = self._withheld_sources(snap)
        results = [(r, self._result(snap, r, idf, withheld)) for r in ranked[:k]]
        timings["fuse"] = (time.perf_counter() - clock) * 1000 - rerank_ms
        return results, query_vec

    def _rerank(
        self, snap: Snapshot, text: str, ranked: list[SessionRank], candidates: int
    ) -> list[SessionRank]:
        """The first ``candidates`` sessions in the reranker's order of their best passages."""
        assert self.reranker is not None
        head = ranked[:candidates]
        passages = []
        for rank in head:
            chunk = snap.chunks[rank.rows[0]]
            passages.append(index_text(chunk, snap.sessions[chunk.session_id]))
        scores = self.reranker.score(text, passages)
        order = sorted(range(len(head)), key=lambda i: (-scores[i], i))
        return [dataclasses.replace(head[i], score=float(scores[i])) for i in order]

    def _withheld_sources(self, snap: Snapshot) -> frozenset[str]:
        """Files with flagged passages that no admin has cleared (re-read when cleared)."""
        if not (snap.info.get("flags") or {}).get("files"):
            return frozenset()  # nothing flagged (or an index built before flagging)
        cleared = self._clearances.read()
        key = f"{snap.version}|{sorted(cleared.items())}"
        if self._withheld[0] != key:
            self._withheld = (key, withheld_sources(flags_of(snap.info) or {}, cleared))
        return self._withheld[1]

    def _result(
        self,
        snap: Snapshot,
        rank: SessionRank,
        idf: dict[str, float],
        withheld: frozenset[str] = frozenset(),
    ) -> SessionResult:
        moments = []
        for row, score in moment_rows(rank, self.config):
            chunk = snap.chunks[row]
            hidden = bool(chunk.flags) and chunk.source in withheld
            moments.append(
                Moment(
                    chunk_id=chunk.chunk_id,
                    source=chunk.source,
                    snippet="" if hidden else snippet(chunk.text, idf, stem=snap.lexical.stem),
                    score=float(score),
                    start=chunk.start,
                    end=chunk.end,
                    heading=chunk.heading,
                    page=chunk.page,
                    withheld=hidden,
                )
            )
        return SessionResult(
            snap.sessions[rank.session_id], rank.score, tuple(moments), match=rank.match
        )


def _mask(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    out = np.zeros_like(scores)
    out[allowed] = scores[allowed]
    return out
