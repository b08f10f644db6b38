"""Submitting, listing, history and review-post bookkeeping."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ideas import (
    Actor,
    find_by_review_ref,
    get_idea_with_history,
    list_ideas,
    mark_review_failed,
    mark_review_posted,
    open_question,
    pending_review_posts,
    submit_idea,
    transition,
)
from staffroom_errors import IdeaError, InputError
from store import Database, Idea
from tests.ideas.helpers import ANSWERS, AUTHOR, REVIEWER, make_idea

TRICKY = "Ünïcode 🍎 עברית RTL \u202e <b>&amp;</b> *bold* <@U123> \x07bell\ttab\r\nline"


def test_text_is_stored_as_typed(db: Database) -> None:
    practice = ("x" * 1990) + "🍎\u202eעב"
    with db.session() as s:
        idea_id = submit_idea(
            s, {**ANSWERS, "title": TRICKY[:120], "practice": practice}, author=AUTHOR
        ).id
    with db.session() as s:
        idea = s.get(Idea, idea_id)
        assert idea is not None
        assert idea.title == TRICKY[:120].strip()
        assert idea.practice == practice
        assert (idea.status, idea.version, idea.review_post_status) == ("new", 1, "pending")
        assert idea.grade_bands == ["6-8"] and idea.subjects == ["Math"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "Title can't be empty"),
        ("title", "t" * 121, "limit is 120"),
        ("practice", "p" * 10_000, "10,000 characters; the limit is 2,000"),
        ("problem", "", "can't be empty"),
        ("evidence", None, "can't be empty"),
        ("help_needed", "h" * 1001, "limit is 1,000"),
    ],
)
def test_bad_answers_are_refused_and_nothing_saved(
    sqlite_db: Database, field: str, value: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message), sqlite_db.session() as s:
        submit_idea(s, {**ANSWERS, field: value}, author=AUTHOR)
    with sqlite_db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Idea)) == 0


def test_lists_from_text_and_unknown_question(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        idea = submit_idea(
            s, {**ANSWERS, "grade_bands": "K-2, 3-5, K-2", "subjects": "ELA;SEL"}, author=AUTHOR
        )
        assert idea.grade_bands == ["K-2", "3-5"] and idea.subjects == ["ELA", "SEL"]
        with pytest.raises(InputError, match="no design question #42"):
            submit_idea(s, ANSWERS, author=AUTHOR, question_id=42)


def test_list_filters(db: Database) -> None:
    other = Actor("teams", "29:x", "Other")
    with db.session() as s:
        q = open_question(s, "How might we cut passing-period chaos?", author=REVIEWER)
        first = make_idea(s)
        second = submit_idea(s, ANSWERS, author=other, question_id=q.id)
        third = make_idea(s, status="piloting")
    with db.session() as s:
        assert [i.id for i in list_ideas(s)] == [third.id, second.id, first.id]
        assert [i.id for i in list_ideas(s, status="new")] == [second.id, first.id]
        assert [i.id for i in list_ideas(s, status=["piloting", "adopted"])] == [third.id]
        assert [i.id for i in list_ideas(s, author=other)] == [second.id]
        assert [i.id for i in list_ideas(s, author=("slack", AUTHOR.user_id))] == [
            third.id,
            first.id,
        ]
        assert [i.id for i in list_ideas(s, question_id=q.id)] == [second.id]
        assert len(list_ideas(s, limit=1)) == 1


def test_history(db: Database) -> None:
    with db.session() as s:
        idea_id = make_idea(s).id
        transition(s, idea_id, "start_review", actor=REVIEWER, note="looks promising")
        transition(s, idea_id, "pilot", actor=REVIEWER, expected_status="under_review")
    with db.session() as s:
        detail = get_idea_with_history(s, idea_id)
        assert detail.idea.status == "piloting"
        assert [(e.from_status, e.to_status) for e in detail.events] == [
            (None, "new"),
            ("new", "under_review"),
            ("under_review", "piloting"),
        ]
        assert detail.events[1].note == "looks promising"
        with pytest.raises(IdeaError, match="no idea #999"):
            get_idea_with_history(s, 999)


def test_review_posts(db: Database) -> None:
    with db.session() as s:
        a, b = make_idea(s).id, make_idea(s).id
    with db.session() as s:
        assert [i.id for i in pending_review_posts(s)] == [a, b]
        mark_review_posted(s, a, channel="C_REVIEW", ref="C_REVIEW:1700.1")
        assert mark_review_failed(s, b, "channel_not_found") == 1
    with db.session() as s:
        assert [i.id for i in pending_review_posts(s)] == [b]
        found = find_by_review_ref(s, "C_REVIEW:1700.1")
        assert found is not None and found.id == a
        for _ in range(4):
            mark_review_failed(s, b, "channel_not_found")
    with db.session() as s:
        assert pending_review_posts(s) == []  # gave up after 5 attempts
        idea = s.get(Idea, b)
        assert idea is not None and idea.review_post_error == "channel_not_found"
