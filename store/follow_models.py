"""Follow-through tables: tries, scheduled check-ins and notices, reflections, idea followers,
pilot members and their verdicts, and each person's check-in preferences (with their school).

A person is ``(platform, user_id)``. ``follow_messages`` is the one schedule: a row per
proactive message to send (a check-in about a try, a pilot verdict request, an idea-moved
notice), taken by one replica at a time with a lease and sent through the delivery pipeline
under the key ``checkin:<id>``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, JSONType, utcnow


class FollowPerson(Base):
    """One teacher's follow-through settings: stopped check-ins, time zone, school."""

    __tablename__ = "follow_people"

    platform: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    school: Mapped[str] = mapped_column(sa.String(255), default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="")  # IANA name; "" = default
    stopped: Mapped[bool] = mapped_column(default=False)  # no more check-ins, anywhere
    stopped_reason: Mapped[str] = mapped_column(sa.String(64), default="")  # asked | gone
    stopped_at: Mapped[datetime | None]
    last_checkin_on: Mapped[date | None] = mapped_column(sa.Date)  # local date of the last one
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FollowTry(Base):
    """A teacher said *I'll try this* about a library session; one per person per session."""

    __tablename__ = "follow_tries"
    __table_args__ = (
        sa.UniqueConstraint("platform", "user_id", "session_id"),
        sa.Index("ix_follow_tries_session_outcome", "session_id", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    session_id: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    school: Mapped[str] = mapped_column(sa.String(255), default="")  # the person's, when tried
    question_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("questions.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # open (waiting for its check-in) | answered | stopped
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    # worked | partly | didnt_work; None until answered
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    answered_at: Mapped[datetime | None]


class FollowMessage(Base):
    """A scheduled proactive message: a check-in, a pilot verdict request or an idea notice.

    ``state``: due (waiting for ``due_at``) → sent → answered; or stopped (the person said stop
    or cannot be reached) or failed (gave up after ``attempts``). A replica takes a due row by
    setting ``lease_owner``/``lease_until``; an expired lease may be taken over.
    """

    __tablename__ = "follow_messages"
    __table_args__ = (
        sa.Index("ix_follow_messages_state_due", "state", "due_at"),
        sa.Index("ix_follow_messages_person", "platform", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(16))  # checkin | pilot | notice
    try_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("follow_tries.id", ondelete="CASCADE"), index=True
    )
    idea_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(sa.String(16), default="due")
    snoozes: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str] = mapped_column(sa.String(255), default="")
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(sa.String(32))
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowReflection(Base):
    """A one-line reflection after a check-in; scrubbed; private unless ``shared``."""

    __tablename__ = "follow_reflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    try_id: Mapped[int] = mapped_column(
        sa.ForeignKey("follow_tries.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    platform: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[str] = mapped_column(sa.String(128))
    school: Mapped[str] = mapped_column(sa.String(255), default="")
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.Text)  # scrubbed of names, emails, phone numbers
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdeaFollower(Base):
    """Someone following an idea: told when it moves to piloting, scaling or adopted."""

    __tablename__ = "idea_followers"

    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PilotMember(Base):
    """A teacher piloting an idea, and their verdict once asked."""

    __tablename__ = "pilot_members"

    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    school: Mapped[str] = mapped_column(sa.String(255), default="")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    verdict: Mapped[str | None] = mapped_column(sa.String(16))  # adopt | adapt | abandon
    evidence_url: Mapped[str] = mapped_column(sa.String(1024), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")  # scrubbed
    verdict_at: Mapped[datetime | None]
