"""Comments and votes on ideas: "I'll try it" and "I tried it" (with an optional outcome).

A vote or comment on an idea that was merged lands on the idea it was merged into.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas.fields import clean
from ideas.records import Actor, IdeaDetail, VoteCounts, VoteResult
from ideas.service import get_idea
from ideas.status import Status
from staffroom_errors import IdeaError
from store import Comment, Idea, IdeaEvent, Vote, utcnow
from store.upsert import insert_ignore

KINDS = ("try", "tried")


def _resolve(s: Session, idea_id: int) -> Idea:
    """The idea itself, or the live idea a duplicate was merged into."""
    idea = get_idea(s, idea_id)
    seen = {idea.id}
    while idea.status == Status.DUPLICATE and idea.merged_into_id is not None:
        idea = get_idea(s, idea.merged_into_id)
        if idea.id in seen:  # a cycle can only come from hand-edited data
            raise IdeaError(f"Idea #{idea_id} has a broken merge chain.")
        seen.add(idea.id)
    return idea


def add_comment(
    s: Session,
    idea_id: int,
    *,
    author: Actor,
    text: str,
    external_id: str | None = None,
) -> Comment | None:
    """Store a comment; None when `external_id` (e.g. a Slack reply ts) was stored before."""
    body = clean("comment", text, required=True)
    idea = _resolve(s, idea_id)
    values = {
        "idea_id": idea.id,
        "platform": author.platform,
        "author_id": author.user_id,
        "author_name": author.name[:255],
        "text": body,
        "external_id": external_id,
        "created_at": utcnow(),
    }
    if external_id is None:
        comment = Comment(**values)
        s.add(comment)
        s.flush()
        return comment
    if not insert_ignore(s, Comment, values, ["external_id"]):
        return None
    return s.scalars(sa.select(Comment).where(Comment.external_id == external_id)).one()


def vote_try(s: Session, idea_id: int, voter: Actor) -> VoteResult:
    """ "I'll try it": once per person per idea."""
    return _vote(s, idea_id, voter, "try", None)


def vote_tried(s: Session, idea_id: int, voter: Actor, outcome: str | None = None) -> VoteResult:
    """ "I tried it" in my classroom, with how it went; voting again updates the outcome."""
    text = clean("outcome", outcome, required=False) if outcome else None
    return _vote(s, idea_id, voter, "tried", text or None)


def _vote(s: Session, idea_id: int, voter: Actor, kind: str, outcome: str | None) -> VoteResult:
    idea = _resolve(s, idea_id)
    values = {
        "idea_id": idea.id,
        "platform": voter.platform,
        "user_id": voter.user_id,
        "kind": kind,
        "outcome": outcome,
        "created_at": utcnow(),
    }
    created = insert_ignore(s, Vote, values, ["idea_id", "platform", "user_id", "kind"])
    if not created and outcome:
        s.execute(
            sa.update(Vote)
            .where(
                Vote.idea_id == idea.id,
                Vote.platform == voter.platform,
                Vote.user_id == voter.user_id,
                Vote.kind == kind,
            )
            .values(outcome=outcome)
            .execution_options(synchronize_session=False)
        )
    return VoteResult(idea_id=idea.id, created=created, counts=vote_counts(s, [idea.id])[idea.id])


def vote_counts(s: Session, idea_ids: Iterable[int]) -> dict[int, VoteCounts]:
    """Try / tried counts for each id (zero when nobody voted)."""
    ids = list(idea_ids)
    counts = {i: {"try": 0, "tried": 0} for i in ids}
    if ids:
        rows = s.execute(
            sa.select(Vote.idea_id, Vote.kind, sa.func.count())
            .where(Vote.idea_id.in_(ids))
            .group_by(Vote.idea_id, Vote.kind)
        )
        for idea_id, kind, n in rows:
            counts[idea_id][kind] = int(n)
    return {i: VoteCounts(try_count=c["try"], tried_count=c["tried"]) for i, c in counts.items()}


def comment_counts(s: Session, idea_ids: Iterable[int]) -> dict[int, int]:
    ids = list(idea_ids)
    out = dict.fromkeys(ids, 0)
    if ids:
        rows = s.execute(
            sa.select(Comment.idea_id, sa.func.count())
            .where(Comment.idea_id.in_(ids))
            .group_by(Comment.idea_id)
        )
        out.update({i: int(n) for i, n in rows})
    return out


def get_idea_with_history(s: Session, idea_id: int) -> IdeaDetail:
    """An idea with its audit trail, comments (oldest first), vote counts and outcomes."""
    idea = get_idea(s, idea_id)
    events = s.scalars(
        sa.select(IdeaEvent).where(IdeaEvent.idea_id == idea_id).order_by(IdeaEvent.id)
    )
    comments = s.scalars(sa.select(Comment).where(Comment.idea_id == idea_id).order_by(Comment.id))
    outcomes = s.scalars(
        sa.select(Vote.outcome)
        .where(
            Vote.idea_id == idea_id,
            Vote.kind == "tried",
            Vote.outcome.is_not(None),
            Vote.outcome != "",
        )
        .order_by(Vote.id)
    )
    return IdeaDetail(
        idea=idea,
        events=tuple(events),
        comments=tuple(comments),
        counts=vote_counts(s, [idea_id])[idea_id],
        outcomes=tuple(o for o in outcomes if o),
    )
