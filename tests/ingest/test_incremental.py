"""Incremental builds: only what changed is re-read and re-embedded; failures never go live."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ingest import Progress, build_index
from retrieval.embedder import FakeEmbedder
from retrieval.snapshot import IndexRoot, Snapshot
from tests.ingest.builders import CATALOG, make_library, talk, write_vtt


def _live(index: Path) -> Snapshot:
    current = IndexRoot(index).current()
    assert current is not None
    return Snapshot.load(current)


def _vectors_by_text(snap: Snapshot) -> dict[str, np.ndarray]:
    return {c.text: snap.vectors[i] for i, c in enumerate(snap.chunks)}


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, Snapshot]:
    library = make_library(tmp_path / "lib")
    index = tmp_path / "index"
    build_index(library, index, FakeEmbedder())
    return library, index, _live(index)


def test_nothing_changed_embeds_nothing_and_publishes_nothing(built, embedder) -> None:
    library, index, before = built
    events: list[Progress] = []
    summary = build_index(library, index, embedder, progress=events.append)
    assert (summary.published, summary.embedded, embedder.calls) == (False, 0, 0)
    assert summary.version == before.version == IndexRoot(index).current_version()
    assert len(summary.unchanged) == 6 and not (summary.added or summary.changed)
    assert not [e for e in events if e.phase == "parse" and e.detail]  # nothing was re-read
    assert IndexRoot(index).versions() == [before.version]


def test_touched_but_identical_file_is_hashed_not_reread(built, embedder) -> None:
    library, index, before = built
    path = library / "exit-tickets/handout.md"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    summary = build_index(library, index, embedder)
    assert (summary.published, embedder.calls) == (False, 0)
    assert "exit-tickets/handout.md" in summary.unchanged


def test_changed_file_re_embeds_only_its_changed_chunks(built, embedder) -> None:
    library, index, before = built
    lines = talk("exit tickets", 40)
    lines[-1] = "A brand new closing line about regrouping students tomorrow."
    write_vtt(library / "exit-tickets/recording.vtt", lines)
    summary = build_index(library, index, embedder)
    assert summary.published and summary.changed == ["exit-tickets/recording.vtt"]
    old_vtt = [c for c in before.chunks if c.source == "exit-tickets/recording.vtt"]
    assert 1 <= summary.embedded == embedder.calls < len(old_vtt)  # only the chunk(s) with the line
    after = _live(index)
    assert any("brand new closing line" in c.text for c in after.chunks)
    old, new = _vectors_by_text(before), _vectors_by_text(after)
    for text, vector in new.items():
        if text in old:
            np.testing.assert_array_equal(vector, old[text])  # reused, not recomputed


def test_deleted_file_disappears(built, embedder) -> None:
    library, index, _ = built
    (library / "extras/cer.html").unlink()
    summary = build_index(library, index, embedder)
    assert summary.removed == ["extras/cer.html"] and summary.published and embedder.calls == 0
    after = _live(index)
    assert not any(c.source == "extras/cer.html" for c in after.chunks)
    assert "extras/cer" not in after.sessions
    assert "extras/cer.html" not in after.files


def test_catalog_metadata_change_updates_sessions_without_re_embedding(built, embedder) -> None:
    library, index, before = built
    (library / "catalog.yaml").write_text(
        CATALOG.replace('presenter: "Priya Raman"', 'presenter: "Priya Raman-Lee"').replace(
            "grade_bands: [3-5]", "grade_bands: [3-5, 6-8]"
        ),
        encoding="utf-8",
    )
    summary = build_index(library, index, embedder)
    assert summary.published and embedder.calls == 0  # presenter and grades are not embedded
    meta = _live(index).sessions["tiered-tasks"]
    assert (meta.presenter, meta.grade_bands) == ("Priya Raman-Lee", ("3-5", "6-8"))


def test_catalog_title_change_re_embeds_only_that_session(built, embedder) -> None:
    library, index, before = built
    (library / "catalog.yaml").write_text(
        CATALOG.replace('title: "Tiered Tasks"', 'title: "Tiered Tasks Without Three Lessons"'),
        encoding="utf-8",
    )
    summary = build_index(library, index, embedder)
    after = _live(index)
    assert after.sessions["tiered-tasks"].title == "Tiered Tasks Without Three Lessons"
    # The title heads every embedded text of its session (retrieval.indexing.index_text), so
    # exactly that session's chunks are re-embedded; no file was re-read.
    tiered = [c for c in after.chunks if c.session_id == "tiered-tasks"]
    assert summary.embedded == embedder.calls == len(tiered)
    assert summary.changed == [] and len(summary.unchanged) == 6


def test_moving_a_file_to_another_session_keeps_its_chunks(built, embedder) -> None:
    library, index, _ = built
    (library / "catalog.yaml").write_text(
        CATALOG
        + "  - id: prompts\n    title: Prompts\n    files: [extras/brain_dump-prompts.txt]\n",
        encoding="utf-8",
    )
    summary = build_index(library, index, embedder)
    after = _live(index)
    moved = [c for c in after.chunks if c.source == "extras/brain_dump-prompts.txt"]
    assert moved and {c.session_id for c in moved} == {"prompts"}
    assert summary.embedded == len(moved)  # new session title, new embedded text


def test_full_rebuild_rereads_everything_but_reuses_vectors(built, embedder) -> None:
    library, index, before = built
    events: list[Progress] = []
    summary = build_index(library, index, embedder, full=True, progress=events.append)
    parsed = {e.detail for e in events if e.phase == "parse" and e.detail}
    assert len(parsed) == 6
    assert embedder.calls == 0 and not summary.published


class _FailingEmbedder(FakeEmbedder):
    """Raises after ``ok_batches`` successful batches."""

    def __init__(self, ok_batches: int, error: BaseException) -> None:
        super().__init__()
        self.ok_batches, self.error = ok_batches, error

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if self.ok_batches == 0:
            raise self.error
        self.ok_batches -= 1
        return super().embed_documents(texts)


@pytest.mark.parametrize("error", [RuntimeError("GPU fell over"), KeyboardInterrupt()])
def test_failure_mid_build_leaves_the_old_version_live(built, error: BaseException) -> None:
    library, index, before = built
    for i in range(4):
        write_vtt(library / f"new/talk{i}.vtt", talk(f"topic {i}", 30))
    with pytest.raises(type(error)):
        build_index(library, index, _FailingEmbedder(2, error), batch_size=4)
    assert IndexRoot(index).current_version() == before.version
    assert len(_live(index).chunks) == len(before.chunks)
    assert not list(index.glob(".build-*"))


def test_interrupt_while_writing_discards_the_build(built) -> None:
    library, index, before = built
    write_vtt(library / "new/talk.vtt", talk("wait time", 30))

    def interrupt(event: Progress) -> None:
        if event.phase == "write" and event.done == 1:
            raise KeyboardInterrupt  # after the snapshot is written, before it is published

    with pytest.raises(KeyboardInterrupt):
        build_index(library, index, FakeEmbedder(), progress=interrupt)
    assert IndexRoot(index).current_version() == before.version
    assert not list(index.glob(".build-*"))
    summary = build_index(library, index, FakeEmbedder())  # and the next run just works
    assert summary.published and summary.added == ["new/talk.vtt"]


def test_a_file_that_breaks_is_dropped_and_comes_back_when_fixed(built, embedder) -> None:
    library, index, _ = built
    good = (library / "extras/cer.html").read_bytes()
    (library / "extras/cer.html").write_bytes(b"")
    summary = build_index(library, index, embedder)
    assert dict(summary.failed) == {"extras/cer.html": "the file is empty."}
    assert not any(c.source == "extras/cer.html" for c in _live(index).chunks)
    again = build_index(library, index, FakeEmbedder())
    assert not again.published and dict(again.failed) == {"extras/cer.html": "the file is empty."}
    (library / "extras/cer.html").write_bytes(good)
    fixed = build_index(library, index, FakeEmbedder())
    assert fixed.published and fixed.changed == ["extras/cer.html"] and not fixed.failed


def test_corrupt_live_index_is_rebuilt(built, embedder) -> None:
    library, index, before = built
    (before.path / "chunks.jsonl").write_text("{not json", encoding="utf-8")
    summary = build_index(library, index, embedder)
    # Rebuilt from the files; the vectors themselves come back from the embedding cache.
    assert summary.published and summary.cache_hits == summary.chunks and summary.embedded == 0
    assert any("could not be read" in w for w in summary.warnings)


def test_another_model_re_embeds_everything(built) -> None:
    library, index, before = built
    other = FakeEmbedder(name="another-model")
    summary = build_index(library, index, other)
    assert summary.published and other.calls == summary.chunks == len(before.chunks)
    assert _live(index).info["model"] == "another-model"


def test_old_versions_are_pruned(built) -> None:
    library, index, _ = built
    for i in range(6):
        write_vtt(library / f"more/t{i}.vtt", talk(f"t{i}", 5))
        build_index(library, index, FakeEmbedder())
    assert len(IndexRoot(index).versions()) == 5  # the default kept for rollback
    write_vtt(library / "more/last.vtt", talk("last", 5))
    build_index(library, index, FakeEmbedder(), keep_versions=2)
    assert len(IndexRoot(index).versions()) == 2


def test_front_matter_dates_give_the_same_sessions_on_the_next_run(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "notes.md").write_text(
        "---\nsession: wait-time\ndate: 2026-01-28T15:30:00\ntags: [questioning]\n---\n\n"
        "# Wait time\n\nCount to five before calling on anyone.\n",
        encoding="utf-8",
    )
    first = build_index(library, tmp_path / "index", FakeEmbedder())
    meta = _live(tmp_path / "index").sessions["wait-time"]
    assert meta.date.startswith("2026-01-28") and meta.tags == ("questioning",)
    second = build_index(library, tmp_path / "index", FakeEmbedder())
    assert first.published and not second.published


def test_identical_text_is_embedded_once_per_build(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    write_vtt(library / "a/recording.vtt", talk("co-teaching", 30))
    write_vtt(library / "a/copy.vtt", talk("co-teaching", 30))
    (library / "catalog.yaml").write_text(
        "sessions:\n  - id: a\n    title: Co-teaching\n    files: [a/recording.vtt, a/copy.vtt]\n",
        encoding="utf-8",
    )
    embedder = FakeEmbedder()
    summary = build_index(library, tmp_path / "index", embedder)
    assert summary.chunks == 2 * embedder.calls == 2 * summary.embedded
