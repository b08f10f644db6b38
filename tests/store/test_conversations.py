"""Event dedupe, conversation state, question log, feedback, gaps and references."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from store import (
    Database,
    Feedback,
    claim_event,
    clear_state,
    get_conversation_ref,
    get_question,
    get_state,
    list_gaps,
    log_question,
    prune_events,
    record_feedback,
    record_gap,
    save_conversation_ref,
    save_state,
    set_reply_ref,
    utcnow,
)


def test_claim_event_true_once(db: Database) -> None:
    with db.session() as s:
        assert claim_event(s, "slack:Ev1", "slack") is True
        assert claim_event(s, "slack:Ev1", "slack") is False
        assert claim_event(s, "slack:Ev2", "slack") is True
    with db.session() as s:  # and across sessions (a restart)
        assert claim_event(s, "slack:Ev1", "slack") is False


def test_claim_event_rolled_back_can_be_claimed_again(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        assert claim_event(s, "slack:Ev1", "slack")
        raise RuntimeError("handler failed before commit")
    with db.session() as s:
        assert claim_event(s, "slack:Ev1", "slack")


def test_claim_event_from_many_threads_at_once(db_url: str, db: Database) -> None:
    n = 6
    barrier = threading.Barrier(n)
    wins: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        own = Database.from_url(db_url)  # one engine each, like separate processes
        try:
            barrier.wait(timeout=30)
            with own.session() as s:
                won = claim_event(s, "slack:EvRace", "slack")
            wins.append(won)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(wins) == [False] * (n - 1) + [True]


def _claim_in_process(url: str, barrier: threading.Barrier, results: multiprocessing.Queue) -> None:
    db = Database.from_url(url)
    try:
        barrier.wait(timeout=60)
        with db.session() as s:
            results.put(claim_event(s, "slack:EvProc", "slack"))
    except BaseException as err:  # noqa: BLE001 - reported to the parent
        results.put(repr(err))
    finally:
        db.dispose()


def test_claim_event_from_two_processes_at_once(db_url: str, db: Database) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_claim_in_process, args=(db_url, barrier, results)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    got = sorted(str(results.get(timeout=120)) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert got == ["False", "True"]


def test_prune_events(db: Database) -> None:
    with db.session() as s:
        claim_event(s, "slack:old", "slack")
    with db.session() as s:
        assert prune_events(s, utcnow() + timedelta(seconds=1)) == 1
        assert claim_event(s, "slack:old", "slack")


def test_state_save_replace_clear(db: Database) -> None:
    with db.session() as s:
        assert get_state(s, "slack", "U1") is None
        save_state(s, "slack", "U1", flow="pitch", step="title", data={"n": 1, "t": "é 🍎"})
    with db.session() as s:
        st = get_state(s, "slack", "U1")
        assert st is not None and (st.flow, st.step, st.data) == (
            "pitch",
            "title",
            {"n": 1, "t": "é 🍎"},
        )
        save_state(s, "slack", "U1", flow=None, step=None, data={})
        save_state(s, "teams", "U1", flow="triage")  # same id, other platform: separate
    with db.session() as s:
        st = get_state(s, "slack", "U1")
        assert st is not None and (st.flow, st.data) == (None, {})
        clear_state(s, "slack", "U1")
    with db.session() as s:
        assert get_state(s, "slack", "U1") is None
        other = get_state(s, "teams", "U1")
        assert other is not None and other.flow == "triage"


def _ask(s: sa.orm.Session, good: bool = True) -> int:
    q = log_question(
        s,
        platform="slack",
        user_id="U1",
        channel_id="C1",
        thread_id="1700000000.0001",
        text="How do I run exit tickets?\u202e\x00?",
        good_match=good,
        top_score=0.71 if good else 0.12,
        results=[
            {
                "session_id": "exit-tickets",
                "score": 0.71,
                "source": "t.vtt",
                "start": 12.5,
                "end": 40.0,
            }
        ],
        latency_ms=123,
        index_version="v3",
    )
    return q.id


def test_question_log_round_trip(db: Database) -> None:
    with db.session() as s:
        qid = _ask(s)
        set_reply_ref(s, qid, "C1:1700000000.0002")
    with db.session() as s:
        q = get_question(s, qid)
        assert q is not None
        # NUL is dropped (PostgreSQL cannot store it); everything else is kept as typed.
        assert q.text == "How do I run exit tickets?\u202e?"
        assert q.results[0] == {
            "session_id": "exit-tickets",
            "score": 0.71,
            "source": "t.vtt",
            "start": 12.5,
            "end": 40.0,
        }
        assert (q.good_match, q.top_score, q.latency_ms, q.reply_ref) == (
            True,
            0.71,
            123,
            "C1:1700000000.0002",
        )


def test_feedback_revote_updates(db: Database) -> None:
    with db.session() as s:
        qid = _ask(s)
        record_feedback(s, qid, "slack", "U1", True)
        record_feedback(s, qid, "slack", "U2", True)
    with db.session() as s:
        fb = record_feedback(s, qid, "slack", "U1", False, "too long")
        assert (fb.helpful, fb.comment) == (False, "too long")
    with db.session() as s:
        rows = s.scalars(sa.select(Feedback).order_by(Feedback.user_id)).all()
        assert [(r.user_id, r.helpful) for r in rows] == [("U1", False), ("U2", True)]


def test_feedback_needs_a_real_question(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session() as s:
        record_feedback(s, 999, "slack", "U1", True)


def test_gaps(db: Database) -> None:
    with db.session() as s:
        qid = _ask(s, good=False)
        record_gap(s, qid, "co-teaching with a para?")
    with db.session() as s:
        gaps = list_gaps(s)
        assert [(g.question_id, g.text) for g in gaps] == [(qid, "co-teaching with a para?")]
        assert list_gaps(s, since=utcnow() + timedelta(minutes=1)) == []


def test_conversation_refs(db: Database) -> None:
    ref = {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/", "bot": {"id": "b"}}
    with db.session() as s:
        assert get_conversation_ref(s, "teams", "29:u") is None
        save_conversation_ref(s, "teams", "29:u", "a:1", ref)
    with db.session() as s:
        got = get_conversation_ref(s, "teams", "29:u")
        assert got is not None and (got.conversation_id, got.reference) == ("a:1", ref)
        save_conversation_ref(s, "teams", "29:u", "a:2", {})
    with db.session() as s:
        got = get_conversation_ref(s, "teams", "29:u")
        assert got is not None and got.conversation_id == "a:2"
