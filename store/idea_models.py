"""Idea queue tables: ideas, pitch drafts, comments, votes, design questions, audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, utcnow


class DesignQuestion(Base):
    """A question central staff pose to teachers ("How might we ...?"), open for pitches."""

    __tablename__ = "design_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    author_platform: Mapped[str] = mapped_column(sa.String(32))
    author_id: Mapped[str] = mapped_column(sa.String(128))
    status: Mapped[str] = mapped_column(sa.String(16), default="open", index=True)  # open|closed
    announce_ref: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Idea(Base):
    """A practice a teacher pitched, moving through the triage statuses."""

    __tablename__ = "ideas"
    __table_args__ = (sa.Index("ix_ideas_author", "author_platform", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(255))
    practice: Mapped[str] = mapped_column(sa.Text)
    problem: Mapped[str] = mapped_column(sa.Text)
    grade_bands: Mapped[list[str]] = mapped_column(JSONType, default=list)
    subjects: Mapped[list[str]] = mapped_column(JSONType, default=list)
    school: Mapped[str] = mapped_column(sa.String(255), default="")
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    help_needed: Mapped[str] = mapped_column(sa.Text, default="")
    author_platform: Mapped[str] = mapped_column(sa.String(32))
    author_id: Mapped[str] = mapped_column(sa.String(128))
    author_name: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[str] = mapped_column(sa.String(32), default="new", index=True)
    question_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("design_questions.id", ondelete="SET NULL"), index=True
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="SET NULL")
    )
    # [{session_id, title, start}, ...]
    related_sessions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # float32 little-endian bytes of the title+practice embedding
    embedding: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    embedding_model: Mapped[str] = mapped_column(sa.String(255), default="")
    review_channel: Mapped[str | None] = mapped_column(sa.String(255))
    review_ref: Mapped[str | None] = mapped_column(sa.String(255))
    review_post_status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    review_post_attempts: Mapped[int] = mapped_column(default=0)
    review_post_error: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PitchDraft(Base):
    """A pitch in progress; one per user, saved after every answer."""

    __tablename__ = "pitch_drafts"

    platform: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    step: Mapped[str] = mapped_column(sa.String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    question_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("design_questions.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Comment(Base):
    """A comment on an idea (from chat or a review-thread reply)."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    author_id: Mapped[str] = mapped_column(sa.String(128))
    author_name: Mapped[str] = mapped_column(sa.String(255), default="")
    text: Mapped[str] = mapped_column(sa.Text)
    # e.g. the Slack message ts of a thread reply, so it is stored once
    external_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vote(Base):
    """A "try" or "tried" from one person; one per person per idea per kind."""

    __tablename__ = "votes"
    __table_args__ = (sa.UniqueConstraint("idea_id", "platform", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(16))  # try|tried
    outcome: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdeaEvent(Base):
    """Append-only audit trail of an idea's status changes."""

    __tablename__ = "idea_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(sa.ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    actor_platform: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[str] = mapped_column(sa.String(128))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
