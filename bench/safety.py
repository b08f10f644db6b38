"""Answer safety: which generated sentences stay on screen, and what ingest flags.

    python bench/safety.py            # figures below + bench/out/safety.json

1. Supported sentences (bench/safety_set.yaml): every sentence goes through the product's own
   post-generation check (``check_citations`` with ``SupportCheck``) against the excerpts it
   cites. Reported: faithful sentences kept, injected and unsupported sentences shown, at the
   product threshold and over a sweep, on the calibration half (odd items) and the check half.
2. Whole answers from an obeying model: each item's faithful sentences with its injected
   sentence in the middle, checked as one streamed answer would be.
3. Ingest flags (retrieval/flags.py): the sample library and the devset (a real teaching corpus,
   evaluation only) should give no flags; the set's injected sentences and the tests' injection
   strings should. Also the cost of scanning, per 1,000 chunks.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from retrieval.flags import scan  # noqa: E402
from retrieval.llm_citations import check_citations  # noqa: E402
from retrieval.llm_prompt import Excerpt  # noqa: E402
from retrieval.llm_support import MIN_COVERAGE, SupportCheck  # noqa: E402
from retrieval.types import Moment, SessionMeta  # noqa: E402

SET = ROOT / "bench" / "safety_set.yaml"
DEVSET = ROOT.parent / "shared" / "bench" / "devset"
DEVSET = DEVSET if DEVSET.exists() else Path("/work/shared/bench/devset")
OUT = ROOT / "bench" / "out"
KINDS = ("faithful", "injected", "unsupported")
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7)


@dataclass(frozen=True)
class Item:
    index: int
    question: str
    excerpts: tuple[Excerpt, ...]
    sentences: dict[str, list[str]]


def load_set(path: Path = SET) -> list[Item]:
    import yaml

    items = []
    for i, raw in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
        excerpts = tuple(
            Excerpt(
                e["n"],
                SessionMeta(f"s{i}-{e['n']}", e["title"]),
                Moment(
                    chunk_id=f"s{i}#{e['n']}",
                    source=f"s{i}",
                    snippet=e["text"],
                    score=0.5,
                    start=e.get("at"),
                    heading=e.get("heading") or "",
                    page=e.get("page"),
                ),
            )
            for e in raw["excerpts"]
        )
        sentences = {kind: list(raw.get(kind) or []) for kind in KINDS}
        items.append(Item(i, raw["question"], excerpts, sentences))
    return items


def shown(text: str, item: Item, min_coverage: float) -> str:
    """What the product shows of ``text`` (one sentence or a whole answer)."""
    support = SupportCheck(item.excerpts, min_coverage=min_coverage)
    valid = {e.number for e in item.excerpts}
    return check_citations(text, valid, supported=support, max_sentences=10, max_chars=4000).text


def sentence_rates(items: list[Item], min_coverage: float) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        results = [bool(shown(s, it, min_coverage)) for it in items for s in it.sentences[kind]]
        out[kind] = {"n": len(results), "shown": sum(results) / max(1, len(results))}
    return out


def whole_answers(items: list[Item], min_coverage: float) -> dict[str, float]:
    injected_shown = kept = total = 0
    for it in items:
        faithful, bad = it.sentences["faithful"], it.sentences["injected"][0]
        answer = " ".join([*faithful[:1], bad, *faithful[1:]])
        text = shown(answer, it, min_coverage)
        injected_shown += _core(bad) in text
        kept += sum(_core(s) in text for s in faithful)
        total += len(faithful)
    return {
        "answers": len(items),
        "injected_shown": injected_shown,
        "faithful_kept": kept / max(1, total),
    }


def _core(sentence: str) -> str:
    """The words of a sentence as they appear in checked text (citations renumbered)."""
    return sentence.split(" [")[0][:40]


def misses(items: list[Item], min_coverage: float) -> list[dict[str, object]]:
    """Faithful sentences dropped and bad ones shown, with their measured support."""
    rows = []
    for it in items:
        check = SupportCheck(it.excerpts, min_coverage=min_coverage)
        for kind in KINDS:
            for s in it.sentences[kind]:
                kept = bool(shown(s, it, min_coverage))
                if kept != (kind == "faithful"):
                    cited = [int(n) for n in _cites(s)]
                    m = check.measure(s, cited)
                    rows.append({"item": it.index, "kind": kind, "sentence": s,
                                 "coverage": round(m.coverage, 2), "missing": list(m.missing)})
    return rows


def _cites(sentence: str) -> list[str]:
    import re

    return re.findall(r"\[(\d+)\]", sentence)


# --- ingest flags -----------------------------------------------------------------------------


def flag_figures(items: list[Item]) -> dict[str, object]:
    from ingest import build_index
    from retrieval.embedder import FakeEmbedder
    from retrieval.snapshot import IndexRoot, Snapshot
    from tests.retrieval.test_flags import INJECTED, NORMAL

    with tempfile.TemporaryDirectory() as tmp:
        build_index(ROOT / "examples" / "library", Path(tmp) / "index", FakeEmbedder())
        snap = Snapshot.load(IndexRoot(Path(tmp) / "index").current())
        library = [c.text for c in snap.chunks]
    out: dict[str, object] = {
        "library_chunks": len(library),
        "library_flagged": sum(bool(scan(t)) for t in library),
    }
    if (DEVSET / "corpus.jsonl").exists():
        paras = []
        for line in (DEVSET / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"]
            paras += [p for p in text.split("\n\n") if p.strip()]
        flagged = [p for p in paras if scan(p)]
        out["devset_paragraphs"] = len(paras)
        out["devset_flagged"] = len(flagged)
        out["devset_examples"] = [p[:160] for p in flagged[:5]]
    injected = [s for it in items for s in it.sentences["injected"]] + [t for t, _ in INJECTED]
    out["injections"] = len(injected)
    out["injections_flagged"] = sum(bool(scan(t)) for t in injected)
    out["injections_missed"] = [t for t in injected if not scan(t)]
    clean = [s for it in items for s in it.sentences["faithful"]] + NORMAL
    out["clean_sentences"] = len(clean)
    out["clean_flagged"] = [t for t in clean if scan(t)]
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        for text in library:
            scan(text)
        timings.append((time.perf_counter() - started) * 1000 / len(library) * 1000)
    out["scan_ms_per_1000_chunks"] = round(statistics.median(timings), 1)
    return out


def main() -> int:
    items = load_set()
    calibrate = [it for it in items if it.index % 2 == 1]
    check = [it for it in items if it.index % 2 == 0]
    report: dict[str, object] = {"min_coverage": MIN_COVERAGE, "items": len(items)}
    sweep = {}
    print(f"{'threshold':<10} {'half':<10} {'faithful kept':>14} {'injected shown':>15} "
          f"{'unsupported shown':>18}")
    for t in SWEEP:
        for name, part in (("calibrate", calibrate), ("check", check), ("all", items)):
            rates = sentence_rates(part, t)
            sweep[f"{t:.1f}/{name}"] = rates
            mark = " *" if abs(t - MIN_COVERAGE) < 1e-9 else ""
            print(f"{t:<10.1f} {name:<10} "
                  f"{rates['faithful']['shown']:>9.1%} /{rates['faithful']['n']:<3} "
                  f"{rates['injected']['shown']:>10.1%} /{rates['injected']['n']:<3} "
                  f"{rates['unsupported']['shown']:>13.1%} /{rates['unsupported']['n']:<3}{mark}")
    report["sweep"] = sweep
    report["whole_answers"] = whole_answers(items, MIN_COVERAGE)
    print("whole answers with the injected sentence inside:", report["whole_answers"])
    report["misses"] = misses(items, MIN_COVERAGE)
    for row in report["misses"]:  # type: ignore[attr-defined]
        print(f"  miss [{row['kind']}] cov={row['coverage']} missing={row['missing']}: "
              f"{row['sentence']}")
    report["flags"] = flag_figures(items)
    print(json.dumps(report["flags"], indent=1))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "safety.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
