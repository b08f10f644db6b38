"""Snapshots: write/load round trip, corrupt dirs, atomic publish, pruning."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedder import FakeEmbedder
from retrieval.snapshot import IndexRoot, Snapshot, write_snapshot
from staffroom_errors import IndexError_
from tests.fixtures_retrieval import TINY_CHUNKS, TINY_SESSIONS, IndexBuilder


def _write(dest: Path, **overrides) -> None:
    vectors = FakeEmbedder().embed_documents([c.text for c in TINY_CHUNKS])
    args = dict(
        chunks=TINY_CHUNKS,
        vectors=vectors,
        sessions=TINY_SESSIONS,
        files={"a.vtt": {"sha256": "abc", "chunks": 2}},
        info={"model": "fake-hashed-bow", "built_at": "2025-11-05T10:00:00Z"},
    )
    write_snapshot(dest, **{**args, **overrides})


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    _write(tmp_path / "snap")
    snap = Snapshot.load(tmp_path / "snap")
    assert snap.version == "snap"
    assert snap.chunks == TINY_CHUNKS  # start/end/heading/page survive
    assert snap.sessions == TINY_SESSIONS  # tuples come back as tuples
    assert snap.files == {"a.vtt": {"sha256": "abc", "chunks": 2}}
    assert snap.info["model"] == "fake-hashed-bow"
    assert snap.info["snapshot"]["chunks"] == len(TINY_CHUNKS)
    assert snap.vectors.dtype == np.float32 and snap.vectors.shape == (len(TINY_CHUNKS), 64)
    assert snap.vector_index.size == snap.lexical.size == len(TINY_CHUNKS)


def test_write_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="vectors"):
        _write(tmp_path / "a", vectors=np.zeros((1, 64), dtype=np.float32))
    with pytest.raises(ValueError, match="unknown sessions"):
        _write(tmp_path / "b", sessions={})
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("already here")
    with pytest.raises(ValueError, match="not empty"):
        _write(tmp_path / "c")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "info.json").unlink(),
        lambda d: (d / "info.json").write_text("{not json"),
        lambda d: (d / "chunks.jsonl").write_text('{"chunk_id": "x"}\n'),
        lambda d: (d / "lexical" / "vocab.json").write_text("{not json"),
        lambda d: (d / "lexical" / "doc_len.npy").write_bytes(b"garbage"),
        lambda d: (d / "vectors.faiss").write_bytes(b"garbage"),
        lambda d: (d / "sessions.json").unlink(),
        lambda d: (d / "lexical" / "tokenizer.json").unlink(),
    ],
)
def test_corrupt_snapshot_is_a_friendly_index_error(tmp_path: Path, damage) -> None:
    _write(tmp_path / "snap")
    damage(tmp_path / "snap")
    with pytest.raises(IndexError_) as err:
        Snapshot.load(tmp_path / "snap")
    assert "ingest --full" in err.value.user_text()


def test_parts_that_disagree_on_the_count_are_corrupt(tmp_path: Path) -> None:
    _write(tmp_path / "snap")
    path = tmp_path / "snap" / "chunks.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(IndexError_, match="disagree"):
        Snapshot.load(tmp_path / "snap")


def test_missing_dir_is_an_index_error(tmp_path: Path) -> None:
    with pytest.raises(IndexError_):
        Snapshot.load(tmp_path / "nowhere")


def test_publish_swaps_current_and_numbers_versions(build_index: IndexBuilder) -> None:
    root, first = build_index()
    assert first.startswith("v000001-")
    assert root.current_version() == first
    assert (root.path / "CURRENT").read_text() == first + "\n"
    _, second = build_index()
    assert second.startswith("v000002-")
    assert root.current() == root.path / second
    assert root.versions() == [first, second]


def test_unpublished_build_is_ignored_and_incomplete_build_cannot_publish(
    build_index: IndexBuilder,
) -> None:
    root, version = build_index()
    pending = root.new_build_dir()
    (pending / "chunks.jsonl").write_text("")  # a crashed writer left this
    assert root.current_version() == version
    assert root.versions() == [version]
    with pytest.raises(ValueError, match="no complete snapshot"):
        root.publish(pending)
    root.discard(pending)
    assert not pending.exists()


def test_crash_between_rename_and_pointer_leaves_the_old_version_live(
    build_index: IndexBuilder,
) -> None:
    root, first = build_index()
    build = root.new_build_dir()
    _write(build)
    os.rename(build, root.path / "v000002-20990101T000000Z")  # publish died right here
    assert root.current_version() == first
    Snapshot.load(root.path / str(root.current_version()))  # still complete
    _, third = build_index()
    assert third.startswith("v000003-")


def test_concurrent_publishers_get_distinct_versions(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "index")
    builds = []
    for _ in range(4):
        build = root.new_build_dir()
        _write(build)
        builds.append(build)
    versions: list[str] = []
    threads = [threading.Thread(target=lambda b=b: versions.append(root.publish(b))) for b in builds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(versions)) == 4
    assert root.current_version() in versions
    Snapshot.load(root.path / str(root.current_version()))


def test_no_index_yet_and_corrupt_pointer(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "index")
    assert root.current() is None and root.current_version() is None
    assert root.prune() == []
    root.path.mkdir()
    (root.path / "CURRENT").write_text("../../etc\n")
    with pytest.raises(IndexError_):
        root.current()


def test_prune_keeps_recent_versions_and_the_live_one(build_index: IndexBuilder) -> None:
    built = [build_index() for _ in range(5)]
    root, versions = built[0][0], [version for _, version in built]
    stale = root.new_build_dir()
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    fresh = root.new_build_dir()
    removed = root.prune(keep=2)
    assert sorted(removed) == sorted([*versions[:3], stale.name])
    assert root.versions() == versions[3:]
    assert fresh.exists()  # a build that may still be running is left alone
    assert root.current_version() == versions[-1]
    Snapshot.load(root.path / str(root.current_version()))


def test_an_index_of_the_older_format_still_loads(tmp_path: Path) -> None:
    """Format 1 kept a vectors.npy and bm25s's keyword files: the keywords are indexed again."""
    _write(tmp_path / "snap")
    fresh = Snapshot.load(tmp_path / "snap")
    info_path = tmp_path / "snap" / "info.json"
    info = json.loads(info_path.read_text())
    info["snapshot"]["format"] = 1
    info_path.write_text(json.dumps(info))
    for part in (tmp_path / "snap" / "lexical").iterdir():
        part.unlink()
    old = Snapshot.load(tmp_path / "snap")
    assert old.chunks == fresh.chunks
    assert np.array_equal(old.lexical.scores("exit tickets"), fresh.lexical.scores("exit tickets"))
