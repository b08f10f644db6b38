"""Pure ranking maths: turn per-chunk dense and keyword scores into ranked sessions.

Evidence is gathered per session, not per chunk: a session's dense evidence is its best chunk's
cosine and its keyword evidence its best chunk's keyword coverage, possibly from different
chunks (one passage may paraphrase the question while another names its terms). Both are on
absolute scales, so the fused score means the same for every query and can carry the "no good
match" threshold. bench/quality.py measures each choice against the alternatives kept here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class RankConfig:
    """Knobs of the ranking; the defaults are the measured choices (bench/quality.py)."""

    # "session": fuse each session's best cosine and best coverage (default);
    # "chunk": fuse per chunk, then take each session's best chunk;
    # "rrf": reciprocal-rank fusion of the sessions' dense and keyword ranks (rank-only score).
    fusion: Literal["session", "chunk", "rrf"] = "session"
    # Hybrid score = (cosine + w * coverage) / (1 + w). Coverage varies about half as much as
    # cosine across sessions, so w > 1 gives the two comparable say.
    lexical_weight: float = 1.5
    rrf_k: int = 60
    # Chunks each method nominates (union); sessions none of whose chunks are nominated drop.
    candidates: int = 200
    # Adds support_weight * (mean of the next ``support_chunks`` chunk scores) to a session: one
    # that covers the question in several places beats a passing mention.
    support_weight: float = 0.3
    support_chunks: int = 2
    # Keyword share of the "good match" score. 0 = the best chunk cosine alone. m=0.5 separated
    # the sample library's answerable and off-topic questions a little better (ROC AUC 0.969
    # vs 0.945, only 10 off-topic questions) but kept fewer devset questions at equal
    # rejection: long queries dilute coverage. Cosine alone does not depend on query length.
    match_lexical_weight: float = 0.0
    # Moments: at most this many chunks per session, each within ``moment_margin`` of the best.
    max_moments: int = 3
    moment_margin: float = 0.05


@dataclass(frozen=True)
class SessionRank:
    """One session's score and its candidate rows, best chunk first."""

    session_id: str
    score: float
    rows: tuple[int, ...]
    chunk_scores: tuple[float, ...]
    match: float  # (best cosine + m * best coverage) / (1 + m): what "good match" is judged on


def chunk_scores(dense: np.ndarray, coverage: np.ndarray, mode: Mode, cfg: RankConfig) -> np.ndarray:
    """Per-chunk scores on the same scale as session scores (used for moments)."""
    if mode == "dense":
        return dense.astype(np.float64)
    if mode == "lexical":
        return coverage.astype(np.float64)
    w = cfg.lexical_weight
    return (dense + w * coverage) / (1.0 + w)


def rank_sessions(
    rows: np.ndarray,
    dense: np.ndarray,
    coverage: np.ndarray,
    session_of: Sequence[str],
    mode: Mode,
    cfg: RankConfig,
) -> list[SessionRank]:
    """Rank the sessions of the candidate ``rows`` (dense/coverage aligned with rows)."""
    per_chunk = chunk_scores(dense, coverage, mode, cfg)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows.tolist()):
        groups.setdefault(session_of[row], []).append(i)
    sids = list(groups)
    best_dense = np.array([dense[groups[s]].max() for s in sids], dtype=np.float64)
    best_cov = np.array([coverage[groups[s]].max() for s in sids], dtype=np.float64)
    if mode == "dense":
        scores = best_dense
    elif mode == "lexical":
        scores = best_cov
    elif cfg.fusion == "rrf":
        scores = _rrf(best_dense, cfg.rrf_k) + _rrf(best_cov, cfg.rrf_k)
    elif cfg.fusion == "chunk":
        scores = np.array([per_chunk[groups[s]].max() for s in sids])
    else:
        w = cfg.lexical_weight
        scores = (best_dense + w * best_cov) / (1.0 + w)
    ranked = []
    m = cfg.match_lexical_weight
    matches = ((best_dense + m * best_cov) / (1.0 + m)).tolist()
    for sid, score, match in zip(sids, scores.tolist(), matches, strict=True):
        idx = sorted(groups[sid], key=lambda i: (-per_chunk[i], int(rows[i])))
        ordered = [float(per_chunk[i]) for i in idx]
        support = ordered[1 : 1 + cfg.support_chunks]
        if cfg.support_weight and support:
            score += cfg.support_weight * sum(support) / cfg.support_chunks
        rows_out = tuple(int(rows[i]) for i in idx)
        ranked.append(SessionRank(sid, float(score), rows_out, tuple(ordered), float(match)))
    ranked.sort(key=lambda r: (-r.score, r.session_id))
    return ranked


def _rrf(scores: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def moment_rows(rank: SessionRank, cfg: RankConfig) -> list[tuple[int, float]]:
    """The session's best 1-``max_moments`` chunks: the best, plus close runners-up."""
    best = rank.chunk_scores[0]
    picked = [
        (row, score)
        for row, score in zip(rank.rows, rank.chunk_scores, strict=True)
        if best - score <= cfg.moment_margin * max(abs(best), 1e-9)
    ]
    return picked[: cfg.max_moments]
