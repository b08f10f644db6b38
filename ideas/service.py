"""The idea queue's rules: submit, change status (race-safe, audited), list, review posts.

Functions take the session first and never commit; the caller commits once per unit of work.
Permission checks are the caller's job (see ideas.permissions): these rules trust the actor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas.fields import clean, clean_list
from ideas.records import Actor
from ideas.status import (
    ACTION_LABELS,
    ACTION_PAST,
    TRANSITIONS,
    Action,
    Status,
    allowed_actions,
    next_status,
    status_label,
)
from staffroom_errors import IdeaError, InputError, TransitionError
from store import Comment, DesignQuestion, Idea, IdeaEvent, Vote, utcnow
from store.upsert import affected

MAX_REVIEW_POST_ATTEMPTS = 5


def submit_idea(
    s: Session,
    answers: Mapping[str, Any],
    *,
    author: Actor,
    question_id: int | None = None,
    related_sessions: Sequence[Mapping[str, Any]] = (),
    embedding: np.ndarray | Sequence[float] | None = None,
    embedding_model: str = "",
) -> Idea:
    """Validate a pitch's answers and store a new idea (status new) with its first audit row.

    `answers` holds title, practice, problem, evidence (required), help_needed, school,
    grade_bands and subjects (lists or comma-separated text). Text is stored as typed (NUL
    aside); escaping for display is the renderer's job.
    """
    if question_id is not None:
        q = s.get(DesignQuestion, question_id)
        if q is None:
            raise InputError(f"There is no design question #{question_id}.")
    idea = Idea(
        title=clean("title", answers.get("title")),
        practice=clean("practice", answers.get("practice")),
        problem=clean("problem", answers.get("problem")),
        evidence=clean("evidence", answers.get("evidence")),
        help_needed=clean("help_needed", answers.get("help_needed"), required=False),
        school=clean("school", answers.get("school"), required=False),
        grade_bands=clean_list("grade_bands", answers.get("grade_bands")),
        subjects=clean_list("subjects", answers.get("subjects")),
        author_platform=author.platform,
        author_id=author.user_id,
        author_name=clean("author_name", author.name, required=False)[:255],
        status=Status.NEW.value,
        question_id=question_id,
        related_sessions=[_session_ref(r) for r in related_sessions],
        embedding=pack_embedding(embedding) if embedding is not None else None,
        embedding_model=embedding_model if embedding is not None else "",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    s.add(idea)
    s.flush()
    s.add(_event(idea.id, author, None, Status.NEW, "submitted"))
    s.flush()
    return idea


def _session_ref(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "session_id": str(r["session_id"]),
        "title": str(r.get("title", "")),
        "start": r.get("start"),
    }


def pack_embedding(vector: np.ndarray | Sequence[float]) -> bytes:
    """float32 little-endian bytes: 4 bytes a dimension, identical on every backend."""
    return np.asarray(vector, dtype="<f4").reshape(-1).tobytes()


def unpack_embedding(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def get_idea(s: Session, idea_id: int) -> Idea:
    """The idea, fresh from the database; IdeaError when there is none."""
    idea = s.get(Idea, idea_id, populate_existing=True)
    if idea is None:
        raise IdeaError(f"There is no idea #{idea_id}.")
    return idea


def _event(
    idea_id: int, actor: Actor, frm: Status | str | None, to: Status | str, note: str
) -> IdeaEvent:
    return IdeaEvent(
        idea_id=idea_id,
        actor_platform=actor.platform,
        actor_id=actor.user_id,
        from_status=None if frm is None else str(frm),
        to_status=str(to),
        note=note,
        created_at=utcnow(),
    )


def _refusal(idea: Idea, action: Action) -> TransitionError:
    """A friendly reason why `action` cannot apply to `idea` as it is now."""
    current = Status(idea.status)
    target = {to for (_, a), to in TRANSITIONS.items() if a == action}
    if current in target:
        return TransitionError(f"Idea #{idea.id} is already {status_label(current)}.")
    if current == Status.DUPLICATE:
        return TransitionError(
            f"Idea #{idea.id} was merged into #{idea.merged_into_id}.",
            hint=f"Open idea #{idea.merged_into_id} instead.",
        )
    options = allowed_actions(current)
    hint = (
        "Possible now: " + ", ".join(ACTION_LABELS[a].lower() for a in options) + "."
        if options
        else "Its status is final."
    )
    return TransitionError(
        f"Idea #{idea.id} is {status_label(current)}, so it can't be {ACTION_PAST[action]}.",
        hint=hint,
    )


def transition(
    s: Session,
    idea_id: int,
    action: Action | str,
    *,
    actor: Actor,
    note: str = "",
    expected_status: Status | str | None = None,
    merge_into: int | None = None,
) -> Idea:
    """Apply a reviewer's action; exactly one of two concurrent clicks wins.

    `expected_status` is the status the reviewer saw (from the button they clicked): when the
    idea has moved on since, the action is refused rather than applied to a different state.
    The status change is a conditional UPDATE on (status, version), so two processes cannot
    both apply it; the audit row is written in the same transaction.
    """
    try:
        act = Action(action)
    except ValueError:
        raise TransitionError(f"Unknown action {action!r}.") from None
    note = clean("note", note, required=False)
    if act == Action.MERGE:
        source, target = _lock_for_merge(s, idea_id, merge_into)
        idea = source
    else:
        idea = get_idea(s, idea_id)
    if expected_status is not None and idea.status != str(expected_status):
        raise (
            _refusal(idea, act)
            if next_status(idea.status, act) is None
            else TransitionError(
                f"Idea #{idea.id} is {status_label(idea.status)} now, not "
                f"{status_label(expected_status)}.",
                hint="Someone else changed it first; please look again.",
            )
        )
    frm = Status(idea.status)
    to = next_status(frm, act)
    if to is None:
        raise _refusal(idea, act)
    values: dict[str, Any] = {
        "status": to.value,
        "version": Idea.version + 1,
        "updated_at": utcnow(),
    }
    if act == Action.MERGE:
        values["merged_into_id"] = target.id
        note = note or f"merged into #{target.id}"
    res = s.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id, Idea.status == frm.value, Idea.version == idea.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if affected(res) != 1:  # another process changed it between our read and our write
        now = get_idea(s, idea.id)
        if next_status(now.status, act) is None:
            raise _refusal(now, act)
        raise TransitionError(
            f"Idea #{idea.id} changed while you were looking.", hint="Please look again."
        )
    s.add(_event(idea.id, actor, frm, to, note))
    if act == Action.MERGE:
        _move_engagement(s, idea.id, target.id)
    s.flush()
    return get_idea(s, idea.id)


def _lock_for_merge(s: Session, idea_id: int, merge_into: int | None) -> tuple[Idea, Idea]:
    """Both ideas, row-locked in id order so two opposite merges cannot both succeed."""
    if merge_into is None:
        raise TransitionError(
            "Merging needs the idea to merge into.", hint="For example: merge into #12."
        )
    if merge_into == idea_id:
        raise TransitionError(f"Idea #{idea_id} can't be merged into itself.")
    rows = s.scalars(
        sa.select(Idea)
        .where(Idea.id.in_([idea_id, merge_into]))
        .order_by(Idea.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {i.id: i for i in rows}
    if idea_id not in by_id:
        raise IdeaError(f"There is no idea #{idea_id}.")
    if merge_into not in by_id:
        raise TransitionError(f"There is no idea #{merge_into} to merge into.")
    target = by_id[merge_into]
    if target.status == Status.DUPLICATE:
        raise TransitionError(
            f"Idea #{target.id} was itself merged into #{target.merged_into_id}.",
            hint=f"Merge into #{target.merged_into_id} instead.",
        )
    return by_id[idea_id], target


def _move_engagement(s: Session, source_id: int, target_id: int) -> None:
    """Comments and votes follow a merged idea; a person's vote of each kind counts once."""
    s.execute(
        sa.update(Comment)
        .where(Comment.idea_id == source_id)
        .values(idea_id=target_id)
        .execution_options(synchronize_session=False)
    )
    existing = {
        (v.platform, v.user_id, v.kind): v
        for v in s.scalars(sa.select(Vote).where(Vote.idea_id == target_id))
    }
    for vote in s.scalars(sa.select(Vote).where(Vote.idea_id == source_id)).all():
        kept = existing.get((vote.platform, vote.user_id, vote.kind))
        if kept is None:
            vote.idea_id = target_id
            continue
        if not kept.outcome and vote.outcome:
            kept.outcome = vote.outcome
        s.delete(vote)
    s.flush()


def list_ideas(
    s: Session,
    status: Status | str | Collection[Status | str] | None = None,
    author: Actor | tuple[str, str] | None = None,
    question_id: int | None = None,
    limit: int | None = None,
) -> list[Idea]:
    """Ideas newest first, filtered by status(es), author and design question."""
    stmt = sa.select(Idea).order_by(Idea.id.desc())
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        stmt = stmt.where(Idea.status.in_([str(x) for x in wanted]))
    if author is not None:
        platform, user_id = (
            (author.platform, author.user_id) if isinstance(author, Actor) else author
        )
        stmt = stmt.where(Idea.author_platform == platform, Idea.author_id == user_id)
    if question_id is not None:
        stmt = stmt.where(Idea.question_id == question_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(s.scalars(stmt))


def pending_review_posts(s: Session, max_attempts: int = MAX_REVIEW_POST_ATTEMPTS) -> list[Idea]:
    """Ideas whose review-channel post has not gone out yet (and has not failed too often)."""
    return list(
        s.scalars(
            sa.select(Idea)
            .where(Idea.review_post_status == "pending", Idea.review_post_attempts < max_attempts)
            .order_by(Idea.id)
        )
    )


def mark_review_posted(s: Session, idea_id: int, *, channel: str, ref: str) -> None:
    """Remember the review post so later status changes can update it in place."""
    s.execute(
        sa.update(Idea)
        .where(Idea.id == idea_id)
        .values(
            review_post_status="posted",
            review_channel=channel,
            review_ref=ref,
            review_post_error="",
        )
        .execution_options(synchronize_session=False)
    )


def mark_review_failed(s: Session, idea_id: int, error: str) -> int:
    """Count a failed review post; returns the attempts so far."""
    s.execute(
        sa.update(Idea)
        .where(Idea.id == idea_id)
        .values(review_post_attempts=Idea.review_post_attempts + 1, review_post_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    return int(s.scalar(sa.select(Idea.review_post_attempts).where(Idea.id == idea_id)) or 0)


def find_by_review_ref(s: Session, ref: str) -> Idea | None:
    """The idea whose review post is `ref` (to attach thread replies as comments)."""
    return s.scalars(sa.select(Idea).where(Idea.review_ref == ref)).first()
