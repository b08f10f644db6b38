"""Conversation helpers: event dedupe, per-user state, question log, feedback, gaps, refs.

Every function takes the session first and never commits: the caller commits once per unit
of work (``with db.session() as s: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store.base import clean_text, utcnow
from store.models import (
    ContentGap,
    ConversationRef,
    ConversationState,
    Feedback,
    ProcessedEvent,
    Question,
)
from store.upsert import affected, insert_ignore, upsert


def claim_event(
    s: Session,
    key: str,
    platform: str,
    *,
    holder: str = "",
    work: Mapping[str, Any] | None = None,
    lease: timedelta = timedelta(seconds=30),
    now: datetime | None = None,
) -> bool:
    """True the first time `key` is seen (across restarts and processes), False on a retry.

    With `work` (what is needed to answer the message) the event stays open, leased to `holder`
    for `lease`, until `finish_event`; without, it is done at once. Claiming again as the same
    non-empty `holder` is True too, so a claim retried after a lost commit is not dropped.
    """
    now = now or utcnow()
    inserted = insert_ignore(
        s,
        ProcessedEvent,
        {
            "event_key": key,
            "platform": platform,
            "created_at": now,
            "status": "open" if work is not None else "done",
            "holder": holder,
            "lease_until": now + lease if work is not None else None,
            "attempts": 1,
            "work": dict(work) if work is not None else None,
        },
        ["event_key"],
    )
    if inserted or not holder:
        return inserted
    row = s.get(ProcessedEvent, key, populate_existing=True)
    return row is not None and row.holder == holder


def finish_event(s: Session, key: str, result: Mapping[str, Any] | None = None) -> bool:
    """Mark an open event done: its work is replaced by ``result`` (what was sent, if kept).

    True when it was open.
    """
    res = s.execute(
        sa.update(ProcessedEvent)
        .where(ProcessedEvent.event_key == key, ProcessedEvent.status == "open")
        .values(status="done", work=dict(result) if result is not None else None, lease_until=None)
    )
    return affected(res) == 1


def event_result(s: Session, key: str) -> dict[str, Any] | None:
    """What ``finish_event`` kept for a done event (None: open, unknown, or nothing kept)."""
    row = s.get(ProcessedEvent, key, populate_existing=True)
    if row is None or row.status != "done" or row.work is None:
        return None
    return dict(row.work)


@dataclass(frozen=True)
class OpenEvent:
    """An event taken over from a replica that did not answer it in time."""

    key: str
    platform: str
    work: dict[str, Any]
    attempts: int
    created_at: datetime


def take_stale_events(
    s: Session,
    holder: str,
    *,
    platforms: Sequence[str] | None = None,
    lease: timedelta = timedelta(seconds=30),
    max_attempts: int = 3,
    limit: int = 20,
    now: datetime | None = None,
) -> list[OpenEvent]:
    """Open events whose lease ran out, now leased to `holder` (oldest first, at most `limit`).

    Each takeover is a conditional UPDATE on the lease it saw, so two replicas sweeping at once
    never take the same event. An event already tried `max_attempts` times is marked "failed"
    instead: a message that kills whoever answers it must not go round the replicas forever.
    Only events of `platforms` are taken when given (those this replica can answer on).
    """
    now = now or utcnow()
    query = sa.select(ProcessedEvent.event_key, ProcessedEvent.attempts).where(
        ProcessedEvent.status == "open", ProcessedEvent.lease_until < now
    )
    if platforms is not None:
        query = query.where(ProcessedEvent.platform.in_(list(platforms)))
    stale = s.execute(query.order_by(ProcessedEvent.lease_until).limit(limit)).all()
    taken: list[OpenEvent] = []
    for key, attempts in stale:
        # (status, attempts) names the lease this sweep saw: a takeover bumps attempts.
        base = sa.update(ProcessedEvent).where(
            ProcessedEvent.event_key == key,
            ProcessedEvent.status == "open",
            ProcessedEvent.attempts == attempts,
            ProcessedEvent.lease_until < now,
        )
        if attempts >= max_attempts:
            s.execute(base.values(status="failed", lease_until=None))
            continue
        res = s.execute(base.values(holder=holder, lease_until=now + lease, attempts=attempts + 1))
        if affected(res) != 1:
            continue  # another replica took it first
        row = s.get(ProcessedEvent, key, populate_existing=True)
        if row is not None and row.work is not None:
            taken.append(OpenEvent(key, row.platform, dict(row.work), row.attempts, row.created_at))
    return taken


def prune_events(s: Session, older_than: datetime) -> int:
    """Forget processed events created before `older_than`; returns how many."""
    res = s.execute(sa.delete(ProcessedEvent).where(ProcessedEvent.created_at < older_than))
    return affected(res)


def get_state(s: Session, platform: str, user_id: str) -> ConversationState | None:
    return s.get(ConversationState, (platform, user_id), populate_existing=True)


def save_state(
    s: Session,
    platform: str,
    user_id: str,
    *,
    flow: str | None,
    step: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> ConversationState:
    """Create or replace the user's conversation state."""
    upsert(
        s,
        ConversationState,
        {
            "platform": platform,
            "user_id": user_id,
            "flow": flow,
            "step": step,
            "data": dict(data or {}),
            "updated_at": utcnow(),
        },
        ["platform", "user_id"],
        ["flow", "step", "data", "updated_at"],
    )
    state = get_state(s, platform, user_id)
    assert state is not None
    return state


def clear_state(s: Session, platform: str, user_id: str) -> None:
    s.execute(
        sa.delete(ConversationState).where(
            ConversationState.platform == platform, ConversationState.user_id == user_id
        )
    )


def log_question(
    s: Session,
    *,
    platform: str,
    user_id: str,
    text: str,
    good_match: bool,
    top_score: float | None = None,
    results: Sequence[Mapping[str, Any]] = (),
    latency_ms: int = 0,
    index_version: str = "",
    channel_id: str | None = None,
    thread_id: str | None = None,
    reply_ref: str | None = None,
) -> Question:
    """Record a question and what was answered; `results` are {session_id, score, source, start, end}."""
    q = Question(
        platform=platform,
        user_id=user_id,
        channel_id=channel_id,
        thread_id=thread_id,
        text=clean_text(text),
        index_version=index_version,
        good_match=good_match,
        top_score=top_score,
        results=[dict(r) for r in results],
        latency_ms=int(latency_ms),
        reply_ref=reply_ref,
        created_at=utcnow(),
    )
    s.add(q)
    s.flush()
    return q


def set_reply_ref(s: Session, question_id: int, reply_ref: str) -> None:
    """Remember the platform message that answered a question (known only after posting)."""
    s.execute(sa.update(Question).where(Question.id == question_id).values(reply_ref=reply_ref))


def get_question(s: Session, question_id: int) -> Question | None:
    return s.get(Question, question_id)


def record_feedback(
    s: Session,
    question_id: int,
    platform: str,
    user_id: str,
    helpful: bool,
    comment: str = "",
) -> Feedback:
    """One vote per person per answer; voting again replaces the earlier vote."""
    upsert(
        s,
        Feedback,
        {
            "question_id": question_id,
            "platform": platform,
            "user_id": user_id,
            "helpful": helpful,
            "comment": clean_text(comment),
            "created_at": utcnow(),
        },
        ["question_id", "platform", "user_id"],
        ["helpful", "comment", "created_at"],
    )
    fb = s.scalars(
        sa.select(Feedback)
        .where(
            Feedback.question_id == question_id,
            Feedback.platform == platform,
            Feedback.user_id == user_id,
        )
        .execution_options(populate_existing=True)
    ).one()
    return fb


def record_gap(s: Session, question_id: int, text: str) -> ContentGap:
    """Note a question the library answered poorly, for the content team."""
    gap = ContentGap(question_id=question_id, text=clean_text(text), created_at=utcnow())
    s.add(gap)
    s.flush()
    return gap


def list_gaps(s: Session, since: datetime | None = None) -> list[ContentGap]:
    stmt = sa.select(ContentGap).order_by(ContentGap.created_at, ContentGap.id)
    if since is not None:
        stmt = stmt.where(ContentGap.created_at >= since)
    return list(s.scalars(stmt))


def save_conversation_ref(
    s: Session,
    platform: str,
    user_id: str,
    conversation_id: str,
    reference: Mapping[str, Any] | None = None,
) -> None:
    """Remember where to reach the user later (replaces any earlier reference)."""
    upsert(
        s,
        ConversationRef,
        {
            "platform": platform,
            "user_id": user_id,
            "conversation_id": conversation_id,
            "reference": dict(reference or {}),
            "updated_at": utcnow(),
        },
        ["platform", "user_id"],
        ["conversation_id", "reference", "updated_at"],
    )


def get_conversation_ref(s: Session, platform: str, user_id: str) -> ConversationRef | None:
    return s.get(ConversationRef, (platform, user_id), populate_existing=True)
