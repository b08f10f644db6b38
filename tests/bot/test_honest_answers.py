"""Honest answers in the bot, with the real model over the sample library (wired as ``build``).

Only the sessions close to the best one are shown; a best session made for other grades says
so; a weak match is not presented as an answer; an off-topic question gets a friendly "not
something the PD library covers" and is logged nowhere, while a real gap is logged.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from bot.app import Components, build
from bot.messages import Incoming
from bot.settings import Settings
from retrieval.search import Searcher
from store import ContentGap, Question

DM = Incoming("slack", "U1", "D1", "", "", surface="dm", private=True)


@pytest.fixture
def app(tmp_path, sample_data_dir, real_embedder):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    searcher = Searcher(sample_data_dir / "index", real_embedder)
    components = build(settings, retriever=searcher)
    yield components
    components.close()


async def _ask(app: Components, text: str, thread: str = ""):
    [reply] = await app.core.handle(replace(DM, text=text, thread_id=thread))
    return reply


def _logged(app: Components) -> tuple[list[str], list[str]]:
    assert app.database is not None
    with app.database.session() as s:
        questions = [q.text for q in s.scalars(sa.select(Question).order_by(Question.id))]
        gaps = [g.text for g in s.scalars(sa.select(ContentGap).order_by(ContentGap.id))]
    return questions, gaps


async def test_a_clear_answer_shows_one_session_and_a_grade_follow_up_notes_its_grades(app):
    first = await _ask(app, "how do I run exit tickets with 32 kids?")
    assert first.kind == "answer"
    assert [c.title for c in first.cards] == ["Exit Tickets That Change Tomorrow's Lesson"]
    follow = await _ask(app, "what about for 1st graders?")
    assert follow.kind == "answer" and follow.cards[0].title == first.cards[0].title
    assert "(grades 6-12)" in follow.answer
    questions, gaps = _logged(app)
    assert len(questions) == 2 and gaps == []


async def test_off_topic_is_said_kindly_and_logged_nowhere(app):
    reply = await _ask(app, "is it supposed to snow tomorrow?")
    assert reply.kind == "off_topic" and "not something the PD library covers" in reply.text
    assert reply.cards == () and reply.actions == ()
    assert _logged(app) == ([], [])


@pytest.mark.parametrize(
    "question",
    ["how do i set up rubrics in google classroom", "my 9th graders keep pulling out their phones"],
)
async def test_weak_matches_are_not_presented_as_answers_and_are_logged_as_gaps(app, question):
    reply = await _ask(app, question)
    assert reply.kind in ("weak", "no_match")
    assert "Start with" not in reply.text
    if reply.kind == "weak":
        assert "Nothing in the library answers that directly" in reply.text
        assert 1 <= len(reply.cards) <= 2
    questions, gaps = _logged(app)
    assert questions == [question] and gaps == [question]
