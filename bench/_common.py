"""Helpers for the benchmarks: percentiles, child processes with their peak memory, tables,
approximate-vs-exact index checks, and a synthetic session library for speed runs."""

from __future__ import annotations

import json
import math
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from retrieval.types import Chunk, SessionMeta


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean / max, rounded for a report."""
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "mean": round(statistics.fmean(values), 2),
        "max": round(max(values), 2),
        "n": len(values),
    }


def rss_mb() -> float:
    """This process's resident memory now (Linux /proc), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: wall seconds, peak RSS, CPU seconds, exit code, output."""

    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    returncode: int
    stdout: str
    stderr: str


def run_child(
    cmd: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> ChildRun:
    """Run ``cmd``, timing it from spawn to exit; its own peak RSS comes from wait4."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            open(os.devnull, "rb") as stdin:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env) if env is not None else None, stdin=stdin,
            stdout=out, stderr=err, text=True,
        )
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            # wait4 rather than Popen.wait: it also returns the child's own rusage, where
            # RUSAGE_CHILDREN would only give the largest child so far.
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            wall_s=wall,
            peak_rss_mb=usage.ru_maxrss / 1024,
            cpu_s=usage.ru_utime + usage.ru_stime,
            returncode=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
        )


def spawn_worker(
    script: str, kind: str, result: Path, *extra: str, cwd: Path, timeout: float
) -> dict[str, Any]:
    """Run ``script --worker kind`` in a fresh process: its JSON result plus its wall time, peak
    RSS and CPU seconds (the speed benchmarks' workers)."""
    cmd = [sys.executable, script, "--worker", kind, "--result", str(result), *extra]
    run = run_child(cmd, cwd=cwd, timeout=timeout)
    if run.returncode != 0:
        raise SystemExit(f"{kind} worker failed ({run.returncode}):\n{run.stderr[-3000:]}")
    out = json.loads(result.read_text(encoding="utf-8"))
    out["process"] = {"wall_s": round(run.wall_s, 2), "peak_rss_mb": round(run.peak_rss_mb),
                      "cpu_s": round(run.cpu_s, 1)}
    return out


def finish(res: dict[str, Any], text: str, out: Path, started: float) -> int:
    """Close a benchmark run: the load at the end, the total time, the report and its JSON."""
    res["machine"]["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    res["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(text)
    print(f"\n({res['bench_seconds']} s in all; JSON in {out})")
    write_json(out, res)
    return 0


def load_queries(path: Path) -> list[tuple[str, bool]]:
    """(question, answerable) from a queries.yaml (``[{q, sessions}]``; no sessions: off-topic)."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        (str(row["q"]), bool(row.get("sessions")))
        for row in rows
        if isinstance(row, dict) and row.get("q")
    ]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:  # pragma: no cover - torch is a dependency
        threads = 0
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch_threads": threads,
        "loadavg_1m": round(load[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def table(title: str, rows: Sequence[tuple[str, str, str]]) -> str:
    """A plain three-column table: figure, value, target/comment."""
    width = max((len(r[0]) for r in rows), default=10)
    vwidth = max((len(r[1]) for r in rows), default=8)
    lines = [title, "-" * len(title)]
    for name, value, note in rows:
        lines.append(f"  {name:<{width}}  {value:>{vwidth}}  {note}".rstrip())
    return "\n".join(lines)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --- index checks ---------------------------------------------------------------------------


def recall_vs_exact(snap: Any, queries: np.ndarray, k: int) -> dict[str, float]:
    """Share of the exact top ``k`` the vector index returns, and the cosine it gives up."""
    k = min(k, len(snap.vectors))
    scores = queries @ snap.vectors.T
    exact = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    approx = snap.vector_index.search(queries, k)
    hits, lost = [], []
    for row, want, got in zip(scores, exact, approx, strict=True):
        hits.append(len(set(want.tolist()) & {r for r, _ in got}) / k)
        lost.append(float(row[want].mean()) - float(np.mean([c for _, c in got] or [0.0])))
    return {"recall": round(float(np.mean(hits)), 4),
            "mean_cosine_lost": round(float(np.mean(lost)), 4)}


def cosine_profile(vectors: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """Mean exact cosine of the 1st, 10th, 50th and 200th chunk: how peaked the answers are."""
    ranked = -np.sort(-(queries @ vectors.T), axis=1)
    return {f"rank{r}": round(float(ranked[:, min(r, ranked.shape[1]) - 1].mean()), 3)
            for r in (1, 10, 50, 200)}


def time_index_builds() -> dict[str, float]:
    """Time the vector and keyword index builds inside write_snapshot (this process only)."""
    from retrieval.lexical import LexicalIndex
    from retrieval.vector import VectorIndex

    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - began

        return wrapper

    VectorIndex.build = staticmethod(timed("vector_build", VectorIndex.build))  # type: ignore[method-assign]
    VectorIndex.save = timed("vector_save", VectorIndex.save)  # type: ignore[method-assign]
    LexicalIndex.build = staticmethod(timed("lexical_build", LexicalIndex.build))  # type: ignore[method-assign]
    LexicalIndex.save = timed("lexical_save", LexicalIndex.save)  # type: ignore[method-assign]
    return spent


# --- a synthetic session library -----------------------------------------------------------
# Teaching words that seed session topics and metadata; the bulk of each chunk's words comes
# from the word frequencies of real transcripts read at run time (see ``vocabulary``).
PRACTICES = (
    "exit tickets", "station rotation", "entry routines", "tiered tasks", "math talk moves",
    "reading conferences", "sel check-ins", "feedback and revision", "co-teaching",
    "family communication", "language scaffolds", "restorative circles", "project-based learning",
    "retrieval practice", "wait time", "claim evidence reasoning", "think-pair-share",
    "jigsaw groups", "number talks", "guided reading", "writing workshop", "peer assessment",
    "socratic seminar", "gallery walk", "learning targets", "success criteria", "cold calling",
    "hinge questions", "worked examples", "interleaved practice", "vocabulary instruction",
    "classroom norms", "attendance nudges", "de-escalation", "behavior contracts",
    "universal design for learning", "accommodations", "small-group intervention",
)
SUBJECTS = ("Math", "ELA", "Science", "Social Studies", "Art", "Music", "PE", "World Languages",
            "Computer Science", "All subjects")
GRADE_BANDS = ("K-2", "3-5", "6-8", "9-12")
TAGS = ("formative assessment", "classroom management", "differentiation", "engagement",
        "literacy", "numeracy", "multilingual learners", "special education", "technology",
        "student discourse", "feedback", "relationships", "planning", "grading", "homework")
TOPIC_NOUNS = (
    "students", "rubric", "quiz", "warm-up", "small group", "timer", "anchor chart", "sentence "
    "frames", "misconceptions", "data", "regrouping", "transitions", "notebooks", "partners",
    "questions", "evidence", "discussion", "routines", "parents", "conference", "goals",
    "checklist", "exemplar", "draft", "revision", "station", "chromebooks", "behavior", "praise",
)
_TEXT_SUFFIXES = {".md", ".txt", ".vtt", ".srt", ".html", ".htm"}
_CUE_LINE = re.compile(r"^\s*(\d+|WEBVTT.*|NOTE\b.*|[\d:.,]+\s*-->.*)\s*$")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[a-z][a-z']*[a-z]|[a-z]")


def vocabulary(
    folders: Sequence[Path], tail_words: int = 50_000
) -> tuple[np.ndarray, np.ndarray]:
    """Words and frequencies of the text files under ``folders``, plus a made-up rare tail."""
    counts: Counter[str] = Counter()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in _TEXT_SUFFIXES or not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
                if not _CUE_LINE.match(line):
                    counts.update(_WORD.findall(_TAG.sub(" ", line).lower()))
    for phrase in PRACTICES + TOPIC_NOUNS + tuple(t.lower() for t in TAGS):
        counts.update({w: 2 for w in _WORD.findall(phrase)})
    words, freqs = zip(*counts.most_common(), strict=True)
    # A big library has a long tail of rare words (names, places, jargon) that a small sample
    # lacks; Zipf's law continued past the sample's last rank stands in for it.
    tail = _pseudo_words(tail_words, exclude=set(words))
    ranks = np.arange(len(words) + 1, len(words) + len(tail) + 1, dtype=np.float64)
    tail_freqs = freqs[-1] * len(words) / ranks
    probs = np.concatenate([np.asarray(freqs, dtype=np.float64), tail_freqs])
    return np.asarray(list(words) + tail, dtype=object), probs / probs.sum()


def _pseudo_words(n: int, exclude: set[str], seed: int = 5) -> list[str]:
    """``n`` distinct pronounceable made-up words."""
    rng = random.Random(seed)
    onsets, vowels, codas = "bcdfghklmnprstvwz", "aeiou", ["", "n", "r", "l", "s", "t"]
    out: dict[str, None] = {}
    while len(out) < n:
        word = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
            for _ in range(rng.randint(2, 4))
        )
        if word not in exclude:
            out.setdefault(word)
    return list(out)


def topic_texts(n: int, seed: int = 11) -> list[str]:
    """Short teaching phrases whose real embeddings serve as the centres of vector clusters."""
    rng = random.Random(seed)
    return [
        f"{rng.choice(PRACTICES)} in {rng.choice(GRADE_BANDS)} {rng.choice(SUBJECTS)}: "
        f"{rng.choice(TOPIC_NOUNS)} and {rng.choice(TOPIC_NOUNS)}"
        for _ in range(n)
    ]


@dataclass(frozen=True)
class SyntheticLibrary:
    sessions: dict[str, SessionMeta]
    chunks: list[Chunk]
    vectors: np.ndarray


def synthetic_library(
    size: int, centres: np.ndarray, words: np.ndarray, probs: np.ndarray, *, seed: int = 7,
    per_session: int = 40, chunk_words: int = 200, answers_for: np.ndarray | None = None,
) -> SyntheticLibrary:
    """``size`` chunks of ~``chunk_words`` words in sessions of ``per_session`` chunks.

    Text: words drawn by their real frequencies, 15% swapped for the session's topic words.
    Vectors: unit vectors around real embeddings (``centres``): session = centre + noise,
    chunk = session + noise. Against that background alone a real question sees a flat wall of
    near-ties (its best and 200th chunk differ by ~0.08 cosine), unlike a real library where a
    few chunks answer it; so for each query vector in ``answers_for`` a few chunks are turned
    towards it, as real answers would be (see ``_plant_answers``).
    """
    rng = np.random.default_rng(seed)
    dim = centres.shape[1]
    content = np.flatnonzero(np.char.str_len(words.astype(str)) >= 5)[:4000]
    sessions: dict[str, SessionMeta] = {}
    chunks: list[Chunk] = []
    vectors = np.empty((size, dim), dtype=np.float32)
    n_sessions = -(-size // per_session)
    for s in range(n_sessions):
        sid = f"synthetic-{s:05d}"
        practice = PRACTICES[int(rng.integers(len(PRACTICES)))]
        subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
        bands = tuple(sorted(rng.choice(GRADE_BANDS, size=int(rng.integers(1, 3)), replace=False)))
        title = f"{practice.title()} in {subject} ({', '.join(bands)}) #{s}"
        sessions[sid] = SessionMeta(
            session_id=sid, title=title, presenter=f"Presenter {s % 97}",
            date=f"2025-{1 + s % 12:02d}-{1 + s % 28:02d}",
            url=f"https://pd.example.org/watch/{sid}", grade_bands=bands, subjects=(subject,),
            tags=tuple(rng.choice(TAGS, size=2, replace=False)), summary=f"About {practice}.",
        )
        first, last = s * per_session, min(size, (s + 1) * per_session)
        n = last - first
        topic = rng.choice(content, size=25, replace=False)
        idx = rng.choice(len(words), size=(n, chunk_words), p=probs)
        swap = rng.random((n, chunk_words)) < 0.15
        idx[swap] = rng.choice(topic, size=int(swap.sum()))
        for i in range(n):
            ordinal = i
            transcript = i < n * 3 // 4
            source = f"{sid}/recording.vtt" if transcript else f"{sid}/handout.md"
            if not transcript:
                ordinal = i - n * 3 // 4
            chunks.append(Chunk(
                chunk_id=f"{source}#{ordinal}", session_id=sid, source=source,
                text=_sentences(words[idx[i]].tolist(), rng),
                start=90.0 * i if transcript else None,
                end=90.0 * i + 95.0 if transcript else None,
                heading="" if transcript else f"{title} > Part {ordinal // 3 + 1}",
            ))
        centre = centres[int(rng.integers(len(centres)))]
        session_vec = _unit(centre + _noise(rng, 1, dim, 0.8))[0]
        vectors[first:last] = _unit(session_vec + _noise(rng, n, dim, 0.9))
    if answers_for is not None:
        _plant_answers(vectors, answers_for, per_session, rng)
    return SyntheticLibrary(sessions, chunks, vectors)


def _plant_answers(
    vectors: np.ndarray, queries: np.ndarray, per_session: int, rng: np.random.Generator
) -> None:
    """Turn 4-15 consecutive chunks of a random session towards each query, to cosines 0.40-0.68.

    That is the profile real questions have on the sample library's real chunks (best chunk
    ~0.52, 10th ~0.41, 50th ~0.31 on average).
    """
    size = len(vectors)
    for q in queries:
        n = min(int(rng.integers(4, 16)), per_session, size)
        first = int(rng.integers(0, max(1, size - n)))
        rows = vectors[first : first + n]
        side = rows - np.outer(rows @ q, q)  # each chunk's own direction, orthogonal to q
        side /= np.linalg.norm(side, axis=1, keepdims=True)
        cos = rng.uniform(0.40, 0.68, size=n).astype(np.float32)
        vectors[first : first + n] = _unit(cos[:, None] * q + np.sqrt(1 - cos**2)[:, None] * side)


def _noise(rng: np.random.Generator, n: int, dim: int, norm: float) -> np.ndarray:
    """Gaussian rows of expected length ``norm``."""
    return rng.standard_normal((n, dim)).astype(np.float32) * (norm / math.sqrt(dim))


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.atleast_2d(rows).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _sentences(tokens: list[str], rng: np.random.Generator) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        piece = tokens[i : i + int(rng.integers(6, 22))]
        i += len(piece)
        out.append(piece[0].capitalize() + (" " + " ".join(piece[1:]) if len(piece) > 1 else "") + ".")
    return " ".join(out)
