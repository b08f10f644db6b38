"""The index records the embedding model that built it; another model refuses to search it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import build_index as ingest
from retrieval.embedder import FakeEmbedder, fingerprint_of, folder_fingerprint
from retrieval.search import Searcher
from retrieval.snapshot import IndexRoot, Snapshot
from staffroom_errors import IndexError_
from tests.fixtures_retrieval import IndexBuilder


def _fingerprinted(embedder: FakeEmbedder) -> dict[str, object]:
    return {"model": embedder.name, "embedder": fingerprint_of(embedder)}


def test_another_model_name_is_refused_with_both_names_and_the_command(
    build_index: IndexBuilder,
) -> None:
    built_with = FakeEmbedder(name="district-model")
    root, _ = build_index(embedder=built_with, info=_fingerprinted(built_with))
    with pytest.raises(IndexError_) as err:
        Searcher(root.path, FakeEmbedder(name="bundled-model")).search("exit tickets")
    text = err.value.user_text()
    assert "'district-model'" in text and "'bundled-model'" in text
    assert "staffroom ingest --full" in text


def test_another_dimension_is_refused(build_index: IndexBuilder) -> None:
    built_with = FakeEmbedder(dim=64)
    root, _ = build_index(embedder=built_with, info=_fingerprinted(built_with))
    with pytest.raises(IndexError_, match="64 dimensions.*32 dimensions"):
        Searcher(root.path, FakeEmbedder(dim=32)).search("exit tickets")


def test_same_name_other_weights_is_refused(build_index: IndexBuilder) -> None:
    built_with = FakeEmbedder()
    root, _ = build_index(embedder=built_with, info=_fingerprinted(built_with))
    swapped = FakeEmbedder()
    swapped.fingerprint = "sha256:0123456789abcdef"  # the folder now holds other weights
    with pytest.raises(IndexError_, match="different copy"):
        Searcher(root.path, swapped).search("exit tickets")
    assert Searcher(root.path, FakeEmbedder()).search("exit tickets").results


def test_old_index_without_a_fingerprint_is_checked_on_name_and_dimension(
    build_index: IndexBuilder,
) -> None:
    root, _ = build_index(info={"model": FakeEmbedder().name})
    assert Searcher(root.path, FakeEmbedder()).search("exit tickets").results


def test_a_served_index_stays_when_a_new_version_has_another_model(
    build_index: IndexBuilder,
) -> None:
    root, first = build_index(info=_fingerprinted(FakeEmbedder()))
    searcher = Searcher(root.path, FakeEmbedder())
    searcher.search("exit tickets")
    other = FakeEmbedder(name="other")
    build_index(embedder=other, info=_fingerprinted(other))
    assert searcher.refresh(force=True) is False
    assert searcher.search("exit tickets").index_version == first


def test_ingest_records_the_model_and_rebuilds_for_a_same_named_other_model(
    tmp_path: Path,
) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "notes.md").write_text("# Wait time\n\nCount to five first.\n", encoding="utf-8")
    index = tmp_path / "index"
    ingest(library, index, FakeEmbedder())
    info = Snapshot.load(IndexRoot(index).current()).info  # type: ignore[arg-type]
    assert info["embedder"] == {"name": "fake-hashed-bow", "dim": 64,
                                "fingerprint": "fake:fake-hashed-bow:64"}
    swapped = FakeEmbedder()
    swapped.fingerprint = "sha256:0123456789abcdef"
    summary = ingest(library, index, swapped)
    assert summary.published and swapped.calls == summary.chunks  # nothing stale reused
    assert any("another embedding model" in w for w in summary.warnings)


def test_folder_fingerprint_follows_configs_and_weights(tmp_path: Path) -> None:
    assert folder_fingerprint(tmp_path / "missing") == ""
    (tmp_path / "config.json").write_text('{"hidden_size": 384}', encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"\x00" * 1000)
    first = folder_fingerprint(tmp_path)
    assert first.startswith("sha256:") and folder_fingerprint(tmp_path) == first
    (tmp_path / "model.safetensors").write_bytes(b"\x01" * 1000)
    assert folder_fingerprint(tmp_path) != first
