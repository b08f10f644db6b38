"""Claims that stay open until answered, and their takeover when the lease runs out."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from store import (
    Database,
    ProcessedEvent,
    claim_event,
    finish_event,
    take_stale_events,
    utcnow,
)
from store.migrate import downgrade, upgrade

WORK = {"incoming": {"text": "exit tickets?"}, "reply_to": {"platform": "slack"}}
GONE = timedelta(seconds=-1)  # a lease that has already run out


def _row(db: Database, key: str) -> ProcessedEvent:
    with db.session() as s:
        row = s.get(ProcessedEvent, key)
        assert row is not None
        return row


def test_a_claim_with_work_stays_open_until_finished(db: Database) -> None:
    with db.session() as s:
        assert claim_event(s, "slack:Ev1", "slack", holder="a:1", work=WORK)
        assert claim_event(s, "slack:Ev2", "slack")  # nothing to answer later: done at once
    assert _row(db, "slack:Ev1").status == "open"
    assert _row(db, "slack:Ev1").work == WORK
    assert _row(db, "slack:Ev2").status == "done"
    with db.session() as s:
        assert finish_event(s, "slack:Ev1") is True
        assert finish_event(s, "slack:Ev1") is False  # already done
    row = _row(db, "slack:Ev1")
    assert (row.status, row.work, row.lease_until) == ("done", None, None)


def test_the_same_holder_may_claim_again_after_a_lost_commit(db: Database) -> None:
    with db.session() as s:
        assert claim_event(s, "slack:Ev1", "slack", holder="a:1", work=WORK)
    with db.session() as s:
        assert claim_event(s, "slack:Ev1", "slack", holder="a:1", work=WORK) is True
        assert claim_event(s, "slack:Ev1", "slack", holder="b:2", work=WORK) is False
        assert claim_event(s, "slack:Ev1", "slack") is False


def test_only_claims_whose_lease_ran_out_are_taken_over(db: Database) -> None:
    with db.session() as s:
        claim_event(s, "slack:fresh", "slack", holder="a:1", work=WORK)
        claim_event(s, "slack:stale", "slack", holder="a:2", work=WORK, lease=GONE)
        claim_event(s, "slack:answered", "slack", holder="a:3", work=WORK, lease=GONE)
        finish_event(s, "slack:answered")
    with db.session() as s:
        taken = take_stale_events(s, "b:sweep", lease=timedelta(seconds=30))
    assert [(e.key, e.platform, e.work, e.attempts) for e in taken] == [
        ("slack:stale", "slack", WORK, 2)
    ]
    assert _row(db, "slack:stale").holder == "b:sweep"
    with db.session() as s:  # now leased to b: nobody else takes it
        assert take_stale_events(s, "c:sweep") == []


def test_takeover_is_limited_to_the_platforms_asked_for(db: Database) -> None:
    with db.session() as s:
        claim_event(s, "teams:1", "teams", holder="a:1", work=WORK, lease=GONE)
    with db.session() as s:
        assert take_stale_events(s, "b:sweep", platforms=["slack"]) == []
    with db.session() as s:
        assert [e.key for e in take_stale_events(s, "b:sweep", platforms=["teams"])] == ["teams:1"]


def test_a_message_that_keeps_failing_is_given_up_after_max_attempts(db: Database) -> None:
    with db.session() as s:
        claim_event(s, "slack:poison", "slack", holder="a:1", work=WORK, lease=GONE)
    for attempt in (2, 3):
        with db.session() as s:
            [event] = take_stale_events(s, f"r{attempt}", lease=GONE, max_attempts=3)
            assert event.attempts == attempt
    with db.session() as s:
        assert take_stale_events(s, "r4", lease=GONE, max_attempts=3) == []
    assert _row(db, "slack:poison").status == "failed"


def test_two_sweepers_at_once_never_take_the_same_claim(db_url: str, db: Database) -> None:
    with db.session() as s:
        for n in range(30):
            claim_event(s, f"slack:{n}", "slack", holder="dead", work=WORK, lease=GONE)
    taken: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def sweep(name: str) -> None:
        mine = Database.from_url(db_url)
        barrier.wait()
        got: list[str] = []
        for _ in range(10):
            with mine.session() as s:
                got += [e.key for e in take_stale_events(s, name, limit=5)]
        taken[name] = got
        mine.dispose()

    threads = [threading.Thread(target=sweep, args=(f"r{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [key for keys in taken.values() for key in keys]
    assert sorted(everything) == sorted(f"slack:{n}" for n in range(30))  # each exactly once


def test_migration_0003_keeps_earlier_events_as_done_and_goes_down(db_url: str) -> None:
    upgrade(db_url, "0002")
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO processed_events (event_key, platform, created_at) "
                    "VALUES ('slack:old', 'slack', :at)"
                ),
                {"at": utcnow()},
            )
        upgrade(db_url)
        db = Database(engine)
        row = _row(db, "slack:old")
        assert (row.status, row.work, row.attempts) == ("done", None, 1)
        with db.session() as s:
            assert take_stale_events(s, "r1") == []
        downgrade(db_url, "0002")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("processed_events")}
        assert columns == {"event_key", "platform", "created_at"}
    finally:
        engine.dispose()
