"""Conversation and operations tables: state, dedupe, questions, feedback, gaps, locks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, utcnow


class ConversationState(Base):
    """Per-user conversation state that survives restarts."""

    __tablename__ = "conversation_states"

    platform: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    flow: Mapped[str | None] = mapped_column(sa.String(64))
    step: Mapped[str | None] = mapped_column(sa.String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedEvent(Base):
    """A platform event some replica took; dedupes retries across restarts and processes.

    A message that needs an answer is kept "open" with what is needed to answer it (``work``)
    until its replies are posted ("done"). ``holder`` leases it until ``lease_until``: an open
    event whose lease ran out (its replica died mid-answer) is taken over by another replica.
    """

    __tablename__ = "processed_events"
    __table_args__ = (sa.Index("ix_processed_events_status_lease", "status", "lease_until"),)

    event_key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # open | done | failed (given up after too many takeovers)
    status: Mapped[str] = mapped_column(sa.String(16), default="done", server_default="done")
    holder: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")
    work: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Question(Base):
    """Every question asked, with what the bot answered."""

    __tablename__ = "questions"
    __table_args__ = (sa.Index("ix_questions_platform_user", "platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    channel_id: Mapped[str | None] = mapped_column(sa.String(255))
    thread_id: Mapped[str | None] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    index_version: Mapped[str] = mapped_column(sa.String(64), default="")
    good_match: Mapped[bool] = mapped_column(default=False)
    top_score: Mapped[float | None] = mapped_column(sa.Float)
    # [{session_id, score, source, start, end}, ...] best first
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    latency_ms: Mapped[int] = mapped_column(default=0)
    reply_ref: Mapped[str | None] = mapped_column(sa.String(255))


class Feedback(Base):
    """One person's helpful/not-helpful vote on an answer; re-voting updates it."""

    __tablename__ = "feedback"
    __table_args__ = (sa.UniqueConstraint("question_id", "platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    helpful: Mapped[bool]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContentGap(Base):
    """A question the library could not answer well (below the match threshold)."""

    __tablename__ = "content_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ConversationRef(Base):
    """Where to reach a user later (Teams needs the stored conversation reference)."""

    __tablename__ = "conversation_refs"

    platform: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(255))
    reference: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReindexRun(Base):
    """One re-index of the session library, started from chat or the CLI."""

    __tablename__ = "reindex_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_by: Mapped[str] = mapped_column(sa.String(128))
    platform: Mapped[str] = mapped_column(sa.String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # running | succeeded | failed
    status: Mapped[str] = mapped_column(sa.String(16), default="running")
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str] = mapped_column(sa.Text, default="")


class Lock(Base):
    """A named lock shared by every replica; an expired row may be taken over."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(255))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
