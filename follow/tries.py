"""*I'll try this*: a try, its check-in and the answer, reflections, and the counts colleagues see.

Every function takes the session first and never commits (the bot runs each in one
transaction through ``store.runner.Runner``). What comes back is plain data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from follow.people import _row, person
from staffroom_errors import InputError
from store import FollowMessage, FollowReflection, FollowTry, Idea, utcnow

OUTCOMES = ("worked", "partly", "didnt_work")
ANSWERS = (*OUTCOMES, "not_yet", "stop")
MAX_SNOOZES = 2
REFLECTION_CHARS = 280


@dataclass(frozen=True)
class Started:
    try_id: int
    title: str
    new: bool  # False: the person had said they would try it already
    due_at: datetime | None  # None: check-ins are stopped for this person


@dataclass(frozen=True)
class Answered:
    try_id: int
    session_id: str
    title: str
    answer: str
    snoozes: int  # after this answer
    due_at: datetime | None = None  # a snooze: when the next check-in comes


@dataclass(frozen=True)
class Proof:
    """Raw counts for one session (never shown below the minimum group size)."""

    tried: int  # people who reported how it went
    schools: int
    worked: int


def start_try(
    s: Session,
    platform: str,
    user_id: str,
    session_id: str,
    title: str,
    due_at: datetime,
    question_id: int | None = None,
) -> Started:
    """Record that the person will try ``session_id`` and schedule its check-in at ``due_at``."""
    if not session_id.strip():
        raise InputError("Which session? Use the *I'll try this* button under an answer.")
    who = person(s, platform, user_id)
    found = s.scalar(
        sa.select(FollowTry).where(
            FollowTry.platform == platform,
            FollowTry.user_id == user_id,
            FollowTry.session_id == session_id,
        )
    )
    if found is not None:
        pending = s.scalar(
            sa.select(FollowMessage.due_at).where(
                FollowMessage.try_id == found.id, FollowMessage.state == "due"
            )
        )
        return Started(found.id, found.title, False, pending)
    row = FollowTry(
        platform=platform,
        user_id=user_id,
        session_id=session_id[:255],
        title=(title or session_id)[:255],
        school=who.school,
        question_id=question_id,
        status="stopped" if who.stopped else "open",
    )
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except sa.exc.IntegrityError:  # a double click raced this one
        return start_try(s, platform, user_id, session_id, title, due_at, question_id)
    if who.stopped:
        return Started(row.id, row.title, True, None)
    s.add(
        FollowMessage(
            platform=platform,
            user_id=user_id,
            kind="checkin",
            try_id=row.id,
            due_at=due_at,
            payload={"title": row.title, "session_id": row.session_id},
        )
    )
    return Started(row.id, row.title, True, due_at)


def answer_checkin(
    s: Session,
    platform: str,
    user_id: str,
    message_id: int,
    answer: str,
    snooze_until: datetime | None = None,
    now: datetime | None = None,
) -> Answered:
    """The person's answer to check-in ``message_id``: an outcome, *not yet* (a snooze until
    ``snooze_until``) or *stop*. Answering twice changes the outcome, never the schedule."""
    now = now or utcnow()
    if answer not in ANSWERS:
        raise InputError("Answer with worked, partly, didn't work, not yet or stop.")
    message = s.get(FollowMessage, message_id, with_for_update=True)
    if message is None or (message.platform, message.user_id) != (platform, user_id):
        raise InputError("I can't find that check-in. It may have been for someone else.")
    if message.kind != "checkin" or message.try_id is None:
        raise InputError("That message is not a check-in about a try.")
    tried = s.get(FollowTry, message.try_id)
    assert tried is not None
    if message.state in ("due", "sent"):  # answered: it went out, even if not yet marked so
        message.sent_at = message.sent_at or now
    done = Answered(tried.id, tried.session_id, tried.title, answer, message.snoozes)
    if answer == "stop":
        from follow.people import stop

        stop(s, platform, user_id, "asked", now)
        return done
    if answer == "not_yet":
        if message.state not in ("due", "sent"):  # "due": answered before it was marked sent
            raise InputError("That check-in is answered already.")
        if message.snoozes >= MAX_SNOOZES or snooze_until is None:
            raise InputError(
                f"I've asked {MAX_SNOOZES + 1} times now, so I'll stop asking about this one."
            )
        message.state, message.answer, message.answered_at = "answered", answer, now
        s.add(
            FollowMessage(
                platform=platform,
                user_id=user_id,
                kind="checkin",
                try_id=tried.id,
                due_at=snooze_until,
                payload=dict(message.payload),
                snoozes=message.snoozes + 1,
            )
        )
        return Answered(
            tried.id, tried.session_id, tried.title, answer, message.snoozes + 1, snooze_until
        )
    if message.state == "stopped":
        raise InputError("Check-ins are off for you. Type `checkins on` to turn them back on.")
    message.state, message.answer, message.answered_at = "answered", answer, now
    tried.status, tried.outcome, tried.answered_at = "answered", answer, now
    return done


def reflect(s: Session, platform: str, user_id: str, try_id: int, text: str) -> int:
    """Keep a one-line reflection (already scrubbed by the caller), private; its id."""
    tried = s.get(FollowTry, try_id)
    if tried is None or (tried.platform, tried.user_id) != (platform, user_id):
        raise InputError("I can't find that try any more.")
    line = " ".join(text.split())
    if not line:
        raise InputError("Type one line to keep, or `skip`.")
    if len(line) > REFLECTION_CHARS:
        raise InputError(
            f"Keep it to one line ({REFLECTION_CHARS} characters); yours has {len(line)}."
        )
    row = FollowReflection(
        try_id=tried.id,
        session_id=tried.session_id,
        platform=platform,
        user_id=user_id,
        school=tried.school or _row(s, platform, user_id).school,
        outcome=tried.outcome,
        text=line,
    )
    s.add(row)
    s.flush()
    return row.id


def share(s: Session, platform: str, user_id: str, reflection_id: int, shared: bool = True) -> str:
    """Share (or un-share) the person's own reflection with colleagues; its session's title."""
    row = s.get(FollowReflection, reflection_id)
    if row is None or (row.platform, row.user_id) != (platform, user_id):
        raise InputError("I can't find that reflection. Only its author can share it.")
    row.shared = shared
    tried = s.get(FollowTry, row.try_id)
    return tried.title if tried is not None else row.session_id


def proof(s: Session, session_ids: Sequence[str]) -> dict[str, Proof]:
    """Per session: how many people reported how it went, at how many schools, and how many
    said it worked (raw counts: the caller hides groups below the minimum size)."""
    if not session_ids:
        return {}
    reported = FollowTry.outcome.in_(OUTCOMES)
    rows = s.execute(
        sa.select(
            FollowTry.session_id,
            sa.func.count(sa.distinct(FollowTry.platform + ":" + FollowTry.user_id)),
            sa.func.count(sa.distinct(sa.func.nullif(FollowTry.school, ""))),
            sa.func.count(FollowTry.id).filter(FollowTry.outcome == "worked"),
        )
        .where(FollowTry.session_id.in_(list(session_ids)), reported)
        .group_by(FollowTry.session_id)
    ).all()
    return {sid: Proof(int(t), int(sc), int(w)) for sid, t, sc, w in rows}


def shared_reflections(s: Session, session_id: str, limit: int = 5) -> list[tuple[str, str]]:
    """(outcome, text) of the newest reflections their authors shared, about ``session_id``."""
    rows = s.execute(
        sa.select(FollowReflection.outcome, FollowReflection.text)
        .where(FollowReflection.session_id == session_id, FollowReflection.shared.is_(True))
        .order_by(FollowReflection.id.desc())
        .limit(limit)
    ).all()
    return [(o or "", t) for o, t in rows]


def open_checkin(s: Session, platform: str, user_id: str) -> int | None:
    """The person's latest check-in about a try that went out and is not answered yet (a
    typed *worked* in the terminal answers it)."""
    return s.scalar(
        sa.select(FollowMessage.id)
        .where(
            FollowMessage.platform == platform,
            FollowMessage.user_id == user_id,
            FollowMessage.kind == "checkin",
            FollowMessage.state == "sent",
        )
        .order_by(FollowMessage.sent_at.desc(), FollowMessage.id.desc())
        .limit(1)
    )


def title_of(s: Session, try_id: int) -> str:
    tried = s.get(FollowTry, try_id)
    return tried.title if tried is not None else ""


def link_pitch(s: Session, platform: str, user_id: str, try_id: int) -> int | None:
    """Link the person's newest idea (a "pitch your version" just sent) to the tried session;
    the idea's number, None when there is none."""
    tried = s.get(FollowTry, try_id)
    idea = s.scalar(
        sa.select(Idea)
        .where(Idea.author_platform == platform, Idea.author_id == user_id)
        .order_by(Idea.id.desc())
        .limit(1)
    )
    if tried is None or idea is None or (tried.platform, tried.user_id) != (platform, user_id):
        return None
    related = list(idea.related_sessions or [])
    if all(r.get("session_id") != tried.session_id for r in related):
        related.insert(0, {"session_id": tried.session_id, "title": tried.title, "start": None})
        idea.related_sessions = related
    return idea.id
