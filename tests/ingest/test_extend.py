"""A small change extends the live index instead of rebuilding it, and searches the same.

Each test compares an extended index with a full build of the same library: the same sessions,
scores and moments for every query (the sample library is small, so both use the exact vector
index), and nothing from a removed or changed file.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from ingest import build_index
from retrieval.embedder import FakeEmbedder
from retrieval.search import Searcher
from retrieval.snapshot import IndexRoot, Snapshot
from retrieval.types import Filters

WORDS = (
    "exit tickets wait time questioning feedback rubric station rotation timer circle conflict "
    "repair reading conference fluency phonics fractions number line graphing lab safety "
    "vocabulary discussion partner talk sentence stems writing revision peer review goal "
    "scaffold extension entry point anchor chart mini lesson small group data dashboard"
).split()
QUERIES = [
    "how do I use exit tickets",
    "wait time after questioning",
    "station rotation with a timer",
    "restorative circle after a conflict",
    "fractions on a number line",
    "peer review of writing revision",
    "sentence stems for partner talk",
    "brand new zebra topic",
]


def _write_session(library: Path, i: int, seed: int = 0) -> None:
    rng = random.Random(i * 1000 + seed)
    grade = ("K-2", "3-5", "6-8", "9-12")[i % 4]
    lines = ["---", f"title: Session {i} on {WORDS[i % len(WORDS)]}", f"grade_bands: [{grade}]",
             "---", "", f"# Session {i}", ""]  # fmt: skip
    for p in range(6):
        lines += [f"## Part {p}", "", " ".join(rng.choice(WORDS) for _ in range(60)), ""]
    (library / f"s{i:02d}.md").write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    root.mkdir()
    for i in range(24):
        _write_session(root, i)
    return root


def _change(library: Path) -> None:
    """Change one file, remove one, add two (one of them with text about a new topic)."""
    _write_session(library, 3, seed=7)
    os.remove(library / "s05.md")
    _write_session(library, 40)
    (library / "s41.md").write_text("# Zebra\n\nA brand new zebra topic for teachers.\n")


def _results(index: Path, filters: Filters | None = None) -> list[list[tuple]]:
    searcher = Searcher(index, FakeEmbedder())
    out = []
    for query in QUERIES:
        response = searcher.search(query, k=5, filters=filters)
        out.append([
            (r.session.session_id, round(r.score, 5), tuple(m.chunk_id for m in r.moments))
            for r in response.results
        ])  # fmt: skip
    return out


def _live(index: Path) -> Snapshot:
    current = IndexRoot(index).current()
    assert current is not None
    return Snapshot.load(current)


def test_extended_index_searches_like_a_full_build(library: Path, tmp_path: Path) -> None:
    extended, full = tmp_path / "extended", tmp_path / "full"
    build_index(library, extended, FakeEmbedder())
    before = _live(extended)
    _change(library)
    summary = build_index(library, extended, FakeEmbedder())
    build_index(library, full, FakeEmbedder())
    after = _live(extended)
    assert summary.published and after.info["snapshot"]["index_build"] == "extended"
    assert _live(full).info["snapshot"]["index_build"] == "full"
    assert after.info["snapshot"]["slots"] > len(after.chunks)  # the old rows stay, dead
    assert after.chunks == _live(full).chunks
    assert _results(extended) == _results(full)
    grade = Filters(grade_bands=("6-8",))
    assert _results(extended, grade) == _results(full, grade)
    sources = {m.split("#")[0] for rs in _results(extended) for r in rs for m in r[2]}
    assert "s05.md" not in sources
    assert _results(extended)[-1][0][0] == "s41"  # the new file is found
    # the live version was only read: its keyword postings were linked, not rewritten
    linked = [p for p in (after.path / "lexical").glob("postings-*") if p.stat().st_nlink > 1]
    assert linked and (before.path / "lexical" / linked[0].name).is_file()
    assert Snapshot.load(before.path).chunks == before.chunks


def test_extending_twice_keeps_matching_a_full_build(library: Path, tmp_path: Path) -> None:
    extended, full = tmp_path / "extended", tmp_path / "full"
    build_index(library, extended, FakeEmbedder())
    _change(library)
    build_index(library, extended, FakeEmbedder())
    _write_session(library, 7, seed=3)
    (library / "s41.md").unlink()
    build_index(library, extended, FakeEmbedder())
    build_index(library, full, FakeEmbedder())
    assert _live(extended).info["snapshot"]["index_build"] == "extended"
    assert _results(extended) == _results(full)


def test_many_dead_rows_or_full_rebuild_the_index(library: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(library, index, FakeEmbedder())
    for i in range(8):  # a third of the library changes: extending no longer pays
        _write_session(library, i, seed=9)
    build_index(library, index, FakeEmbedder())
    snap = _live(index)
    assert snap.info["snapshot"]["index_build"] == "full"
    assert snap.info["snapshot"]["slots"] == len(snap.chunks)
    _write_session(library, 10, seed=9)
    build_index(library, index, FakeEmbedder(), full=True)
    assert _live(index).info["snapshot"]["index_build"] == "full"


def test_an_older_format_index_is_rewritten_once_without_embedding(
    library: Path, tmp_path: Path
) -> None:
    """Format 1 (bm25s keyword files, vectors.npy) still serves; the next ingest converts it."""
    import json

    index = tmp_path / "index"
    build_index(library, index, FakeEmbedder())
    live = _live(index)
    info = json.loads((live.path / "info.json").read_text())
    info["snapshot"]["format"] = 1
    (live.path / "info.json").write_text(json.dumps(info))
    for part in (live.path / "lexical").iterdir():
        part.unlink()  # what format 1 kept there is not read any more
    assert _results(index)  # still searchable
    embedder = FakeEmbedder()
    summary = build_index(library, index, embedder)
    assert summary.published and embedder.calls == 0
    assert _live(index).info["snapshot"]["format"] == 2
    assert not build_index(library, index, FakeEmbedder()).published
