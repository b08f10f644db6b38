"""Typed values the idea queue hands out."""

from __future__ import annotations

from dataclasses import dataclass

from store import Comment, Idea, IdeaEvent


@dataclass(frozen=True)
class Actor:
    """Who did something: a platform user."""

    platform: str
    user_id: str
    name: str = ""


@dataclass(frozen=True)
class VoteCounts:
    """People who will try an idea, and classrooms that tried it."""

    try_count: int = 0
    tried_count: int = 0


@dataclass(frozen=True)
class VoteResult:
    """The outcome of a vote; `idea_id` is the merge target when the idea was a duplicate."""

    idea_id: int
    created: bool
    counts: VoteCounts


@dataclass(frozen=True)
class IdeaDetail:
    """An idea with its audit trail, comments, votes and tried-it outcomes."""

    idea: Idea
    events: tuple[IdeaEvent, ...]
    comments: tuple[Comment, ...]
    counts: VoteCounts
    outcomes: tuple[str, ...]
