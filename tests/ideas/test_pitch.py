"""The pitch draft: answer, back, skip, cancel, limits, restart, submit."""

from __future__ import annotations

import pytest

from ideas import PITCH_STEPS, PitchDraftService, get_idea_with_history, open_question
from staffroom_errors import IdeaError, InputError
from store import Database
from tests.ideas.helpers import REVIEWER

P, U = "slack", "U_T"
GOOD = {
    "title": "Sticky-note exit tickets 🍎",
    "practice": "One question, three piles.",
    "problem": "Hidden confusion.",
    "audience": "6-8, math, Lincoln Middle",
    "evidence": "Fewer students in re-teach.",
}


def _fill(svc: PitchDraftService, upto: str | None = None) -> None:
    for step in PITCH_STEPS:
        if step.key == upto:
            return
        if step.key in GOOD:
            svc.answer(P, U, GOOD[step.key])


def test_steps_are_the_contract() -> None:
    assert [(st.key, st.required, st.max_len) for st in PITCH_STEPS] == [
        ("title", True, 120),
        ("practice", True, 2000),
        ("problem", True, 1000),
        ("audience", True, 300),
        ("evidence", True, 2000),
        ("help_needed", False, 1000),
    ]
    assert all(st.prompt and st.example for st in PITCH_STEPS)


def test_full_pitch_submits_an_idea(db: Database) -> None:
    with db.session() as s:
        q = open_question(s, "How might we check understanding faster?", author=REVIEWER)
        svc = PitchDraftService(s)
        view = svc.start(P, U, question_id=q.id)
        assert (view.step, view.number, view.total) == (PITCH_STEPS[0], 1, 6)
        _fill(svc)
        view = svc.skip(P, U)  # help_needed is optional
        assert view.ready and view.step is None
        assert view.answers["audience"]["text"] == "6-8, math, Lincoln Middle"
        assert "help_needed" not in view.answers
        idea = svc.submit(
            P,
            U,
            author_name="Ana",
            related_sessions=[
                {"session_id": "exit-tickets", "title": "Exit tickets", "start": 12.0}
            ],
        )
        assert svc.get(P, U) is None  # the draft is gone once submitted
    with db.session() as s:
        detail = get_idea_with_history(s, idea.id)
        i = detail.idea
        assert (i.title, i.grade_bands, i.subjects, i.school) == (
            "Sticky-note exit tickets 🍎",
            ["6-8"],
            ["Math"],
            "Lincoln Middle",
        )
        assert (i.question_id, i.author_id, i.author_name) == (q.id, U, "Ana")
        assert i.related_sessions == [
            {"session_id": "exit-tickets", "title": "Exit tickets", "start": 12.0}
        ]


def test_limits_and_empty_answers_save_nothing(db: Database) -> None:
    with db.session() as s:
        svc = PitchDraftService(s)
        svc.start(P, U)
        with pytest.raises(InputError, match="limit is 120"):
            svc.answer(P, U, "t" * 121)
        with pytest.raises(InputError, match="can't be empty"):
            svc.answer(P, U, "  \n ")
        view = svc.get(P, U)
        assert view is not None and view.step is not None and view.step.key == "title"
        assert view.answers == {}
        with pytest.raises(InputError, match="can't be skipped"):
            svc.skip(P, U)
        view = svc.answer(P, U, "x" * 120)
        assert view.step is not None and view.step.key == "practice"
        with pytest.raises(InputError, match="10,000 characters"):
            svc.answer(P, U, "p" * 10_000)


def test_back_keeps_answers_and_reanswer_replaces(db: Database) -> None:
    with db.session() as s:
        svc = PitchDraftService(s)
        svc.start(P, U)
        _fill(svc, upto="problem")
        view = svc.back(P, U)
        assert view.step is not None and view.step.key == "practice"
        assert view.answers["practice"] == GOOD["practice"]
        view = svc.answer(P, U, "A better description.")
        assert view.step is not None and view.step.key == "problem"
        assert view.answers["practice"] == "A better description."
        svc.back(P, U)
        svc.back(P, U)
        view = svc.back(P, U)  # back at the first step stays there
        assert view.step is not None and view.step.key == "title"


def test_submit_before_the_end_is_refused(db: Database) -> None:
    with db.session() as s:
        svc = PitchDraftService(s)
        svc.start(P, U)
        _fill(svc, upto="evidence")
        with pytest.raises(InputError, match="evidence it works is next"):
            svc.submit(P, U)


def test_draft_survives_a_restart(db_url: str, db: Database) -> None:
    with db.session() as s:
        svc = PitchDraftService(s)
        svc.start(P, U)
        _fill(svc, upto="audience")
    restarted = Database.from_url(db_url)
    try:
        with restarted.session() as s:
            svc = PitchDraftService(s)
            draft = svc.get(P, U)
            assert draft is not None and draft.step is not None and draft.step.key == "audience"
            view = svc.answer(P, U, GOOD["audience"])
            assert view.answers["title"] == GOOD["title"]
            assert view.answers["audience"]["grade_bands"] == ["6-8"]
    finally:
        restarted.dispose()


def test_cancel_and_restart(db: Database) -> None:
    with db.session() as s:
        svc = PitchDraftService(s)
        assert svc.cancel(P, U) is False
        svc.start(P, U)
        svc.answer(P, U, "Title")
        view = svc.start(P, U)  # starting again begins a fresh draft
        assert view.answers == {} and view.number == 1
        assert svc.cancel(P, U) is True
        with pytest.raises(IdeaError, match="no pitch in progress"):
            svc.answer(P, U, "anything")
        with pytest.raises(InputError, match="no design question #77"):
            svc.start(P, U, question_id=77)
