"""The adopter network around ideas: followers, pilot members and their verdicts, and the
notices an idea's move to piloting, scaling or adopted schedules for followers and voters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from follow.people import person
from staffroom_errors import InputError
from store import FollowMessage, Idea, IdeaFollower, PilotMember, Vote, utcnow

NOTIFY_ON = ("piloting", "scaling", "adopted")
VERDICTS = ("adopt", "adapt", "abandon")
EVIDENCE_CHARS = 1000


@dataclass(frozen=True)
class Joined:
    idea_id: int
    title: str
    new: bool
    due_at: datetime | None  # when the verdict check-in comes; None: check-ins stopped


@dataclass(frozen=True)
class Evidence:
    """What pilot members said about an idea: verdict counts and their evidence links."""

    members: int
    verdicts: dict[str, int]
    links: tuple[tuple[str, str, str], ...]  # (verdict, school, url), newest first


def _idea(s: Session, idea_id: int) -> Idea:
    idea = s.get(Idea, idea_id)
    if idea is None:
        raise InputError(f"There is no idea #{idea_id}.")
    return idea


def follow_idea(s: Session, platform: str, user_id: str, idea_id: int) -> tuple[str, bool]:
    """Follow idea ``idea_id``: (its title, True when newly followed)."""
    idea = _idea(s, idea_id)
    if s.get(IdeaFollower, (idea_id, platform, user_id)) is not None:
        return idea.title, False
    try:
        with s.begin_nested():
            s.add(IdeaFollower(idea_id=idea_id, platform=platform, user_id=user_id))
            s.flush()
    except sa.exc.IntegrityError:
        return idea.title, False
    return idea.title, True


def unfollow_idea(s: Session, platform: str, user_id: str, idea_id: int) -> str:
    idea = _idea(s, idea_id)
    s.execute(
        sa.delete(IdeaFollower).where(
            IdeaFollower.idea_id == idea_id,
            IdeaFollower.platform == platform,
            IdeaFollower.user_id == user_id,
        )
    )
    return idea.title


def join_pilot(s: Session, platform: str, user_id: str, idea_id: int, due_at: datetime) -> Joined:
    """Join the pilot of a piloting idea; its verdict check-in is scheduled at ``due_at``."""
    idea = _idea(s, idea_id)
    if idea.status != "piloting":
        raise InputError(
            f"Idea #{idea_id} is not piloting (it is {idea.status.replace('_', ' ')})."
        )
    if s.get(PilotMember, (idea_id, platform, user_id)) is not None:
        return Joined(idea_id, idea.title, False, None)
    who = person(s, platform, user_id)
    try:
        with s.begin_nested():
            s.add(
                PilotMember(idea_id=idea_id, platform=platform, user_id=user_id, school=who.school)
            )
            s.flush()
    except sa.exc.IntegrityError:
        return Joined(idea_id, idea.title, False, None)
    if s.get(IdeaFollower, (idea_id, platform, user_id)) is None:
        s.add(IdeaFollower(idea_id=idea_id, platform=platform, user_id=user_id))
    if who.stopped:
        return Joined(idea_id, idea.title, True, None)
    s.add(
        FollowMessage(
            platform=platform,
            user_id=user_id,
            kind="pilot",
            idea_id=idea_id,
            due_at=due_at,
            payload={"title": idea.title, "idea_id": idea_id},
        )
    )
    return Joined(idea_id, idea.title, True, due_at)


def record_verdict(
    s: Session,
    platform: str,
    user_id: str,
    idea_id: int,
    verdict: str,
    evidence_url: str = "",
    message_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A pilot member's adopt / adapt / abandon (and evidence link); the idea's title."""
    now = now or utcnow()
    if verdict not in VERDICTS:
        raise InputError("Your verdict: adopt, adapt or abandon.")
    member = s.get(PilotMember, (idea_id, platform, user_id))
    if member is None:
        raise InputError(
            f"You are not in the pilot of idea #{idea_id}: `pilot {idea_id} join` first."
        )
    link = evidence_url.strip()
    if link and not link.lower().startswith(("http://", "https://")):
        raise InputError("An evidence link starts with https:// (a document, photos, a video).")
    member.verdict, member.verdict_at = verdict, now
    if link:
        member.evidence_url = link[:EVIDENCE_CHARS]
    pending = sa.select(FollowMessage).where(
        FollowMessage.kind == "pilot",
        FollowMessage.idea_id == idea_id,
        FollowMessage.platform == platform,
        FollowMessage.user_id == user_id,
        FollowMessage.state.in_(("due", "sent")),
    )
    if message_id is not None:
        pending = pending.where(FollowMessage.id == message_id)
    for message in s.scalars(pending):
        message.state, message.answer, message.answered_at = "answered", verdict, now
    return _idea(s, idea_id).title


def add_evidence(s: Session, platform: str, user_id: str, idea_id: int, url: str) -> str:
    """An evidence link after the verdict; the idea's title."""
    member = s.get(PilotMember, (idea_id, platform, user_id))
    if member is None or member.verdict is None:
        raise InputError(f"Give your verdict on idea #{idea_id} first.")
    return record_verdict(s, platform, user_id, idea_id, member.verdict, url)


def evidence(s: Session, idea_id: int) -> Evidence:
    members = list(s.scalars(sa.select(PilotMember).where(PilotMember.idea_id == idea_id)))
    verdicts = {v: sum(1 for m in members if m.verdict == v) for v in VERDICTS}
    links = tuple(
        (m.verdict or "", m.school, m.evidence_url)
        for m in sorted(members, key=lambda m: m.verdict_at or m.joined_at, reverse=True)
        if m.evidence_url
    )
    return Evidence(len(members), verdicts, links)


def on_idea_moved(s: Session, idea_id: int, status: str, now: datetime | None = None) -> int:
    """Schedule a notice to each follower and voter (not the author: triage tells them) when
    the idea reached piloting, scaling or adopted; how many were scheduled."""
    if status not in NOTIFY_ON:
        return 0
    idea = _idea(s, idea_id)
    followers = s.execute(
        sa.select(IdeaFollower.platform, IdeaFollower.user_id).where(
            IdeaFollower.idea_id == idea_id
        )
    ).all()
    voters = s.execute(sa.select(Vote.platform, Vote.user_id).where(Vote.idea_id == idea_id)).all()
    people = {(p, u) for p, u in [*followers, *voters]} - {(idea.author_platform, idea.author_id)}
    for platform, user_id in sorted(people):
        s.add(
            FollowMessage(
                platform=platform,
                user_id=user_id,
                kind="notice",
                idea_id=idea_id,
                due_at=now or utcnow(),
                payload={"title": idea.title, "idea_id": idea_id, "status": status},
            )
        )
    return len(people)
