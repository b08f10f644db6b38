"""Re-index and status through the conversation core: admins only, one run at a time, progress
edited in place, the old index answering until the new one is published."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.app import build
from bot.reindex import job
from retrieval.search import Searcher
from retrieval.snapshot import IndexRoot
from store import Database, ReindexRun, acquire_lock, get_lock, start_reindex_run, utcnow
from tests.ops.conftest import ADMIN, TEACHER, say, settings_for, texts
from tests.scenarios.harness import RecordingCourier


def _runs(database: Database) -> list[ReindexRun]:
    with database.session() as s:
        return list(s.scalars(sa.select(ReindexRun).order_by(ReindexRun.id)))


def _with_courier(components) -> RecordingCourier:
    courier = RecordingCourier()
    components.core.delivery.register("slack", courier)
    return courier


async def test_terminal_admin_reindexes_in_the_foreground_and_status_reports_it(
    tmp_path, migrated_url, library, embedder
):
    components = build(settings_for(tmp_path, migrated_url, library), embedder=embedder)
    try:
        core = components.core
        said = texts(await core.handle(say("admin", "status")))
        assert "No index yet" in said and "No re-index has run" in said
        said = texts(await core.handle(say("admin", "reindex")))
        assert "Re-index finished: index v000001-" in said
        assert "Added 2 · changed 0 · removed 0 · unchanged 0 · failed 0" in said
        (library / "circles/guide.md").unlink()
        (library / "bad.pdf").write_bytes(b"not a pdf at all")
        said = texts(await core.handle(say("admin", "reindex")))
        assert "index v000002-" in said and "removed 1" in said and "failed 1" in said
        assert "Removed: circles/guide.md" in said and "Failed: bad.pdf: " in said
        said = texts(await core.handle(say("admin", "status")))
        assert "Index v000002-" in said and "1 sessions, 1 chunks" in said
        assert "Last re-index #2 by admin (terminal:admin)" in said and "succeeded" in said
        runs = _runs(components.database)
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        assert runs[-1].summary["removed"] == 1 and runs[-1].summary["failed"][0][0] == "bad.pdf"
        with components.database.session() as s:
            assert get_lock(s, job.LOCK) is None  # released
    finally:
        components.close()


async def test_non_admins_are_refused_on_every_surface_and_nothing_runs(
    tmp_path, sqlite_url, library, embedder
):
    components = build(settings_for(tmp_path, sqlite_url, library), embedder=embedder)
    courier = _with_courier(components)
    try:
        for platform, surface in [("terminal", "terminal"), ("slack", "command"), ("slack", "dm"),
                                  ("teams", "dm"), ("slack", "mention")]:  # fmt: skip
            for text in ("reindex", "status", "REINDEX now"):
                said = texts(await components.core.handle(say(TEACHER, text, platform, surface)))
                assert "Only Staffroom admins can do that" in said, (platform, surface, text)
        assert _runs(components.database) == []
        assert IndexRoot(tmp_path / "data/index").current_version() is None
        assert courier.sent == [] and embedder.calls == 0
        # "status ..." with words after it is a question, answered as usual.
        said = texts(await components.core.handle(say(TEACHER, "status of exit tickets piles")))
        assert "Only Staffroom admins" not in said
    finally:
        components.close()


async def test_a_second_request_is_told_who_runs_it_and_progress_is_edited_in_place(
    tmp_path, migrated_url, library, embedder
):
    components = build(settings_for(tmp_path, migrated_url, library), embedder=embedder)
    courier = _with_courier(components)
    flow = components.reindex
    assert flow is not None
    flow.deps = replace(flow.deps, progress_seconds=0.02)
    try:
        embedder.hold()
        replies = await components.core.handle(say(ADMIN, "reindex", "slack", "dm"))
        assert replies == []  # the progress message in the DM is the answer
        await embedder.wait_held()
        [(where, first)] = courier.sent
        assert (where.conversation_id, first.text) == (f"D{ADMIN}", "Re-index #1 started…")
        said = texts(await components.core.handle(say("admin", "reindex")))
        assert "already running (started by uadmin (slack:UADMIN) since " in said
        other = Database.from_url(migrated_url)  # another replica sees the same lock
        try:
            held = job.claim(other, "replica-2", "someone (teams:x)", "teams")
            assert isinstance(held, job.Busy) and held.started_by == "uadmin (slack:UADMIN)"
        finally:
            other.dispose()

        async def progress_shown() -> None:
            while not any("Re-indexing the library…" in r.text for _, r in courier.updated):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(progress_shown(), 10)
        shown = [r.text for _, r in courier.updated if "%" in r.text][-1]
        assert "files 2/2 checked · 2/2 new or changed read · chunks 0/2 embedded" in shown
        embedder.gate.set()
        await flow.settle()
        ref, final = courier.updated[-1]
        assert ref.key == f"D{ADMIN}:1.0"
        assert final.text.startswith("Re-index finished: index v000001-")
        assert len(courier.sent) == 1  # one message, edited in place
        assert [r.status for r in _runs(components.database)] == ["succeeded"]
        with components.database.session() as s:
            assert get_lock(s, job.LOCK) is None
    finally:
        embedder.gate.set()
        components.close()


async def test_questions_use_the_old_index_during_a_run_and_every_replica_gets_the_new_one(
    tmp_path, sqlite_url, library, embedder
):
    settings = settings_for(tmp_path, sqlite_url, library)
    components = build(settings, embedder=embedder)
    _with_courier(components)
    other_replica = Searcher(settings.index_dir, embedder, refresh_s=0.05)
    try:
        await components.core.handle(say("admin", "reindex"))
        old = IndexRoot(settings.index_dir).current_version()
        (library / "stations/rotation.md").parent.mkdir()
        (library / "stations/rotation.md").write_text(
            "# Station rotation\n\nThree stations and a timer for transitions.", encoding="utf-8"
        )
        embedder.hold()
        await components.core.handle(say(ADMIN, "reindex", "slack", "dm"))
        await embedder.wait_held()
        during = components.core.retriever.search("station rotation timer", k=3)
        assert during.index_version == old
        assert "Station rotation" not in [r.session.title for r in during.results]
        said = texts(await components.core.handle(say(TEACHER, "how do exit tickets work?")))
        assert "Exit tickets" in said  # answered meanwhile
        embedder.gate.set()
        assert components.reindex is not None
        await components.reindex.settle()
        new = IndexRoot(settings.index_dir).current_version()
        assert new != old

        async def picked_up(searcher) -> None:
            while searcher.search("station rotation timer", k=3).index_version != new:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(picked_up(components.core.retriever), 10)
        await asyncio.wait_for(picked_up(other_replica), 10)
        top = other_replica.search("station rotation timer", k=1).results[0]
        assert top.session.title == "Station rotation"
    finally:
        embedder.gate.set()
        components.close()


async def test_a_failed_run_is_recorded_the_lock_released_and_the_live_index_kept(
    tmp_path, sqlite_url, library, embedder
):
    settings = settings_for(tmp_path, sqlite_url, library)
    components = build(settings, embedder=embedder)
    try:
        await components.core.handle(say("admin", "reindex"))
        live = IndexRoot(settings.index_dir).current_version()
        for path in sorted(library.rglob("*.md")):
            path.unlink()
        said = texts(await components.core.handle(say("admin", "reindex")))
        assert said.startswith("Re-index failed: ") and f"The live index ({live}) keeps" in said
        assert IndexRoot(settings.index_dir).current_version() == live
        runs = _runs(components.database)
        assert runs[-1].status == "failed" and "has no sessions" in runs[-1].error
        said = texts(await components.core.handle(say("admin", "status")))
        assert "failed" in said and "Error: " in said
        said = texts(await components.core.handle(say("admin", "reindex")))
        assert "already running" not in said  # the lock was released
    finally:
        components.close()


def test_a_dead_replicas_lock_expires_and_its_run_is_marked_interrupted(db: Database) -> None:
    with db.session() as s:
        past = utcnow() - timedelta(seconds=job.LOCK_TTL * 2)
        assert acquire_lock(s, job.LOCK, "dead-replica|ann (slack:U1)", job.LOCK_TTL, now=past)
        start_reindex_run(s, "ann (slack:U1)", "slack")
    held = job.claim(db, "replica-2", "bob (teams:B)", "teams")
    assert isinstance(held, job.Claim)
    runs = _runs(db)
    assert [(r.started_by, r.status) for r in runs] == [
        ("ann (slack:U1)", "failed"),
        ("bob (teams:B)", "running"),
    ]
    assert runs[0].error.startswith("interrupted")
    job.abandon(db, held, "test")
    with db.session() as s:
        assert get_lock(s, job.LOCK) is None


def test_the_lock_is_renewed_while_a_build_runs(sqlite_db: Database, tmp_path: Path) -> None:
    held = job.claim(sqlite_db, "r1", "ann", "cli")
    assert isinstance(held, job.Claim)
    renewer = job._Renewer(sqlite_db, held.holder, ttl=0.3)
    with sqlite_db.session() as s:
        first = get_lock(s, job.LOCK).acquired_at
    renewer.start()
    try:
        for _ in range(200):
            with sqlite_db.session() as s:
                if get_lock(s, job.LOCK).acquired_at > first:
                    break
            renewer._stop.wait(0.01)
        with sqlite_db.session() as s:
            assert get_lock(s, job.LOCK).acquired_at > first  # renewed
    finally:
        renewer.stop()
        job.abandon(sqlite_db, held, "test")


def test_progress_percentages_only_grow() -> None:
    from ingest import Progress

    tracker = job.Tracker()
    seen = []
    for event in [Progress("scan", 1, 4), Progress("scan", 4, 4), Progress("parse", 2, 4),
                  Progress("embed", 0, 10), Progress("embed", 10, 10), Progress("write", 1, 1),
                  Progress("scan", 0, 0, "waiting")]:  # fmt: skip
        tracker(event)
        seen.append(tracker.percent)
    assert seen == sorted(seen) and seen[-1] == 100
    assert tracker.text() == (
        "Re-indexing the library… 100% · files 4/4 checked · 2/4 new or changed read · "
        "chunks 10/10 embedded"
    )
