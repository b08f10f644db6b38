"""`staffroom ingest` exit codes and --replace, `staffroom index list|rollback`, partial files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from retrieval.embedder import FakeEmbedder
from tests.ingest.builders import talk, write_vtt

BROKEN_CUES = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nExit tickets take two minutes.\n\n"
    "00:00:0x.000 --> 00:00:08.000\nA cue with a typo in its timing.\n"
)


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    """``run(*argv) -> (exit status, stdout, stderr)`` with a fake embedder and one data dir."""
    embedder = FakeEmbedder()
    monkeypatch.setattr(cli, "_embedder", lambda settings: embedder)
    monkeypatch.delenv("STAFFROOM_INDEX_KEEP_VERSIONS", raising=False)
    monkeypatch.setenv("STAFFROOM_EMBED_MODEL", embedder.name)  # what rollback checks against

    def call(*argv: str) -> tuple[int, str, str]:
        code = cli.main([*argv, "--data-dir", str(tmp_path / "data")])
        out, err = capsys.readouterr()
        return code, out, " ".join(err.split())  # as one line: rich wraps at the console width

    call.embedder = embedder  # type: ignore[attr-defined]
    return call


def _library(root: Path, topic: str) -> Path:
    write_vtt(root / "a.vtt", talk(topic, 20))
    (root / "notes.md").write_text(f"# {topic}\n\nWhat to try on Monday.\n", encoding="utf-8")
    return root


def test_a_failed_file_makes_ingest_exit_non_zero_unless_allowed(run, tmp_path) -> None:
    library = _library(tmp_path / "lib", "exit tickets")
    (library / "empty.vtt").write_text("", encoding="utf-8")
    code, _, err = run("ingest", str(library))
    assert code == 1
    assert "skipped empty.vtt: the file is empty." in err and "--allow-failures" in err
    assert "index version" in err  # the good files were still published
    code, _, err = run("ingest", str(library), "--allow-failures")
    assert code == 0 and "nothing changed" in err
    (library / "empty.vtt").unlink()
    assert run("ingest", str(library))[0] == 0


def test_another_folder_needs_replace(run, tmp_path) -> None:
    first = _library(tmp_path / "first", "exit tickets")
    other = _library(tmp_path / "other", "restorative circles")
    (other / "b.vtt").write_text(BROKEN_CUES, encoding="utf-8")
    assert run("ingest", str(first))[0] == 0
    code, _, err = run("ingest", str(other))
    assert code == 2 and "Traceback" not in err and err.startswith("staffroom: The live index")
    assert f"built from {first.resolve()}, not {other.resolve()}" in err
    assert "would remove 0 of the live index's 2 files" in err and "--replace" in err
    code, _, err = run("ingest", str(other), "--replace")
    assert code == 0 and "index version v000002-" in err
    assert "partial b.vtt: 1 of 2 cues skipped: no valid timing (lines 6)" in err
    assert "chunks (4 embedded, 0 from the cache)" in err
    code, out, _ = run("status")
    assert code == 0 and "partial        b.vtt: 1 of 2 cues skipped" in out
    # Back to the first folder: every vector comes from the embedding cache.
    before = run.embedder.calls  # type: ignore[attr-defined]
    code, _, err = run("ingest", str(first), "--replace")
    assert code == 0 and "3 chunks (0 embedded, 3 from the cache)" in err
    assert run.embedder.calls == before  # type: ignore[attr-defined]


def test_index_list_and_rollback(run, tmp_path) -> None:
    first = _library(tmp_path / "first", "exit tickets")
    other = _library(tmp_path / "other", "restorative circles")
    write_vtt(other / "more.vtt", talk("circles again", 5))
    assert run("index", "list")[0] == 2  # no index yet: a one-line error
    run("ingest", str(first))
    run("ingest", str(other), "--replace")
    code, out, _ = run("index", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["VERSION", "BUILT"]
    assert lines[1].startswith("  v000001-") and str(first.resolve()) in lines[1]
    assert lines[2].startswith("* v000002-") and str(other.resolve()) in lines[2]
    assert lines[2].split()[4:6] == ["3", "3"]  # files, sessions (one each: no catalog)
    assert "2 kept (STAFFROOM_INDEX_KEEP_VERSIONS=5)" in lines[-1]
    code, out, _ = run("index", "rollback")
    assert code == 0 and "v000001-" in out and "is live again (was v000002-" in out
    assert run("index", "list")[1].splitlines()[1].startswith("* v000001-")
    code, _, err = run("index", "rollback", "7")
    assert code == 2 and "no index version '7'" in err and "index list" in err
    code, out, _ = run("index", "rollback", "2")
    assert code == 0 and run("status")[1].startswith("index version  v000002-")


def test_reindex_from_a_shell_follows_the_same_rule(run, tmp_path) -> None:
    first = _library(tmp_path / "first", "exit tickets")
    other = _library(tmp_path / "other", "restorative circles")
    assert run("reindex", str(first))[0] == 0
    code, _, err = run("reindex", str(other))
    assert code == 1 and f"built from {first.resolve()}, not {other.resolve()}" in err
    code, _, err = run("reindex", str(other), "--replace")
    assert code == 0 and "index v000002-" in err and "changed 2 · removed 0" in err
