"""Database locks and the re-index run log."""

from __future__ import annotations

from datetime import timedelta

from store import (
    Database,
    acquire_lock,
    finish_reindex_run,
    get_lock,
    latest_reindex_run,
    release_lock,
    start_reindex_run,
    utcnow,
)


def test_lock_acquire_refuse_release(db: Database) -> None:
    with db.session() as s:
        assert acquire_lock(s, "reindex", "replica-a", 60)
    with db.session() as s:
        assert not acquire_lock(s, "reindex", "replica-b", 60)
        assert acquire_lock(s, "reindex", "replica-a", 60)  # renewal by the holder
        assert not release_lock(s, "reindex", "replica-b")
    with db.session() as s:
        lock = get_lock(s, "reindex")
        assert lock is not None and lock.holder == "replica-a"
        assert release_lock(s, "reindex", "replica-a")
    with db.session() as s:
        assert get_lock(s, "reindex") is None
        assert acquire_lock(s, "reindex", "replica-b", timedelta(minutes=5))


def test_expired_lock_is_taken_over(db: Database) -> None:
    past = utcnow() - timedelta(hours=1)
    with db.session() as s:
        assert acquire_lock(s, "reindex", "crashed", 60, now=past)
    with db.session() as s:
        assert acquire_lock(s, "reindex", "replica-b", 60)
        lock = get_lock(s, "reindex")
        assert lock is not None and lock.holder == "replica-b"
        assert lock.expires_at > utcnow()
    with db.session() as s:
        assert not release_lock(s, "reindex", "crashed")


def test_reindex_runs(db: Database) -> None:
    with db.session() as s:
        assert latest_reindex_run(s) is None
        run_id = start_reindex_run(s, "U1", "slack").id
    with db.session() as s:
        run = latest_reindex_run(s)
        assert run is not None and (run.id, run.status, run.finished_at) == (
            run_id,
            "running",
            None,
        )
        finish_reindex_run(s, run_id, succeeded=False, summary={"files": 3}, error="bad pdf")
    with db.session() as s:
        run = latest_reindex_run(s)
        assert run is not None
        assert (run.status, run.summary, run.error) == ("failed", {"files": 3}, "bad pdf")
        assert run.finished_at is not None
