"""Safe ingest: another folder needs replace, versions roll back, the cache never re-embeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import build_index
from ingest.embed_cache import EmbeddingCache
from ingest.lock import build_lock
from ingest.versions import list_versions, rollback
from retrieval.embedder import FakeEmbedder
from retrieval.search import Searcher
from retrieval.snapshot import IndexRoot
from staffroom_errors import IndexError_, LibraryError
from tests.ingest.builders import make_library, talk, write_vtt


def _other_library(root: Path) -> Path:
    """Another district's folder: two transcripts, none of the first library's files."""
    write_vtt(root / "circles/restorative.vtt", talk("restorative circles", 30))
    write_vtt(root / "labs/science.vtt", talk("science lab safety", 30))
    return root


@pytest.fixture
def two(tmp_path: Path) -> tuple[Path, Path, Path]:
    first = make_library(tmp_path / "first")
    other = _other_library(tmp_path / "other")
    index = tmp_path / "index"
    build_index(first, index, FakeEmbedder())
    return first, other, index


def test_another_folder_is_refused_and_says_what_it_would_remove(two) -> None:
    first, other, index = two
    live = IndexRoot(index).current_version()
    with pytest.raises(LibraryError) as caught:
        build_index(other, index, FakeEmbedder())
    text = caught.value.user_text()
    assert f"built from {first.resolve()}, not {other.resolve()}" in text
    assert "would remove 6 of the live index's 6 files" in text
    assert "--replace" in text
    assert IndexRoot(index).current_version() == live  # nothing published
    assert IndexRoot(index).versions() == [live]


def test_replace_swaps_the_library_in(two) -> None:
    first, other, index = two
    summary = build_index(other, index, FakeEmbedder(), replace=True)
    assert summary.published and len(summary.removed) == 6 and len(summary.added) == 2
    assert list_versions(index)[-1].library == str(other.resolve())
    # The same folder again is just an incremental update: no replace needed.
    write_vtt(other / "labs/more.vtt", talk("lab notebooks", 5))
    assert build_index(other, index, FakeEmbedder()).added == ["labs/more.vtt"]


def test_reingesting_the_first_folder_embeds_nothing_twice(two) -> None:
    first, other, index = two
    chunks = list_versions(index)[-1].chunks
    build_index(other, index, FakeEmbedder(), replace=True)
    counting = FakeEmbedder()
    back = build_index(first, index, counting, replace=True)
    assert back.published and back.chunks == chunks
    assert (back.embedded, counting.calls, back.cache_hits) == (0, 0, chunks)


def test_a_lost_cache_just_embeds_again(two) -> None:
    first, other, index = two
    cache = EmbeddingCache(index)
    assert len(cache) > 0
    cache.path.write_bytes(b"this is not a sqlite file" * 100)  # corrupt: set aside, not fatal
    counting = FakeEmbedder()
    summary = build_index(other, index, counting, replace=True)
    assert summary.published and summary.embedded == summary.chunks == counting.calls
    assert len(EmbeddingCache(index)) == summary.chunks


def test_cache_is_bounded(tmp_path: Path) -> None:
    import numpy as np

    cache = EmbeddingCache(tmp_path, max_entries=3)
    keys = [f"k{i}" for i in range(5)]
    cache.put(keys, np.eye(5, dtype=np.float32), dict.fromkeys(keys, 7))
    assert len(cache) == 3
    hits = cache.get(keys)
    assert len(hits.keys) == 3 and hits.tokens == [7, 7, 7]


def test_list_and_rollback_to_the_previous_and_to_a_named_version(two) -> None:
    first, other, index = two
    write_vtt(first / "extra/new.vtt", talk("wait time", 10))
    build_index(first, index, FakeEmbedder())
    build_index(other, index, FakeEmbedder(), replace=True)
    versions = list_versions(index)
    assert [v.live for v in versions] == [False, False, True]
    assert [v.files for v in versions] == [6, 7, 2]
    assert versions[0].library == str(first.resolve()) and versions[0].built_at

    searcher = Searcher(index, FakeEmbedder(), refresh_s=0)
    assert searcher.version == "" and searcher.info().version == versions[2].name

    done = rollback(index)  # default: the version before the live one
    assert (done.before, done.after.name) == (versions[2].name, versions[1].name)
    assert IndexRoot(index).current_version() == versions[1].name
    found = searcher.search("wait time", k=3)  # the server's retriever follows the pointer
    assert searcher.version == versions[1].name
    assert any(r.best.source == "extra/new.vtt" for r in found.results)

    done = rollback(index, "1")  # by number; the full name works too
    assert done.after.name == versions[0].name and done.changed
    assert searcher.info().version == versions[0].name
    assert not rollback(index, versions[0].name).changed  # already live: nothing to do


def test_rollback_errors_are_friendly(two, tmp_path: Path) -> None:
    first, other, index = two
    with pytest.raises(IndexError_, match="no version older than the live one"):
        rollback(index)
    with pytest.raises(IndexError_, match="no index version 'v9'. Kept versions: v000001-"):
        rollback(index, "v9")
    with pytest.raises(IndexError_, match="No index in"):
        rollback(tmp_path / "nowhere")
    build_index(other, index, FakeEmbedder(), replace=True)
    with pytest.raises(IndexError_, match="built with the model 'fake-hashed-bow'"):
        rollback(index, model="sentence-transformers/all-MiniLM-L6-v2")
    with build_lock(index), pytest.raises(IndexError_, match="ingest is running"):
        rollback(index)


def test_after_a_rollback_the_next_ingest_reuses_everything(two) -> None:
    first, other, index = two
    build_index(other, index, FakeEmbedder(), replace=True)
    rollback(index)
    counting = FakeEmbedder()
    write_vtt(other / "labs/science.vtt", talk("science lab safety", 30))  # same text, new mtime
    summary = build_index(other, index, counting, replace=True)
    assert summary.published and counting.calls == 0 and summary.cache_hits == summary.chunks


def test_versions_kept_is_a_setting(two) -> None:
    first, other, index = two
    for i in range(3):
        write_vtt(first / f"more/t{i}.vtt", talk(f"topic {i}", 5))
        build_index(first, index, FakeEmbedder(), keep_versions=2)
    assert len(IndexRoot(index).versions()) == 2
