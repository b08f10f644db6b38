"""Publishing a changed index at scale: extend the live version vs rebuild it; query speed.

    python bench/index_publish.py               # 100k chunks, 3 runs each (~20 min on 2 cores)
    python bench/index_publish.py --size 20000 --runs 1 --queries 60   # a quick look

Parts, each in its own process (so each peak RSS is its own):
  build    a synthetic library (bench/_common.py: teaching-vocabulary text, clustered unit
           vectors around real embeddings; embedding 100k chunks would take hours), published
           with a full ``write_snapshot``
  publish  what ``staffroom ingest`` does after a change, from the index on: load the live
           version, change 1 (then 100) files' chunks (new text, new vectors), write the new
           version extending the live one and publish it; then the same content as a full
           rebuild, for comparison. Embedding, scanning and parsing are not part of it.
  query    the real Searcher + real model, warm: unfiltered and filtered (grade 6-8; subject
           Math) p50/p95 over the questions of examples/library/queries.yaml, on the extended
           index (dead rows included) and on the fully rebuilt one
  e2e      ``ingest.build_index`` end to end on size/40 Markdown files (40 chunks each) with an
           instant stand-in embedder: the first build, then a one-line change to one file
Prints a table and writes bench/out/index_publish.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import (  # noqa: E402
    finish,
    load_queries,
    machine,
    peak_rss_mb,
    rss_mb,
    spawn_worker,
    summary,
    synthetic_library,
    table,
    topic_texts,
    vocabulary,
)

LIBRARY = ROOT / "examples" / "library"
QUERIES = LIBRARY / "queries.yaml"
TRANSCRIPTS = Path(os.environ.get("STAFFROOM_TRANSCRIPTS", "/work/shared/bench/transcripts"))
OUT = ROOT / "bench" / "out" / "index_publish.json"
N_CENTRES = 256


def _embedder() -> Any:
    from retrieval.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(device="cpu")


def worker_build(size: int, data: Path) -> dict[str, Any]:
    """A synthetic library of ``size`` chunks, published with a full build."""
    from retrieval.snapshot import IndexRoot, write_snapshot

    embedder = _embedder()
    centres_file = data.parent / "centres.npz"
    if not centres_file.is_file():
        answerable = [q for q, ok in load_queries(QUERIES) if ok]
        np.savez(centres_file, centres=embedder.embed_documents(topic_texts(N_CENTRES)),
                 answers_for=embedder.embed_queries(answerable))
    saved = np.load(centres_file)
    words, probs = vocabulary([LIBRARY, TRANSCRIPTS])
    lib = synthetic_library(size, saved["centres"], words, probs, answers_for=saved["answers_for"])
    root = IndexRoot(data / "index")
    build = root.new_build_dir()
    info = {"model": embedder.name, "dim": int(lib.vectors.shape[1]), "synthetic": True}
    started = time.perf_counter()
    write_snapshot(build, chunks=lib.chunks, vectors=lib.vectors, sessions=lib.sessions,
                   files={}, info=info)
    root.publish(build)
    return {"chunks": len(lib.chunks), "sessions": len(lib.sessions),
            "full_build_s": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(peak_rss_mb())}


def _changed(snap: Any, files: int, rng: np.random.Generator) -> tuple[list, np.ndarray]:
    """The live chunks with ``files`` sources' chunks rewritten, and their vectors."""
    chunks, vectors = list(snap.chunks), np.array(snap.vectors)
    sources = sorted({c.source for c in chunks})
    picked = set(rng.choice(len(sources), size=files, replace=False).tolist())
    doomed = {sources[i] for i in picked}
    stamp = int(rng.integers(1 << 30))
    for row, chunk in enumerate(chunks):
        if chunk.source in doomed:
            words = chunk.text.split()
            rng.shuffle(words)
            chunks[row] = replace(chunk, text=f"Revised {stamp}: " + " ".join(words))
            moved = vectors[row] + rng.standard_normal(vectors.shape[1]).astype(np.float32) * 0.05
            vectors[row] = moved / np.linalg.norm(moved)
    return chunks, vectors


def worker_publish(data: Path, files: int, runs: int, full_runs: int) -> dict[str, Any]:
    """Extend the live version after changing ``files`` files, ``runs`` times; full rebuilds."""
    from retrieval.snapshot import IndexRoot, Snapshot, write_snapshot

    root = IndexRoot(data / "index")
    rng = np.random.default_rng(files)
    out: dict[str, list[float]] = defaultdict(list)
    for kind, count in (("extend", runs), ("full", full_runs)):
        for _ in range(count):
            started = time.perf_counter()
            live = Snapshot.load(root.current())  # type: ignore[arg-type]
            out["load_live_s"].append(time.perf_counter() - started)
            chunks, vectors = _changed(live, files, rng)
            build = root.new_build_dir()
            started = time.perf_counter()
            write_snapshot(build, chunks=chunks, vectors=vectors, sessions=live.sessions,
                           files={}, info=dict(live.info),
                           base=live if kind == "extend" else None)  # fmt: skip
            root.publish(build)
            out[f"{kind}_publish_s"].append(time.perf_counter() - started)
            meta = Snapshot.load(root.current()).info["snapshot"]  # type: ignore[arg-type]
            out[f"{kind}_added"].append(meta["added"])
            out[f"{kind}_dead"].append(meta["slots"] - meta["chunks"])
            assert meta["index_build"] == ("extended" if kind == "extend" else "full"), meta
            del live
            root.prune(keep=2)
    result: dict[str, Any] = {k: [round(v, 2) for v in vs] for k, vs in out.items()}
    for key in ("load_live_s", "extend_publish_s", "full_publish_s"):
        if out[key]:
            result[key.replace("_s", "_median_s")] = round(statistics.median(out[key]), 2)
    result["peak_rss_mb"] = round(peak_rss_mb())
    return result


def worker_query(data: Path, n_queries: int) -> dict[str, Any]:
    """Warm latency of the real Searcher with the real model, filtered and not; RSS."""
    from retrieval.search import Searcher
    from retrieval.types import Filters

    base_rss = rss_mb()
    embedder = _embedder()
    embedder.embed_queries(["warm up the model"])
    model_rss = rss_mb()
    started = time.perf_counter()
    searcher = Searcher(data / "index", embedder)
    info = searcher.info()
    load_s, index_rss = time.perf_counter() - started, rss_mb()
    queries = [q for q, _ in load_queries(QUERIES)]
    cases = {"unfiltered": None, "grade 6-8": Filters(grade_bands=("6-8",)),
             "subject Math": Filters(subjects=("Math",))}
    for q in queries[:5]:
        for filters in cases.values():
            searcher.search(q, k=5, filters=filters)
    walls: dict[str, list[float]] = defaultdict(list)
    for i in range(n_queries):  # interleaved, so a busy moment hits every case alike
        for name, filters in cases.items():
            began = time.perf_counter()
            response = searcher.search(queries[i % len(queries)], k=5, filters=filters)
            walls[name].append((time.perf_counter() - began) * 1000)
            walls[f"{name} without embedding"].append(walls[name][-1] - response.timings_ms["embed"])
    meta = json.loads((Path(info.path) / "info.json").read_text())["snapshot"]
    return {"index": {k: meta.get(k) for k in ("chunks", "slots", "index_build", "vector_index")},
            "index_load_s": round(load_s, 2), "latency_ms": {k: summary(v) for k, v in walls.items()},
            "rss_mb": {"start": round(base_rss), "model": round(model_rss),
                       "model+index": round(index_rss), "peak": round(peak_rss_mb())}}


class _HashEmbedder:
    """Instant stand-in for the model (a unit vector seeded by the text): embedding 100k chunks
    with the real one would take hours, and publish time does not depend on what vectors mean."""

    name, dim, max_tokens, fingerprint = "bench-hashed", 384, 256, "bench"

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t.split()) * 13 // 10 for t in texts]  # ~1.3 word pieces per word

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        import zlib

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    embed_queries = embed_documents


def worker_e2e(work: Path, files: int, runs: int) -> dict[str, Any]:
    """``build_index`` end to end on a library of ``files`` Markdown files; then 1-file changes."""
    from ingest import build_index

    library, index = work / "library", work / "index"
    words, probs = vocabulary([LIBRARY, TRANSCRIPTS])
    rng = np.random.default_rng(3)
    for i in range(files):
        parts = [f"# Session {i}\n"]
        for p in range(40):
            parts.append(f"## Part {p}\n\n" + " ".join(rng.choice(words, 90, p=probs)) + ".\n")
        path = library / f"s{i // 100:03d}" / f"session-{i:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(parts), encoding="utf-8")
    embedder = _HashEmbedder()
    started = time.perf_counter()
    first = build_index(library, index, embedder)  # type: ignore[arg-type]
    out: dict[str, Any] = {"files": files, "chunks": first.chunks,
                           "first_build_s": round(time.perf_counter() - started, 2), "runs": []}
    for run in range(runs):
        path = library / "s000" / f"session-{run:05d}.md"
        path.write_text(path.read_text(encoding="utf-8") + f"\n## Added {run}\n\nA new tip.\n",
                        encoding="utf-8")
        summary = build_index(library, index, embedder)  # type: ignore[arg-type]
        out["runs"].append(round(summary.seconds, 2))
    out["one_file_median_s"] = round(statistics.median(out["runs"]), 2)
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out


def _spawn(kind: str, work: Path, *extra: str) -> dict[str, Any]:
    result = work / f"{kind}-{time.monotonic_ns()}.json"
    return spawn_worker(__file__, kind, result, *extra, cwd=ROOT, timeout=3600)


def report(res: dict[str, Any]) -> str:
    rows = [("chunks / sessions", f"{res['build']['chunks']:,} / {res['build']['sessions']:,}", "")]
    rows.append(("first full build (write_snapshot)", f"{res['build']['full_build_s']} s", ""))
    for files, part in res["publish"].items():
        rows.append((f"publish after changing {files} file(s), extended",
                     f"{part['extend_publish_median_s']} s (runs {part['extend_publish_s']})",
                     f"{part['extend_added'][0]} chunks added"))
        if part.get("full_publish_s"):
            rows.append(("same change, full rebuild", f"{part['full_publish_median_s']} s "
                         f"(runs {part['full_publish_s']})", ""))
        rows.append((f"  load live version ({files})", f"{part['load_live_median_s']} s",
                     f"publish peak RSS {part['process']['peak_rss_mb']} MiB"))
    for name, q in res["query"].items():
        for case, lat in q["latency_ms"].items():
            rows.append((f"{name}: {case} p50 / p95", f"{lat['p50']} / {lat['p95']} ms", ""))
        rows.append((f"{name}: RSS model / model+index / peak",
                     " / ".join(str(q["rss_mb"][k]) for k in ("model", "model+index", "peak")),
                     f"{q['index']}"))
    e2e = res.get("e2e")
    if e2e:
        rows.append((f"build_index, {e2e['files']:,} files / {e2e['chunks']:,} chunks: first",
                     f"{e2e['first_build_s']} s", f"peak RSS {e2e['process']['peak_rss_mb']} MiB"))
        rows.append(("build_index after changing 1 file", f"{e2e['one_file_median_s']} s",
                     f"runs {e2e['runs']}"))
    return table("Publish and query at scale", rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="synthetic chunks")
    parser.add_argument("--runs", type=int, default=3, help="publishes per change size")
    parser.add_argument("--full-runs", type=int, default=3, help="full rebuilds for comparison")
    parser.add_argument("--queries", type=int, default=200, help="timed searches per case")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON results file")
    parser.add_argument("--workdir", type=Path, help="keep the index here (default: a temp dir)")
    for hidden in ("--worker", "--result", "--dir", "--files"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        data = Path(args.dir)
        if args.worker == "build":
            result = worker_build(args.size, data)
        elif args.worker == "publish":
            result = worker_publish(data, int(args.files), args.runs, args.full_runs)
        elif args.worker == "e2e":
            result = worker_e2e(data, int(args.files), args.runs)
        else:
            result = worker_query(data, args.queries)
        Path(args.result).write_text(json.dumps(result), encoding="utf-8")
        return 0

    work = args.workdir or Path(tempfile.mkdtemp(prefix="staffroom-publish-"))
    data = work / "data"
    started = time.perf_counter()
    res: dict[str, Any] = {"machine": machine(), "size": args.size, "publish": {}, "query": {}}
    try:
        print(f"build: {args.size:,} synthetic chunks ...", file=sys.stderr)
        res["build"] = _spawn("build", work, "--size", str(args.size), "--dir", str(data))
        for files in (1, 100):
            print(f"publish: {files} file(s) changed ...", file=sys.stderr)
            extend_only = ("--full-runs", "0") if files == 1 else ("--full-runs", str(args.full_runs))
            res["publish"][str(files)] = _spawn("publish", work, "--dir", str(data), "--files",
                                                str(files), "--runs", str(args.runs), *extend_only)
        print("query: the fully rebuilt index ...", file=sys.stderr)
        res["query"]["full"] = _spawn("query", work, "--dir", str(data),
                                      "--queries", str(args.queries))
        print("publish + query: the extended index ...", file=sys.stderr)
        _spawn("publish", work, "--dir", str(data), "--files", "100", "--runs", "1",
               "--full-runs", "0")
        res["query"]["extended"] = _spawn("query", work, "--dir", str(data),
                                          "--queries", str(args.queries))
        print("e2e: staffroom's build_index on Markdown files, 1-file changes ...", file=sys.stderr)
        res["e2e"] = _spawn("e2e", work, "--dir", str(work / "e2e"),
                            "--files", str(args.size // 40), "--runs", str(args.runs))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return finish(res, report(res), args.out, started)


if __name__ == "__main__":
    sys.exit(main())
