"""A teacher's follow-through settings: stopped check-ins, time zone, school."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from store import FollowMessage, FollowPerson, FollowTry, Idea, utcnow

# Messages a stop ends: every scheduled one not yet answered.
PENDING = ("due", "sent")


@dataclass(frozen=True)
class Person:
    platform: str
    user_id: str
    school: str
    timezone: str
    stopped: bool


def _row(s: Session, platform: str, user_id: str) -> FollowPerson:
    """The person's row, created on first use (a concurrent first use is tolerated)."""
    row = s.get(FollowPerson, (platform, user_id))
    if row is not None:
        return row
    try:
        with s.begin_nested():
            row = FollowPerson(
                platform=platform, user_id=user_id, school=_pitched_school(s, platform, user_id)
            )
            s.add(row)
            s.flush()
    except sa.exc.IntegrityError:
        row = s.get(FollowPerson, (platform, user_id))
        assert row is not None
    return row


def _pitched_school(s: Session, platform: str, user_id: str) -> str:
    """The school the person gave in their latest pitch ("" when none)."""
    school = s.scalar(
        sa.select(Idea.school)
        .where(Idea.author_platform == platform, Idea.author_id == user_id, Idea.school != "")
        .order_by(Idea.id.desc())
        .limit(1)
    )
    return school or ""


def person(s: Session, platform: str, user_id: str) -> Person:
    row = _row(s, platform, user_id)
    if not row.school:
        row.school = _pitched_school(s, platform, user_id)
    return Person(platform, user_id, row.school, row.timezone, row.stopped)


def set_timezone(s: Session, platform: str, user_id: str, timezone: str) -> None:
    row = _row(s, platform, user_id)
    if timezone and row.timezone != timezone:
        row.timezone = timezone[:64]


def set_school(s: Session, platform: str, user_id: str, school: str) -> Person:
    """The person's school from now on (their next tries count for it)."""
    row = _row(s, platform, user_id)
    row.school = " ".join(school.split())[:255]
    return person(s, platform, user_id)


def stop(
    s: Session, platform: str, user_id: str, reason: str = "asked", now: datetime | None = None
) -> int:
    """No more check-ins for this person, anywhere, from now on; how many pending ones ended.

    ``reason``: "asked" (they said stop) or "gone" (the platform says they cannot be reached).
    """
    now = now or utcnow()
    row = _row(s, platform, user_id)
    row.stopped, row.stopped_reason, row.stopped_at = True, reason, now
    ended = cast(
        CursorResult[Any],
        s.execute(
            sa.update(FollowMessage)
            .where(
                FollowMessage.platform == platform,
                FollowMessage.user_id == user_id,
                FollowMessage.state.in_(PENDING),
            )
            .values(state="stopped", answered_at=now, error=reason)
        ),
    ).rowcount
    s.execute(
        sa.update(FollowTry)
        .where(
            FollowTry.platform == platform, FollowTry.user_id == user_id, FollowTry.status == "open"
        )
        .values(status="stopped")
    )
    return int(ended or 0)


def resume(s: Session, platform: str, user_id: str) -> None:
    """Check-ins on again for the person's next tries."""
    row = _row(s, platform, user_id)
    row.stopped, row.stopped_reason, row.stopped_at = False, "", None


def forget(s: Session, platform: str, user_id: str) -> int:
    """Delete everything follow-through keeps about the person (``platform`` "" = every
    platform): tries, check-ins, reflections, follows, pilot membership, settings. How many
    rows went."""
    from store import FollowReflection, IdeaFollower, PilotMember

    gone = 0
    for model in (
        FollowReflection,
        FollowMessage,
        FollowTry,
        IdeaFollower,
        PilotMember,
        FollowPerson,
    ):
        cond = model.user_id == user_id
        if platform:
            cond = sa.and_(cond, model.platform == platform)
        gone += int(cast(CursorResult[Any], s.execute(sa.delete(model).where(cond))).rowcount or 0)
    return gone
