"""Topics, gaps, library use and the idea funnel on a small history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

import ideas
from insights.clusters import assign_pending, label_topics, relabel, terms
from insights.funnel import funnel
from insights.library import LibrarySession, library_use
from insights.period import Period, Slice
from insights.topics import gaps, topics
from retrieval.embedder import FakeEmbedder
from store import Database
from tests.insights.helpers import MONDAY, NOW, ask, at, people

PERIOD = Period(MONDAY - timedelta(weeks=7), MONDAY)
CATALOG = [
    LibrarySession("exit-tickets", "Exit Tickets", "https://v.example/exit"),
    LibrarySession("station-rotation", "Station Rotation"),
    LibrarySession("restorative-circles", "Restorative Circles"),
]


@pytest.fixture
def history(db: Database) -> Database:
    """Exit tickets (8 people, answered, mostly 👍), chromebooks gap (6 people, no match),
    a tiny topic (2 people), station rotation (5 people, one 👎)."""
    with db.session() as s:
        for n, user in enumerate(people(8)):
            ask(
                s,
                user,
                f"exit tickets for my 7th grade math class number {n}",
                when=at(n % 3),
                helpful=True,
            )
        for n, user in enumerate(people(6, "G")):
            ask(
                s,
                user,
                "how do i share chromebooks fairly between two classes",
                good=False,
                when=at(n % 2),
            )
        for user in people(2, "S"):
            ask(s, user, "jayden needs a seating chart for assemblies", good=False, when=at(0))
        for n, user in enumerate(people(5, "R")):
            ask(
                s,
                user,
                "station rotation timers that actually work",
                when=at(n % 2),
                session="station-rotation",
                start=300.0,
                helpful=n != 0,
            )
    with db.session() as s:
        assign_pending(s, FakeEmbedder(dim=256).embed_queries, model="fake")
        relabel(s)
    return db


def test_topics_group_similar_questions_and_hide_small_ones(history: Database) -> None:
    with history.session() as s:
        page = topics(s, PERIOD, 5)
    assert [t.askers.value for t in page.topics] == [8, 6, 5]
    # The 2-person topic goes into "smaller topics" (hidden); with the total of 21 shown, the
    # smallest shown topic is hidden too, or 21 - 8 - 6 - 5 would give the 2 away.
    assert [t.questions.value for t in page.topics] == [8, 6, None]
    labels = " / ".join(t.label.lower() for t in page.topics)
    assert "exit tickets" in labels and "chromebooks" in labels and "station rotation" in labels
    assert "seating" not in labels and "jayden" not in labels  # the 2-person topic is not shown
    assert page.smaller.hidden and page.smaller_topics == 1
    assert page.total.hidden or page.ungrouped.hidden or page.smaller.hidden
    exit_topic = next(t for t in page.topics if "exit" in t.label.lower())
    assert [x.session_id for x in exit_topic.sessions] == ["exit-tickets"]


def test_topic_filters_by_grade_band_and_subject(history: Database) -> None:
    with history.session() as s:
        math = topics(s, PERIOD, 5, Slice(grade_band="6-8", subject="Math"))
        science = topics(s, PERIOD, 5, Slice(subject="Science"))
    assert [t.questions.value for t in math.topics] == [8]
    assert science.topics == []


def test_gaps_rank_by_people_with_examples_only_above_the_group_size(history: Database) -> None:
    with history.session() as s:
        page = gaps(s, PERIOD, 5)
        page3 = gaps(s, PERIOD, 3)
    assert [g.askers.value for g in page.gaps] == [6]
    (gap,) = page.gaps
    assert "chromebooks" in gap.label.lower()
    assert gap.examples == ("how do i share chromebooks fairly between two classes",)
    # With k=3 the 2-person seating topic is still not shown, and its text appears nowhere.
    assert all("seating" not in " ".join(g.examples) for g in page3.gaps)
    assert "[name]" not in repr(page3) and "jayden" not in repr(page3)


def test_library_use_counts_sessions_and_feedback(history: Database) -> None:
    with history.session() as s:
        page = library_use(s, PERIOD, 5, CATALOG)
    by = {x.session_id: x for x in page.sessions}
    assert by["exit-tickets"].sent.value == 8 and by["exit-tickets"].helpful.value == 8
    assert by["station-rotation"].sent.value == 5
    # one 👎 (one person) is hidden, and so is the 👍 that would reveal it from the total of 5
    assert by["station-rotation"].not_helpful.hidden and by["station-rotation"].helpful.hidden
    assert [m.session_id for m in page.never] == ["restorative-circles"]
    assert page.moments[0].url == "https://v.example/exit#t=750"


def test_idea_funnel_counts_statuses_schools_and_days(db: Database) -> None:
    staff = ideas.Actor("slack", "USTAFF", "Pat")
    with db.session() as s:
        for n in range(6):
            author = ideas.Actor("slack", f"A{n}", f"Teacher {n}")
            idea = ideas.submit_idea(s, _answers(f"Idea {n}", "Lincoln Middle"), author=author)
            ideas.transition(s, idea.id, ideas.Action.START_REVIEW, actor=staff)
        for n in range(5):
            ideas.submit_idea(
                s, _answers(f"New {n}", "Eastside High"), author=ideas.Actor("slack", f"B{n}", "B")
            )
        ideas.submit_idea(
            s, _answers("Lonely idea", "Tiny School"), author=ideas.Actor("slack", "C1", "C")
        )
    with db.session() as s:
        page = funnel(s, 5, months=2, now=NOW + timedelta(days=60))
    now_row = page.by_month[-1]
    assert (now_row[0].value, now_row[1].value, page.month_totals[-1].value) == (6, 6, 12)
    assert page.days[0].ideas.value == 6 and page.days[0].median_days is not None
    schools = [(r.school, r.ideas.value) for r in page.schools]
    # Tiny School (one author) is in "other", which is hidden, and Eastside goes with it so the
    # total of 12 ideas cannot give Tiny School away.
    assert schools == [("Lincoln Middle", 6), ("Eastside High", None)]
    assert page.other_schools.hidden


def _answers(title: str, school: str) -> dict[str, object]:
    return {
        "title": title,
        "practice": "A practice that works in class every day.",
        "problem": "Students lose focus after lunch.",
        "grade_bands": ["6-8"],
        "subjects": ["Math"],
        "school": school,
        "evidence": "Quiz scores went up.",
        "help_needed": "",
    }


def test_labels_prefer_distinctive_phrases() -> None:
    labels = label_topics(
        {
            1: {"exit tickets": 5, "exit": 5, "tickets": 5, "class": 5},
            2: {"chromebooks": 4, "class": 4},
        }
    )
    assert labels[1].startswith("Exit tickets")
    assert "class" not in labels[2].lower().split(", ")[0]
    assert terms("How do I run [name]'s exit tickets?") == [
        "run",
        "exit",
        "tickets",
        "run exit",
        "exit tickets",
    ]


def test_features_weigh_the_answered_session_in() -> None:
    import numpy as np

    from insights.clusters import features

    text = np.eye(4, dtype=np.float32)[[0, 1, 1]]
    vectors = features(text, ["exit-tickets", "exit-tickets", None], 0.3)
    sims = vectors @ vectors.T
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.isclose(sims[0, 1], 0.3)  # different words, same session: the weight
    assert np.isclose(sims[1, 2], np.sqrt(0.7))  # same words; a gap has no session part
    assert features(text, [None, None, None], 0.0) is text
