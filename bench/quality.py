"""Retrieval quality: nDCG@10, Recall@5 and MRR@10 of lexical, dense and hybrid search.

Sets, evaluated at the session level (ranked distinct session ids):
  library  examples/library/queries.yaml ({q, sessions}; an empty list marks an off-topic query)
  devset   /work/shared/bench/devset (or $STAFFROOM_DEVSET): evaluation only, never copied here

    python bench/quality.py                   # both sets, table + bench/out/quality.json
    python bench/quality.py --set devset --variants   # ablations of the ranking choices
    python bench/quality.py --calibrate       # score distributions behind DEFAULT_THRESHOLD
    python bench/quality.py --hnsw            # HNSW recall@10 vs exact on synthetic data
    python bench/quality.py --rerank FOLDER   # also hybrid + a CrossEncoder re-ranker

Indexes are built with the product pipeline (``ingest.pipeline.build_index``) when it exists,
else with a simple heading-aware chunker. Embeddings are cached under /tmp between runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from retrieval.embedder import SentenceTransformerEmbedder  # noqa: E402
from retrieval.ranking import MODES, RankConfig  # noqa: E402
from retrieval.search import DEFAULT_THRESHOLD, Searcher  # noqa: E402
from retrieval.types import Chunk, SessionMeta  # noqa: E402

DEVSET = Path(os.environ.get("STAFFROOM_DEVSET", "/work/shared/bench/devset"))
LIBRARY = ROOT / "examples" / "library"
OUT = ROOT / "bench" / "out"
CACHE = Path(tempfile.gettempdir()) / "staffroom-bench-embeddings"


@dataclass(frozen=True)
class Query:
    qid: str
    text: str
    relevant: frozenset[str]  # empty: off-topic, the right answer is "no good match"


# --- embedding cache ----------------------------------------------------------------------


class CachingEmbedder:
    """Wraps an embedder with an on-disk cache keyed by model name and text (bench only)."""

    def __init__(self, inner: SentenceTransformerEmbedder, folder: Path = CACHE) -> None:
        self.inner = inner
        self.name = inner.name
        slug = re.sub(r"\W+", "-", inner.name)
        self._path = folder / f"{slug}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        if self._path.exists():
            data = np.load(self._path)
            self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self._dirty = False

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(texts, "q", self.inner.embed_queries)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(texts, "d", self.inner.embed_documents)

    def _cached(self, texts: Sequence[str], kind: str, embed) -> np.ndarray:
        keys = [hashlib.sha1(f"{kind}\0{t}".encode()).hexdigest() for t in texts]
        todo = [i for i, key in enumerate(keys) if key not in self._vectors]
        if todo:
            fresh = embed([texts[i] for i in todo])
            for i, vec in zip(todo, fresh, strict=True):
                self._vectors[keys[i]] = vec
            self._dirty = True
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[key] for key in keys]).astype(np.float32)

    def save(self) -> None:
        if not self._dirty:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp.npz")
        keys = list(self._vectors)
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
        os.replace(tmp, self._path)
        self._dirty = False


# --- data sets ----------------------------------------------------------------------------


def load_devset(root: Path = DEVSET) -> tuple[list[dict], list[Query]]:
    docs = [json.loads(line) for line in (root / "corpus.jsonl").open(encoding="utf-8")]
    relevant: dict[str, set[str]] = {}
    for line in (root / "qrels.tsv").open(encoding="utf-8"):
        qid, doc_id, grade = line.rstrip("\n").split("\t")
        if int(grade) > 0:
            relevant.setdefault(qid, set()).add(doc_id)
    queries = []
    for line in (root / "queries.jsonl").open(encoding="utf-8"):
        raw = json.loads(line)
        if raw["qid"] in relevant:
            queries.append(Query(raw["qid"], raw["text"], frozenset(relevant[raw["qid"]])))
    return docs, queries


def load_library_queries(path: Path = LIBRARY / "queries.yaml") -> list[Query]:
    import yaml

    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    items = raw.get("queries", raw) if isinstance(raw, dict) else raw
    return [
        Query(f"L{n:03d}", item["q"], frozenset(item.get("sessions") or ()))
        for n, item in enumerate(items, 1)
    ]


def write_devset_library(docs: list[dict], folder: Path) -> None:
    """Each devset document as ``<id>.md`` with its title as the first heading."""
    for doc in docs:
        path = folder / f"{doc['id']}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {doc['title']}\n\n{doc['text']}\n", encoding="utf-8")


# --- index building -----------------------------------------------------------------------


def product_pipeline():
    """``ingest.pipeline.build_index`` when the ingest package provides it, else None."""
    try:
        from ingest.pipeline import build_index
    except ImportError:
        return None
    return build_index


def build_index(
    library: Path, index_root: Path, embedder, *, words: int = 120, chunk_tokens: int = 0
) -> str:
    """Index ``library`` into ``index_root``; returns which pipeline did it."""
    pipeline = product_pipeline()
    if pipeline is not None:
        sizes = None
        if chunk_tokens:
            from ingest.chunking import ChunkSizes

            sizes = ChunkSizes(target=chunk_tokens, limit=chunk_tokens + 40)
        pipeline(library, index_root, embedder, full=True, chunk_sizes=sizes)
        return f"ingest.pipeline ({sizes or 'default sizes'})"
    _simple_build(library, index_root, embedder, words)
    return f"simple chunker ({words} words)"


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$|^\*\*([^*]+)\*\*$")


def simple_chunks(session_id: str, source: str, text: str, words: int) -> list[Chunk]:
    """Heading-aware packing of paragraphs into chunks of about ``words`` words."""
    chunks: list[Chunk] = []
    path: list[tuple[int, str]] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            heading = " > ".join(h for _, h in path[1:]) if len(path) > 1 else ""
            chunks.append(Chunk(f"{source}#{len(chunks)}", session_id, source,
                                "\n\n".join(buf), heading=heading))
            buf.clear()

    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        match = _HEADING.match(para) if "\n" not in para else None
        if match:
            flush()
            level = len(match.group(1)) if match.group(1) else 7
            path = [(lv, h) for lv, h in path if lv < level] + [(level, match.group(2) or match.group(3))]
            continue
        pieces = [para] if len(para.split()) <= words else _split_long(para, words)
        for piece in pieces:
            if buf and sum(len(b.split()) for b in buf) + len(piece.split()) > words:
                flush()
            buf.append(piece)
    flush()
    return chunks


def _split_long(para: str, words: int) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", para):
        if cur and len(" ".join(cur).split()) + len(sentence.split()) > words:
            out.append(" ".join(cur))
            cur = []
        cur.append(sentence)
    if cur:
        out.append(" ".join(cur))
    return out


def _simple_build(library: Path, index_root: Path, embedder, words: int) -> None:
    from retrieval.indexing import index_text
    from retrieval.snapshot import IndexRoot, write_snapshot

    chunks: list[Chunk] = []
    sessions: dict[str, SessionMeta] = {}
    for path in sorted(library.rglob("*.md")):
        sid = path.relative_to(library).with_suffix("").as_posix()
        text = path.read_text(encoding="utf-8")
        first, _, body = text.partition("\n")
        sessions[sid] = SessionMeta(sid, first.lstrip("# ").strip())
        chunks += simple_chunks(sid, path.relative_to(library).as_posix(), body, words)
    vectors = embedder.embed_documents([index_text(c, sessions[c.session_id]) for c in chunks])
    root = IndexRoot(index_root)
    build = root.new_build_dir()
    info = {"model": embedder.name, "chunker": f"simple-{words}"}
    write_snapshot(build, chunks=chunks, vectors=vectors, sessions=sessions, files={}, info=info)
    root.publish(build)


# --- metrics ------------------------------------------------------------------------------


def metrics(ranked: Sequence[str], relevant: frozenset[str]) -> dict[str, float]:
    dcg = sum(1 / math.log2(i + 2) for i, sid in enumerate(ranked[:10]) if sid in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    first = next((i for i, sid in enumerate(ranked[:10]) if sid in relevant), None)
    return {
        "ndcg@10": dcg / ideal,
        "recall@5": len(set(ranked[:5]) & relevant) / len(relevant),
        "mrr@10": 0.0 if first is None else 1 / (first + 1),
    }


def evaluate(searcher: Searcher, queries: Sequence[Query], mode: str) -> dict:
    answerable = [q for q in queries if q.relevant]
    per_query, tops = [], []
    for q in queries:
        response = searcher.search(q.text, k=10, mode=mode)  # type: ignore[arg-type]
        ranked = [r.session.session_id for r in response.results]
        tops.append({"qid": q.qid, "answerable": bool(q.relevant),
                     "top": response.results[0].score if response.results else 0.0})
        if q.relevant:
            per_query.append({"qid": q.qid, **metrics(ranked, q.relevant)})
    mean = {m: float(np.mean([p[m] for p in per_query])) for m in ("ndcg@10", "recall@5", "mrr@10")}
    return {"mode": mode, "queries": len(answerable), **mean, "per_query": per_query, "tops": tops}


# --- calibration and HNSW -----------------------------------------------------------------


def calibration(results: dict[str, dict]) -> dict:
    """Best-cosine distributions of answerable vs off-topic queries, per set.

    The score is the query's best session match score (cosine with a little keyword coverage),
    which the Searcher compares with its threshold in every mode.
    """
    out = {}
    for name, res in results.items():
        tops = res["match"]["tops"]
        pos = np.array([t["top"] for t in tops if t["answerable"]])
        neg = np.array([t["top"] for t in tops if not t["answerable"]])
        row = {"answerable": len(pos), "off_topic": len(neg),
               "answerable_quantiles": np.quantile(pos, [0, 0.05, 0.25, 0.5]).round(3).tolist()}
        if len(neg):
            row["off_topic_quantiles"] = np.quantile(neg, [0.5, 0.75, 0.95, 1]).round(3).tolist()
        grid = np.round(np.arange(0.2, 0.5, 0.02), 2)
        row["kept_answerable"] = {f"{t:.2f}": round(float((pos >= t).mean()), 3) for t in grid}
        if len(neg):
            row["rejected_off_topic"] = {f"{t:.2f}": round(float((neg < t).mean()), 3) for t in grid}
        out[name] = row
    return out


def hnsw_recall(n: int = 50_000, dim: int = 384, queries: int = 500) -> dict[str, float]:
    from retrieval.vector import VectorIndex

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, dim)).astype(np.float32)
    data = centres[rng.integers(0, 200, n)] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    probe = data[rng.choice(n, queries, replace=False)] + 0.3 * rng.normal(size=(queries, dim)).astype(np.float32)
    exact = VectorIndex.build(data, exact_max=n)
    truth = [{r for r, _ in hits} for hits in exact.search(probe, 10)]
    out = {}
    started = time.perf_counter()
    approx = VectorIndex.build(data, exact_max=0)
    out["build_s"] = round(time.perf_counter() - started, 1)
    for ef in (16, 32, 64, 128, 256):
        approx._index.hnsw.efSearch = ef  # type: ignore[attr-defined]  # bench-only probe
        clock = time.perf_counter()
        got = approx.search(probe, 10)
        out[f"ms/query ef={ef}"] = round((time.perf_counter() - clock) * 1000 / queries, 3)
        out[f"recall@10 ef={ef}"] = float(np.mean([len(t & {r for r, _ in g}) / 10 for t, g in zip(truth, got, strict=True)]))
    return out


# --- variants -----------------------------------------------------------------------------

VARIANTS: dict[str, RankConfig] = {
    "fusion=rrf (sessions)": RankConfig(fusion="rrf"),
    "fusion=chunk": RankConfig(fusion="chunk"),
    "fusion=chunk, support=0": RankConfig(fusion="chunk", support_weight=0.0),
    "lexical_weight=0.75": RankConfig(lexical_weight=0.75),
    "lexical_weight=1.0": RankConfig(lexical_weight=1.0),
    "lexical_weight=2.0": RankConfig(lexical_weight=2.0),
    "support=0 (best chunk only)": RankConfig(support_weight=0.0),
}


def run_set(name: str, library: Path, queries: list[Query], embedder, workdir: Path,
            variants: bool, chunk_tokens: int = 0, rerank: str = "") -> tuple[dict, dict]:
    index_root = workdir / name / "index"
    started = time.perf_counter()
    how = build_index(library, index_root, embedder, chunk_tokens=chunk_tokens)
    print(f"[{name}] indexed with {how} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    embedder.save()
    searcher = Searcher(index_root, embedder)
    modes: dict[str, dict] = {mode: evaluate(searcher, queries, mode) for mode in MODES}
    # Ranked by the match score itself, the top score is the number the Searcher compares
    # with its threshold.
    m = RankConfig().match_lexical_weight
    by_match = Searcher(index_root, embedder, config=RankConfig(support_weight=0.0, lexical_weight=m))
    modes["match"] = evaluate(by_match, queries, "hybrid")
    extra = {}
    if rerank:
        from retrieval.rerank import CrossEncoderReranker

        reranked = Searcher(index_root, embedder, reranker=CrossEncoderReranker(rerank))
        extra[f"hybrid + rerank {Path(rerank).name}"] = evaluate(reranked, queries, "hybrid")
    if variants:
        for label, cfg in VARIANTS.items():
            extra[label] = evaluate(Searcher(index_root, embedder, config=cfg), queries, "hybrid")
    embedder.save()
    return modes, extra


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("all", "devset", "library"), default="all")
    parser.add_argument("--variants", action="store_true", help="also score ranking ablations")
    parser.add_argument("--calibrate", action="store_true", help="print threshold calibration")
    parser.add_argument("--hnsw", action="store_true", help="measure HNSW recall vs exact")
    parser.add_argument("--rerank", default="", help="a CrossEncoder folder to evaluate too")
    parser.add_argument("--chunk-tokens", type=int, default=0,
                        help="chunk body target in model tokens (default: ingest's own)")
    args = parser.parse_args(argv)

    report: dict = {"threshold": DEFAULT_THRESHOLD, "config": dataclasses.asdict(RankConfig())}
    if args.hnsw:
        report["hnsw"] = hnsw_recall()
        print(json.dumps(report["hnsw"], indent=1))
    embedder = CachingEmbedder(SentenceTransformerEmbedder())
    results: dict[str, dict] = {}
    variant_rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="staffroom-quality-") as tmp:
        work = Path(tmp)
        if args.set in ("all", "library") and (LIBRARY / "queries.yaml").exists():
            queries = load_library_queries()
            results["library"], variant_rows["library"] = run_set(
                "library", LIBRARY, queries, embedder, work, args.variants, args.chunk_tokens,
                args.rerank)
        if args.set in ("all", "devset") and DEVSET.exists():
            docs, queries = load_devset()
            write_devset_library(docs, work / "devset-lib")
            results["devset"], variant_rows["devset"] = run_set(
                "devset", work / "devset-lib", queries, embedder, work, args.variants, args.chunk_tokens,
                args.rerank)

    print(f"{'set':<8} {'method':<22} {'nDCG@10':>8} {'R@5':>7} {'MRR@10':>7}  n")
    for name, modes in results.items():
        rows = [(m, r) for m, r in modes.items() if m in MODES]
        for label, res in [*rows, *variant_rows[name].items()]:
            print(f"{name:<8} {label:<22} {res['ndcg@10']:>8.3f} {res['recall@5']:>7.3f} "
                  f"{res['mrr@10']:>7.3f}  {res['queries']}")
    report["sets"] = results
    report["variants"] = variant_rows
    if args.calibrate:
        report["calibration"] = calibration(results)
        print(json.dumps(report["calibration"], indent=1))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "quality.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
