"""Insights tables: scrubbed questions and their topics, sign-in links, page views, privacy log.

Nothing here holds a platform user id in the clear except the sign-in and page-view rows
(who may see and who saw the pages); questions are keyed by a pseudonym (``asker``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, utcnow


class InsightCluster(Base):
    """A topic: similar questions grouped around a centroid, with a readable label."""

    __tablename__ = "insight_clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(255), default="")
    # float32 little-endian bytes of the L2-normalised mean of its questions' embeddings
    centroid: Mapped[bytes] = mapped_column(sa.LargeBinary)
    members: Mapped[int] = mapped_column(default=0)
    # {term: count} over its members' scrubbed text (kept when the text itself is deleted)
    terms: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    dirty: Mapped[bool] = mapped_column(default=True)  # label and terms need recomputing
    model: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightQuestion(Base):
    """One asked question as insights see it: scrubbed text, pseudonymous asker, facets."""

    __tablename__ = "insight_questions"
    __table_args__ = (
        sa.Index("ix_insight_questions_week_cluster", "week", "cluster_id"),
        sa.Index("ix_insight_questions_cluster_week", "cluster_id", "week"),
    )

    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(index=True)
    week: Mapped[date] = mapped_column(sa.Date)  # Monday of its week in STAFFROOM_TIMEZONE
    asker: Mapped[int] = mapped_column(sa.BigInteger, index=True)  # pseudonym: scrub.asker_key
    text: Mapped[str | None] = mapped_column(sa.Text)  # scrubbed; NULL after retention
    good_match: Mapped[bool] = mapped_column(default=False)
    grade_band: Mapped[str | None] = mapped_column(sa.String(16))
    subject: Mapped[str | None] = mapped_column(sa.String(32))
    cluster_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("insight_clusters.id", ondelete="SET NULL")
    )


class InsightAnswer(Base):
    """A session (and moment) an answer sent the asker to, best first.

    ``week`` and ``asker`` repeat the question's, so library use is counted without a join.
    """

    __tablename__ = "insight_answers"
    __table_args__ = (sa.Index("ix_insight_answers_week_session", "week", "session_id"),)

    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("insight_questions.question_id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    moment_start: Mapped[int | None]  # seconds into the recording; None for documents
    week: Mapped[date] = mapped_column(sa.Date)
    asker: Mapped[int] = mapped_column(sa.BigInteger)


class InsightSignIn(Base):
    """A single-use sign-in link (only its hash is kept) for one staff member."""

    __tablename__ = "insight_sign_ins"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    user_name: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class InsightPageView(Base):
    """Who looked at which insights page, when."""

    __tablename__ = "insight_page_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    viewed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    user_name: Mapped[str] = mapped_column(sa.String(255), default="")
    method: Mapped[str] = mapped_column(sa.String(8), default="GET")
    path: Mapped[str] = mapped_column(sa.String(512))


class PrivacyLog(Base):
    """That a privacy action ran (a forget request, a retention sweep), never what it removed."""

    __tablename__ = "privacy_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(sa.String(32))  # forget | retention
    subject: Mapped[str] = mapped_column(sa.String(64), default="")  # the person's pseudonym
    requested_by: Mapped[str] = mapped_column(sa.String(255), default="")
    detail: Mapped[str] = mapped_column(sa.Text, default="")


class InsightSend(Base):
    """A proactive insights message claimed once (a week's digest, a person's gap DM that week)."""

    __tablename__ = "insight_sends"

    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # digest | gap_dm
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ref: Mapped[str] = mapped_column(sa.String(255), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
