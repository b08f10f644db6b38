"""`staffroom reindex [--watch]`: one run, busy when another holds the lock, re-index on change."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.reindex import job
from bot.reindex.watch import library_state, run_cli, watch
from retrieval.snapshot import IndexRoot
from store import Database
from store.migrate import upgrade
from tests.ops.conftest import settings_for


def _until(predicate: Callable[[], bool], timeout: float = 15) -> None:
    """Wait for a condition set by another thread (a bounded poll, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_one_run_prints_the_summary_and_a_held_lock_makes_it_wait(
    tmp_path: Path, sqlite_url: str, library: Path, embedder
) -> None:
    settings = settings_for(tmp_path, sqlite_url, library)
    out = io.StringIO()
    assert run_cli(settings, library, embedder, out=out) == 0
    assert "Re-index finished: index v000001-" in out.getvalue()
    upgrade(sqlite_url)
    other = Database.from_url(sqlite_url)
    held = job.claim(other, "replica-1", "ann (slack:U1)", "slack")
    assert isinstance(held, job.Claim)
    try:
        out = io.StringIO()
        assert run_cli(settings, library, embedder, out=out) == 1
        assert "already running (started by ann (slack:U1)" in out.getvalue()
    finally:
        job.abandon(other, held, "test")
        other.dispose()


INTERVAL = 30.0


def _polls(stop: threading.Event, *steps: Callable[[], object] | None) -> Callable[[float], bool]:
    """A clock for ``watch``: each poll's interval passes at once and runs the next step (a
    change to the library, or None); after the last step the watch stops."""
    script = list(steps)

    def wait(seconds: float) -> bool:
        if seconds == INTERVAL:
            step = script.pop(0) if script else None
            if step is not None:
                step()
            if not script:
                stop.set()
        return stop.is_set()

    return wait


def test_watch_runs_at_start_and_again_only_after_the_library_changes(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("one", encoding="utf-8")
    runs: list[dict] = []
    stop = threading.Event()

    def run() -> bool:
        runs.append(library_state(tmp_path))
        return True

    clock = _polls(
        stop, None, None, None,  # several polls with no change: no run
        lambda: (tmp_path / "b.md").write_text("two", encoding="utf-8"), None, None,
        lambda: (tmp_path / "a.md").unlink(), None,
    )  # fmt: skip
    assert watch(tmp_path, INTERVAL, run, stop, settle=2.0, wait=clock) == 3
    assert [set(r) for r in runs] == [{"a.md"}, {"a.md", "b.md"}, {"b.md"}]


def test_watch_retries_a_run_that_could_not_take_the_lock(tmp_path: Path) -> None:
    answers = [False, True]
    calls: list[int] = []
    stop = threading.Event()

    def run() -> bool:
        calls.append(1)
        return answers[len(calls) - 1] if len(calls) <= len(answers) else True

    clock = _polls(stop, None, None, None, None)
    watch(tmp_path, INTERVAL, run, stop, settle=0, wait=clock)
    assert len(calls) == 2  # busy once, then done: nothing changed since


def test_watch_mode_reindexes_after_a_file_changes(
    tmp_path: Path, sqlite_url: str, library: Path, embedder
) -> None:
    settings = settings_for(tmp_path, sqlite_url, library)
    root = IndexRoot(settings.index_dir)
    stop = threading.Event()
    out = io.StringIO()
    thread = threading.Thread(
        target=run_cli,
        args=(settings, library, embedder),
        kwargs={"watching": True, "interval": 0.05, "stop": stop, "out": out},
    )
    thread.start()
    try:
        _until(lambda: root.current_version() is not None)
        first = root.current_version()
        (library / "exit-tickets/notes.md").write_text("# Exit tickets\n\nNew text.", "utf-8")
        _until(lambda: root.current_version() != first)
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive()
    assert out.getvalue().count("Re-index finished") == 2 and "changed 1" in out.getvalue()
