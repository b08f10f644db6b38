"""Votes, comments, and what a merge does to them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ideas import (
    Actor,
    add_comment,
    get_idea_with_history,
    transition,
    vote_counts,
    vote_tried,
    vote_try,
)
from staffroom_errors import InputError
from store import Comment, Database, Vote
from tests.ideas.helpers import REVIEWER, make_idea

T1, T2, T3 = Actor("slack", "T1"), Actor("slack", "T2"), Actor("teams", "T1")


def test_one_vote_per_person_per_kind(db: Database) -> None:
    with db.session() as s:
        idea_id = make_idea(s).id
    with db.session() as s:
        assert vote_try(s, idea_id, T1).created
        again = vote_try(s, idea_id, T1)
        assert not again.created and again.counts.try_count == 1
        assert vote_try(s, idea_id, T3).counts.try_count == 2  # same id, other platform
        assert vote_tried(s, idea_id, T1).created
        res = vote_tried(s, idea_id, T1, "Worked well with 7th graders")
        assert not res.created and (res.counts.try_count, res.counts.tried_count) == (2, 1)
    with db.session() as s:
        detail = get_idea_with_history(s, idea_id)
        assert detail.outcomes == ("Worked well with 7th graders",)
        assert vote_counts(s, [idea_id, 999])[999].try_count == 0


def test_comments_and_external_ids(db: Database) -> None:
    with db.session() as s:
        idea_id = make_idea(s).id
        assert add_comment(s, idea_id, author=T1, text="Love it 🍎 \u202e") is not None
        first = add_comment(s, idea_id, author=T2, text="Thread reply", external_id="1700.5")
        assert first is not None and first.text == "Thread reply"
        assert add_comment(s, idea_id, author=T2, text="Thread reply", external_id="1700.5") is None
        with pytest.raises(InputError):
            add_comment(s, idea_id, author=T1, text="  ")
        with pytest.raises(InputError, match="limit is 2,000"):
            add_comment(s, idea_id, author=T1, text="c" * 2001)
    with db.session() as s:
        texts = [c.text for c in get_idea_with_history(s, idea_id).comments]
        assert texts == ["Love it 🍎 \u202e", "Thread reply"]


def test_merge_moves_votes_and_comments_without_duplicates(db: Database) -> None:
    with db.session() as s:
        src, dst = make_idea(s).id, make_idea(s).id
        vote_try(s, src, T1)
        vote_try(s, dst, T1)  # T1 wanted to try both: counts once after the merge
        vote_tried(s, src, T1, "great")
        vote_tried(s, dst, T1)  # no outcome on the target: the source's outcome is kept
        vote_try(s, src, T2)
        add_comment(s, src, author=T2, text="on the source", external_id="e1")
        add_comment(s, dst, author=T1, text="on the target")
    with db.session() as s:
        idea = transition(s, src, "merge", actor=REVIEWER, merge_into=dst)
        assert (idea.status, idea.merged_into_id) == ("duplicate", dst)
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).where(Vote.idea_id == src)) == 0
        assert s.scalar(sa.select(sa.func.count()).where(Comment.idea_id == src)) == 0
        detail = get_idea_with_history(s, dst)
        assert (detail.counts.try_count, detail.counts.tried_count) == (2, 1)
        assert detail.outcomes == ("great",)
        assert sorted(c.text for c in detail.comments) == ["on the source", "on the target"]
        # Votes and comments sent to the merged idea land on the target.
        res = vote_try(s, src, T3)
        assert res.idea_id == dst and res.counts.try_count == 3
        comment = add_comment(s, src, author=T3, text="late")
        assert comment is not None and comment.idea_id == dst
