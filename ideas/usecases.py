"""One function per thing a person does with the idea queue, each one unit of work.

Every function takes the session first and never commits: the caller runs it in one
transaction (the bot through ``store.runner.Runner.run``, which also retries it while the
database is unreachable). What comes back is plain data, readable after the session closes.
Permission checks stay with the caller (see ``ideas.permissions``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas.engagement import (
    add_comment,
    get_idea_with_history,
    vote_counts,
    vote_tried,
    vote_try,
)
from ideas.pitch import DraftView, PitchDraftService, flatten_answers
from ideas.publishing import Person, Provenance, provenance, record_publication
from ideas.questions import close_question, get_design_question, open_question
from ideas.records import Actor, IdeaDetail, VoteCounts, VoteResult
from ideas.service import (
    find_by_review_ref,
    get_idea,
    list_ideas,
    mark_review_failed,
    mark_review_posted,
    pending_review_posts,
    submit_idea,
    transition,
)
from ideas.similar import Embed, similar_ideas
from ideas.status import Action, Status
from staffroom_errors import InputError
from store import DesignQuestion, Idea

Vector = np.ndarray | Sequence[float] | None


@dataclass(frozen=True)
class IdeaState:
    """An idea as the transaction that read it left it (detached: safe to read afterwards)."""

    idea: Idea
    counts: VoteCounts
    question: str  # the design question it answers, "" when none


@dataclass(frozen=True)
class Submitted:
    idea_id: int
    title: str


@dataclass(frozen=True)
class Voted:
    result: VoteResult
    title: str  # of the idea the vote landed on (the merge target for a duplicate)


@dataclass(frozen=True)
class Move:
    """A reviewer's decision: ``action`` on ``idea_id``, as seen in status ``expected``."""

    idea_id: int
    action: Action
    expected: str | None
    note: str
    merge_into: int | None = None


@dataclass(frozen=True)
class Moved:
    before: str
    after: str
    idea: IdeaState
    target: IdeaState | None  # a merge's target: its votes and comments changed too


def state_of(s: Session, idea: Idea) -> IdeaState:
    """``idea`` with its vote counts and design question, detached from ``s``."""
    counts = vote_counts(s, [idea.id])[idea.id]
    question = get_design_question(s, idea.question_id).text if idea.question_id else ""
    s.expunge(idea)
    return IdeaState(idea, counts, question)


# --- the pitch ----------------------------------------------------------------------------


def draft_of(s: Session, who: Actor) -> DraftView | None:
    return PitchDraftService(s).get(who.platform, who.user_id)


def resume_pitch(s: Session, who: Actor) -> DraftView | None:
    """Take the user's draft up again (a set-aside or idle one counts as fresh from now)."""
    return PitchDraftService(s).resume(who.platform, who.user_id)


def start_pitch(s: Session, who: Actor, question_id: int | None = None) -> tuple[DraftView, str]:
    """A fresh draft (replacing any) and the text of the design question it answers."""
    view = PitchDraftService(s).start(who.platform, who.user_id, question_id=question_id)
    question = get_design_question(s, question_id).text if question_id is not None else ""
    return view, question


def answer_pitch(s: Session, who: Actor, text: str) -> DraftView | None:
    """Save the answer to the current step; None when the draft is gone (sent as a form)."""
    svc = PitchDraftService(s)
    if svc.get(who.platform, who.user_id) is None:
        return None
    return svc.answer(who.platform, who.user_id, text)


def pitch_back(s: Session, who: Actor) -> DraftView:
    return PitchDraftService(s).back(who.platform, who.user_id)


def pitch_skip(s: Session, who: Actor) -> DraftView:
    return PitchDraftService(s).skip(who.platform, who.user_id)


def cancel_pitch(s: Session, who: Actor) -> bool:
    """Throw the draft away; True when there was one."""
    return PitchDraftService(s).cancel(who.platform, who.user_id)


def submit_pitch(
    s: Session, who: Actor, related: Sequence[Mapping[str, Any]], vector: Vector, model: str
) -> Submitted:
    """The finished draft becomes an idea (the draft is deleted)."""
    idea = PitchDraftService(s).submit(
        who.platform, who.user_id, author_name=who.name, related_sessions=related,
        embedding=vector, embedding_model=model if vector is not None else "",
    )  # fmt: skip
    return Submitted(idea.id, idea.title)


def submit_pitch_form(
    s: Session,
    who: Actor,
    answers: Mapping[str, Any],
    question_id: int | None,
    related: Sequence[Mapping[str, Any]],
    vector: Vector,
    model: str,
) -> Submitted:
    """A pitch sent as one form (no draft behind it)."""
    if question_id is not None and s.get(DesignQuestion, question_id) is None:
        raise InputError(f"There is no design question #{question_id}.")
    idea = submit_idea(
        s, flatten_answers(answers), author=who, question_id=question_id,
        related_sessions=related, embedding=vector,
        embedding_model=model if vector is not None else "",
    )  # fmt: skip
    return Submitted(idea.id, idea.title)


def add_voice(s: Session, who: Actor, idea_id: int) -> Voted:
    """Back an existing idea instead of pitching; the draft's words become a comment on it."""
    svc = PitchDraftService(s)
    draft = svc.get(who.platform, who.user_id)
    result = vote_try(s, idea_id, who)
    if draft is not None and draft.answers.get("practice"):
        said = f"{draft.answers.get('title', '')}\n{draft.answers['practice']}".strip()
        add_comment(s, result.idea_id, author=who, text=said[:2000])
    svc.cancel(who.platform, who.user_id)
    return Voted(result, get_idea(s, result.idea_id).title)


def similar_to(
    s: Session, text: str, embed: Embed, model: str, k: int = 3
) -> list[tuple[Idea, VoteCounts]]:
    """Ideas like ``text`` with their votes, best first (stale embeddings refreshed)."""
    found = similar_ideas(s, text, embed, k=k, embed_model=model)
    counts = vote_counts(s, [i.id for i, _ in found])
    return [(i, counts[i.id]) for i, _ in found]


@dataclass(frozen=True)
class FieldMatch:
    """An idea in the field (piloting, scaling, adopted) that matches a question."""

    idea_id: int
    title: str
    status: str
    school: str
    score: float


FIELD_STATUSES = (Status.PILOTING, Status.SCALING, Status.ADOPTED)


def field_ideas_for(
    s: Session, text: str, vector: Vector, embed: Embed, model: str, min_score: float, k: int = 2
) -> list[FieldMatch]:
    """Piloting, scaling and adopted ideas scoring at least ``min_score`` on ``text``."""
    found = similar_ideas(
        s, text, embed, k=k, min_score=min_score, embed_model=model, statuses=FIELD_STATUSES,
        vector=np.asarray(vector, dtype=np.float32) if vector is not None else None,
    )  # fmt: skip
    return [FieldMatch(i.id, i.title, i.status, i.school, score) for i, score in found]


# --- votes, comments ----------------------------------------------------------------------


def vote(s: Session, who: Actor, idea_id: int, tried: bool, outcome: str = "") -> Voted:
    """ "I'd try this" or "I tried this" (with how it went)."""
    if tried:
        result = vote_tried(s, idea_id, who, outcome or None)
    else:
        result = vote_try(s, idea_id, who)
    return Voted(result, get_idea(s, result.idea_id).title)


def comment_in_thread(
    s: Session, review_ref: str, who: Actor, text: str, external_id: str | None
) -> int | None:
    """A reply under the review post ``review_ref``: stored once; its idea's id (None: no idea)."""
    idea = find_by_review_ref(s, review_ref)
    if idea is None:
        return None
    if text:
        add_comment(s, idea.id, author=who, text=text, external_id=external_id)
    return idea.id


def browse(
    s: Session,
    status: Status | None = None,
    author: tuple[str, str] | None = None,
    question_id: int | None = None,
    *,
    pending: bool = False,
    limit: int = 20,
) -> list[tuple[Idea, VoteCounts]]:
    """Ideas newest first (or those whose review post is pending), with their votes."""
    if pending:
        found = pending_review_posts(s, max_attempts=2**31 - 1)[:limit]
    else:
        found = list_ideas(s, status, author, question_id, limit=limit)
    counts = vote_counts(s, [i.id for i in found])
    return [(i, counts[i.id]) for i in found]


def detail(s: Session, idea_id: int) -> tuple[IdeaDetail, str]:
    """An idea with its history, and the text of its design question ("" when none)."""
    found = get_idea_with_history(s, idea_id)
    question_id = found.idea.question_id
    return found, get_design_question(s, question_id).text if question_id else ""


# --- triage -------------------------------------------------------------------------------


def move(s: Session, who: Actor, decision: Move) -> Moved:
    """Apply a reviewer's decision (race-safe, audited)."""
    before = get_idea(s, decision.idea_id).status
    idea = transition(
        s, decision.idea_id, decision.action, actor=who, note=decision.note,
        expected_status=decision.expected, merge_into=decision.merge_into,
    )  # fmt: skip
    into = idea.merged_into_id if decision.action == Action.MERGE else None
    target = state_of(s, get_idea(s, into)) if into else None
    return Moved(before, idea.status, state_of(s, idea), target)


def pending_review(s: Session, idea_id: int) -> IdeaState | None:
    """The idea if its review post has not gone out yet."""
    idea = get_idea(s, idea_id)
    return state_of(s, idea) if idea.review_post_status == "pending" else None


def record_review_post(s: Session, idea_id: int, channel: str, ref: str, error: str) -> int:
    """Remember the review post (``ref``), or count a failed one; the attempts so far."""
    if ref:
        mark_review_posted(s, idea_id, channel=channel, ref=ref)
        return 0
    return mark_review_failed(s, idea_id, error)


# --- publishing to the library ------------------------------------------------------------


def publication_of(s: Session, idea_id: int) -> Provenance:
    """An adopted idea as its library session tells it (refused unless adopted)."""
    return provenance(s, idea_id)


def record_published(s: Session, who: Actor, idea_id: int, note: str) -> list[Person]:
    """The publication in the idea's audit trail; who to tell about it."""
    return record_publication(s, who, idea_id, note)


# --- design questions -----------------------------------------------------------------------


def open_design_question(
    s: Session, who: Actor, text: str, deadline: date | None = None
) -> DesignQuestion:
    question = open_question(s, text, author=who, deadline=deadline)
    s.expunge(question)
    return question


def close_design_question(s: Session, question_id: int) -> DesignQuestion:
    question = close_question(s, question_id)
    s.expunge(question)
    return question


def question_of_thread(s: Session, announce_ref: str, who: Actor) -> tuple[int, bool] | None:
    """The design question announced as ``announce_ref`` and whether ``who`` has a draft."""
    question = s.scalars(
        sa.select(DesignQuestion).where(DesignQuestion.announce_ref == announce_ref)
    ).first()
    if question is None:
        return None
    return question.id, draft_of(s, who) is not None
