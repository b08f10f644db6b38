"""Question text is kept only so long, and one person's records go on request.

``expire_question_text`` (the server's daily job) deletes question text older than the
retention setting: the raw text the bot logged and the scrubbed copy insights kept. Rows stay,
so counts, topics and trends (aggregates) do not change. Follow-through reflections (the one
line a teacher wrote after a check-in) older than the same period are deleted too, shared or
private: both are a teacher's own words; the try and its outcome stay, so "tried by 12
colleagues — 9 say it worked" does not change. ``forget`` deletes one person's
questions, votes, pitch drafts and conversation state, and records *that* it did so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from store import (
    ContentGap,
    ConversationState,
    Feedback,
    FollowReflection,
    InsightAnswer,
    InsightCluster,
    InsightQuestion,
    InsightSignIn,
    PitchDraft,
    PrivacyLog,
    Question,
    utcnow,
)
from store.upsert import affected


def expire_question_text(s: Session, days: int, now: datetime | None = None) -> int:
    """Delete question text older than ``days``; returns how many questions lost theirs."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = Question.created_at < cutoff
    cleared = affected(
        s.execute(sa.update(Question).where(old, Question.text != "").values(text=""))
    )
    old_ids = sa.select(Question.id).where(old)
    s.execute(
        sa.update(ContentGap)
        .where(ContentGap.question_id.in_(old_ids), ContentGap.text != "")
        .values(text="")
    )
    s.execute(
        sa.update(Feedback)
        .where(Feedback.question_id.in_(old_ids), Feedback.comment != "")
        .values(comment="")
    )
    s.execute(
        sa.update(InsightQuestion)
        .where(InsightQuestion.created_at < cutoff, InsightQuestion.text.is_not(None))
        .values(text=None)
    )
    reflections = affected(
        s.execute(sa.delete(FollowReflection).where(FollowReflection.created_at < cutoff))
    )
    if cleared or reflections:
        s.add(
            PrivacyLog(
                action="retention",
                requested_by="scheduled job",
                created_at=utcnow(),
                detail=f"question text and reflections from before {cutoff:%Y-%m-%d} deleted",
            )
        )
    return cleared


@dataclass(frozen=True)
class Person:
    """Whom to forget: ``platform`` "" means the id on every platform."""

    user_id: str
    platform: str = ""

    @classmethod
    def parse(cls, text: str) -> Person:
        """ "slack:U123" or "U123"."""
        platform, sep, user = text.strip().partition(":")
        if sep and platform in ("slack", "teams", "terminal") and user:
            return cls(user, platform)
        return cls(text.strip())

    def matches(
        self, platform_col: InstrumentedAttribute[str], user_col: InstrumentedAttribute[str]
    ) -> sa.ColumnElement[bool]:
        cond = user_col == self.user_id
        return sa.and_(cond, platform_col == self.platform) if self.platform else cond

    @property
    def subject(self) -> str:
        """The pseudonym the privacy log keeps (the id itself is not kept)."""
        return hashlib.sha256(f"{self.platform or '*'}:{self.user_id}".encode()).hexdigest()[:32]


def forget(s: Session, person: Person, requested_by: str) -> None:
    """Delete the person's questions (with their gaps, votes and insight rows), their votes,
    pitch drafts and conversation state; log that it was done, not what."""
    mine = sa.select(Question.id).where(person.matches(Question.platform, Question.user_id))
    clusters = set(
        s.scalars(
            sa.select(InsightQuestion.cluster_id).where(
                InsightQuestion.question_id.in_(mine), InsightQuestion.cluster_id.is_not(None)
            )
        )
    )
    # Children first: no reliance on the database cascading for us.
    s.execute(sa.delete(InsightAnswer).where(InsightAnswer.question_id.in_(mine)))
    s.execute(sa.delete(InsightQuestion).where(InsightQuestion.question_id.in_(mine)))
    s.execute(sa.delete(ContentGap).where(ContentGap.question_id.in_(mine)))
    s.execute(sa.delete(Feedback).where(Feedback.question_id.in_(mine)))
    s.execute(sa.delete(Feedback).where(person.matches(Feedback.platform, Feedback.user_id)))
    s.execute(sa.delete(Question).where(Question.id.in_(mine)))
    s.execute(sa.delete(PitchDraft).where(person.matches(PitchDraft.platform, PitchDraft.user_id)))
    s.execute(
        sa.delete(ConversationState).where(
            person.matches(ConversationState.platform, ConversationState.user_id)
        )
    )
    s.execute(
        sa.delete(InsightSignIn).where(
            person.matches(InsightSignIn.platform, InsightSignIn.user_id)
        )
    )
    if clusters:
        # Their words leave the topics' labels at the next relabel.
        s.execute(
            sa.update(InsightCluster)
            .where(InsightCluster.id.in_(clusters))
            .values(dirty=True, terms={})
        )
    s.add(
        PrivacyLog(
            action="forget",
            subject=person.subject,
            requested_by=requested_by[:255],
            created_at=utcnow(),
        )
    )
