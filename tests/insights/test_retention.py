"""Retention deletes old question text (aggregates stay); forget deletes one person's records."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

import store
from insights.overview import overview
from insights.period import Period
from insights.retention import Person, expire_question_text, forget
from insights.scrub import asker_key
from insights.upkeep import run_upkeep
from retrieval.embedder import FakeEmbedder
from store import (
    ContentGap,
    ConversationState,
    Database,
    Feedback,
    InsightQuestion,
    PitchDraft,
    PrivacyLog,
    Question,
)
from tests.insights.helpers import MONDAY, NOW, ask, at, people


def test_the_retention_job_deletes_old_text_and_keeps_the_counts(db: Database) -> None:
    with db.session() as s:
        for user in people(6):
            ask(s, user, "old chromebook question from jayden", good=False, when=at(20))
            ask(s, user, "new exit ticket question", when=at(0))
    period = Period(MONDAY - timedelta(weeks=25), MONDAY)
    with db.session() as s:
        before = overview(s, period, 5)
    report = run_upkeep(
        db, FakeEmbedder().embed_queries, model="fake", retention_days=90, holder="test", now=NOW
    )
    assert report.expired == 6
    with db.session() as s:
        old = s.execute(
            sa.select(Question.text, InsightQuestion.text)
            .join(InsightQuestion, InsightQuestion.question_id == Question.id)
            .where(Question.created_at < NOW - timedelta(days=90))
        ).all()
        assert old and all(raw == "" and kept is None for raw, kept in old)
        assert {g.text for g in s.query(ContentGap)} == {""}
        recent = s.scalars(
            sa.select(InsightQuestion.text).where(
                InsightQuestion.created_at >= NOW - timedelta(days=90)
            )
        ).all()
        assert set(recent) == {"new exit ticket question"}
        after = overview(s, period, 5)
        assert after == before  # aggregates stay
        (log,) = s.query(PrivacyLog).all()
        assert log.action == "retention" and "jayden" not in log.detail
    # Old questions are never grouped again (their text is gone), and a second run is a no-op.
    with db.session() as s:
        assert expire_question_text(s, 90, now=NOW) == 0


def test_forget_deletes_one_persons_records_and_logs_only_that_it_did(db: Database) -> None:
    with db.session() as s:
        mine = ask(s, "UGONE", "jayden keeps leaving", good=False, helpful=False)
        theirs = ask(s, "UOTHER", "exit tickets")
        store.record_feedback(s, theirs, "slack", "UGONE", True)
        store.save_state(s, "slack", "UGONE", flow="pitch", data={"last_question_id": mine})
        s.add(PitchDraft(platform="slack", user_id="UGONE", step="title", answers={"title": "x"}))
    with db.session() as s:
        forget(s, Person.parse("slack:UGONE"), requested_by="cli:admin")
    with db.session() as s:
        assert s.scalars(sa.select(Question.user_id)).all() == ["UOTHER"]
        assert s.query(Feedback).filter_by(user_id="UGONE").count() == 0
        assert s.query(ContentGap).count() == 0
        assert s.scalars(sa.select(InsightQuestion.asker)).all() == [asker_key("slack", "UOTHER")]
        assert s.query(PitchDraft).count() == 0 and s.query(ConversationState).count() == 0
        (log,) = s.query(PrivacyLog).all()
        assert (log.action, log.requested_by, log.detail) == ("forget", "cli:admin", "")
        assert "UGONE" not in log.subject and log.subject == Person("UGONE", "slack").subject


def test_retention_deletes_old_reflections_shared_or_private_and_keeps_the_tries(
    db: Database,
) -> None:
    from follow import tries
    from store import FollowReflection, FollowTry

    with db.session() as s:
        kept = []
        for user, shared in (("UA", False), ("UB", True), ("UC", False)):
            started = tries.start_try(s, "slack", user, "exit-tickets", "Exit Tickets", NOW)
            line = tries.reflect(s, "slack", user, started.try_id, f"{user} liked it")
            if shared:
                tries.share(s, "slack", user, line, True)
            kept.append(line)
        s.execute(  # UA's and UB's lines are older than the retention period, UC's is not
            sa.update(FollowReflection)
            .where(FollowReflection.user_id.in_(["UA", "UB"]))
            .values(created_at=NOW - timedelta(days=91))
        )
    with db.session() as s:
        expire_question_text(s, 90, now=NOW)
    with db.session() as s:
        assert s.scalars(sa.select(FollowReflection.text)).all() == ["UC liked it"]
        assert s.query(FollowTry).count() == 3  # the tries (and their outcomes) stay
        (log,) = s.query(PrivacyLog).all()
        assert log.action == "retention" and "UA" not in log.detail
