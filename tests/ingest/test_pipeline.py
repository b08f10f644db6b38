"""build_index end to end with the fake embedder: what ingests, what fails, what it reports."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from ingest import BuildSummary, Progress, build_index
from retrieval.embedder import FakeEmbedder
from retrieval.snapshot import IndexRoot, Snapshot
from staffroom_errors import ConfigError, LibraryError
from tests.ingest.builders import FIXTURES, make_library, write_vtt


def _live(index: Path) -> Snapshot:
    current = IndexRoot(index).current()
    assert current is not None
    return Snapshot.load(current)


def test_first_build_indexes_every_supported_file(tmp_path: Path, embedder: FakeEmbedder) -> None:
    library = make_library(tmp_path / "lib")
    (library / ".hidden.md").write_text("# Secret\n\nnot indexed\n", encoding="utf-8")
    (library / "extras/ignored.xlsx").write_bytes(b"not a supported type")
    summary = build_index(library, tmp_path / "index", embedder)
    assert summary.published and summary.version
    assert summary.added == sorted(summary.added) and len(summary.added) == 6
    assert summary.failed == [] and summary.removed == []
    assert summary.embedded == summary.chunks == embedder.calls
    assert summary.tokens_embedded > 0
    snap = _live(tmp_path / "index")
    assert snap.version == summary.version
    assert set(snap.sessions) == {
        "exit-tickets",
        "tiered-tasks",
        "extras/brain_dump-prompts",
        "extras/cer",
    }
    assert snap.sessions["extras/cer"].title == "Claim, Evidence, Reasoning"
    assert snap.sessions["extras/brain_dump-prompts"].title == "Brain dump prompts"
    assert {c.source for c in snap.chunks} == set(summary.added)
    assert snap.info["session_tokens"]["exit-tickets"] > 0
    assert sum(snap.info["session_chunks"].values()) == summary.chunks
    pdf = [c for c in snap.chunks if c.source.endswith(".pdf")]
    assert {c.page for c in pdf} == {1, 2}
    assert any(c.heading.startswith("Step one") for c in pdf)


def test_transcript_chunk_keeps_the_cue_start(tmp_path: Path, embedder: FakeEmbedder) -> None:
    library = make_library(tmp_path / "lib")
    build_index(library, tmp_path / "index", embedder)
    chunks = [
        c for c in _live(tmp_path / "index").chunks if c.source == "tiered-tasks/recording.srt"
    ]
    calls = next(c for c in chunks if "Two positive calls a week." in c.text)
    assert calls.session_id == "tiered-tasks"
    assert calls.start is not None and calls.start <= 70.0 and calls.end == 72.5


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n<< /Type", "not a readable PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable Word document"),
        ("empty.srt", b"", "empty"),
        ("junk.txt", bytes(range(256)) * 8, "not readable text"),
    ],
)
def test_broken_files_are_reported_and_skipped(
    tmp_path: Path, embedder: FakeEmbedder, name: str, content: bytes, reason: str
) -> None:
    library = make_library(tmp_path / "lib")
    (library / "broken").mkdir()
    (library / "broken" / name).write_bytes(content)
    shutil.copyfile(FIXTURES / "malformed.vtt", library / "broken/malformed.vtt")
    summary = build_index(library, tmp_path / "index", embedder)
    failed = dict(summary.failed)
    assert set(failed) == {f"broken/{name}", "broken/malformed.vtt"}
    assert reason in failed[f"broken/{name}"]
    assert not failed[f"broken/{name}"].startswith(name)  # the path is shown beside it already
    assert "no valid WebVTT cues" in failed["broken/malformed.vtt"]
    assert summary.published and len(summary.added) == 6
    assert not any(c.source.startswith("broken/") for c in _live(tmp_path / "index").chunks)


def test_no_catalog_sessions_come_from_paths_and_headings(
    tmp_path: Path, embedder: FakeEmbedder
) -> None:
    library = make_library(tmp_path / "lib", catalog=None)
    build_index(library, tmp_path / "index", embedder)
    sessions = _live(tmp_path / "index").sessions
    assert sessions["exit-tickets/handout"].title == "Exit Ticket Handout"
    assert sessions["exit-tickets/handout"].tags == ("exit tickets", "formative assessment")
    assert sessions["tiered-tasks/planner"].title == "Tiered Task Planner"
    assert sessions["exit-tickets/recording"].title == "Recording"


def test_progress_reports_every_phase(tmp_path: Path, embedder: FakeEmbedder) -> None:
    events: list[Progress] = []
    summary = build_index(
        make_library(tmp_path / "lib"),
        tmp_path / "index",
        embedder,
        progress=events.append,
        batch_size=8,
    )
    phases = [e.phase for e in events]
    assert (
        phases.index("scan") < phases.index("parse") < phases.index("embed") < phases.index("write")
    )
    assert all(0 <= e.done <= e.total for e in events if e.total)
    embeds = [e for e in events if e.phase == "embed" and e.done]
    assert len(embeds) == -(-summary.embedded // 8)  # one event per batch
    assert embeds[-1].done == embeds[-1].total == summary.embedded
    assert any(e.detail == "exit-tickets/handout.md" for e in events if e.phase == "parse")


def test_missing_and_empty_libraries(tmp_path: Path, embedder: FakeEmbedder) -> None:
    with pytest.raises(LibraryError, match="No library at"):
        build_index(tmp_path / "nowhere", tmp_path / "index", embedder)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "catalog.yaml").write_text("sessions: []\n", encoding="utf-8")
    (empty / "sheet.xlsx").write_bytes(b"x")
    with pytest.raises(LibraryError, match=r"has no sessions: add \.vtt, \.srt, \.md"):
        build_index(empty, tmp_path / "index", embedder)


def test_only_broken_files_is_an_error_not_an_empty_index(
    tmp_path: Path, embedder: FakeEmbedder
) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "a.pdf").write_bytes(b"nope")
    with pytest.raises(LibraryError, match="could be indexed"):
        build_index(library, tmp_path / "index", embedder)
    assert IndexRoot(tmp_path / "index").current() is None


def test_bad_catalog_stops_the_build_before_anything_is_written(
    tmp_path: Path, embedder: FakeEmbedder
) -> None:
    library = make_library(tmp_path / "lib", catalog="sessions:\n  - id: [oops]\n")
    with pytest.raises(LibraryError, match="needs an 'id'"):
        build_index(library, tmp_path / "index", embedder)
    assert IndexRoot(tmp_path / "index").current() is None


def test_unwritable_index_dir_is_a_config_error(tmp_path: Path, embedder: FakeEmbedder) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data dir should be", encoding="utf-8")
    with pytest.raises(ConfigError, match="Cannot write the index"):
        build_index(make_library(tmp_path / "lib"), blocker / "index", embedder)


def test_two_builds_at_once_serialise(tmp_path: Path) -> None:
    library = make_library(tmp_path / "lib")
    for i in range(6):
        write_vtt(library / f"more/talk{i}.vtt", [f"Talk {i} line {k}." for k in range(60)])
    results: list[BuildSummary] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(build_index(library, tmp_path / "index", FakeEmbedder()))
        except BaseException as err:  # noqa: BLE001 - surfaced by the assert below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 2
    assert sorted(r.published for r in results) == [False, True]  # the second found it done
    root = IndexRoot(tmp_path / "index")
    assert root.versions() == [root.current_version()]
    assert not list((tmp_path / "index").glob(".build-*"))


def test_front_matter_of_the_wrong_type_skips_only_that_file(
    tmp_path: Path, embedder: FakeEmbedder
) -> None:
    library = make_library(tmp_path / "lib")
    (library / "extras/odd.md").write_text(
        "---\ntags: {not: a list}\n---\n\nSome text.\n", encoding="utf-8"
    )
    summary = build_index(library, tmp_path / "index", embedder)
    assert list(dict(summary.failed)) == ["extras/odd.md"]
    assert "'tags' must be a list" in dict(summary.failed)["extras/odd.md"]
    assert summary.published
