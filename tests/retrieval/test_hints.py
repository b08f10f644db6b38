"""Grades and subjects in a question: reading them, boosting by them, noting a mismatch."""

from __future__ import annotations

import pytest
import yaml

from retrieval.hints import (
    Hints,
    adjust,
    band_grades,
    check_filters,
    format_grades,
    grade_note,
    read_hints,
    without_hints,
)
from retrieval.ranking import SessionRank
from retrieval.types import Filters, SessionMeta
from staffroom_errors import InputError
from tests.fixtures_retrieval import SAMPLE_LIBRARY


@pytest.mark.parametrize(
    "text, grades, subjects",
    [
        ("kinder", "K", []),
        ("what about my kindergarteners?", "K", []),
        ("what about for 1st graders?", "1", []),
        ("for first-grade readers", "1", []),
        ("AP chem", "9-12", ["Science"]),
        ("my 9th graders keep pulling out their phones", "9", []),
        ("middle school science", "6-8", ["Science"]),
        ("HS", "9-12", []),
        ("elementary", "K-5", []),
        ("upper elementary math", "3-5", ["Math"]),
        ("grades 3-5", "3-5", []),
        ("3rd-5th grade", "3-5", []),
        ("my sophomores", "10", []),
        ("for high school english?", "9-12", ["ELA"]),
        ("my ELLs in science", None, ["ELD", "Science"]),
        ("history DBQs", None, ["Social Studies"]),
        ("my sped co-teacher", None, ["Special Education"]),
    ],
)
def test_reads_grades_and_subjects(text, grades, subjects) -> None:
    hints = read_hints(text)
    assert (format_grades(hints.grades) if hints.grades else None) == grades
    assert list(hints.subjects) == subjects


@pytest.mark.parametrize(
    "text",
    [
        "half my 3rd period missed yesterday's check",  # a class period, not a grade
        "in my 6th period",
        "I have 28 kids and lose 4 min every switch",
        "we get maybe 20 min a week to plan together",
        "a girl who barely speaks english",  # English the language, not the subject
        "a 2-3 minute brain dump",
    ],
)
def test_numbers_that_are_not_grades_or_subjects(text) -> None:
    assert not read_hints(text)


def test_a_reading_level_is_not_the_audience() -> None:
    hints = read_hints("my 5th graders range from 2nd grade level to way above")
    assert hints.grades == frozenset({5})


def test_english_learners_are_eld_not_ela() -> None:
    assert read_hints("my english learners can't write a lab conclusion").subjects == ("ELD",)


def test_the_sample_conversations_are_read_as_the_team_labelled_them() -> None:
    conversations = yaml.safe_load((SAMPLE_LIBRARY / "conversations.yaml").read_text("utf-8"))
    checked = 0
    for conv in conversations:
        for turn in conv["turns"]:
            hints = read_hints(turn["say"])
            got = format_grades(hints.grades) if hints.grades else None
            want = str(turn["grades"]) if "grades" in turn else None
            assert (got, list(hints.subjects)) == (want, turn.get("subjects", [])), turn["say"]
            checked += 1
    assert checked >= 100


def test_without_hints_leaves_the_topic_words() -> None:
    text = "what about for 1st graders in math?"
    hints = read_hints(text)
    assert without_hints(text, hints) == "what about for in ?"
    assert without_hints(text, hints, keep_subjects=True) == "what about for in math?"


def test_newer_hints_replace_older_ones_by_kind() -> None:
    older = read_hints("my 9th grade chemistry class")
    same = older.then(read_hints("what about 6th?"))  # "6th" alone is not a grade
    assert (same.grades, same.subjects) == (frozenset({9}), ("Science",))
    newer = older.then(read_hints("for 6th graders"))
    assert newer.grades == frozenset({6}) and newer.subjects == ("Science",)


@pytest.mark.parametrize(
    "band, grades",
    [
        ("K-2", {0, 1, 2}),
        ("9-12", {9, 10, 11, 12}),
        ("K-12", set(range(13))),
        ("All grades", set(range(13))),
        ("7", {7}),
        ("grade 3", {3}),
        ("6th-8th", {6, 7, 8}),
    ],
)
def test_catalog_bands(band, grades) -> None:
    assert band_grades(band) == frozenset(grades)


EXIT = SessionMeta(
    "exit-tickets", "Exit Tickets", grade_bands=("6-8", "9-12"), subjects=("All subjects",)
)
CONFER = SessionMeta(
    "reading", "Reading Conferences", grade_bands=("K-2", "3-5"), subjects=("ELA",)
)
CER = SessionMeta(
    "cer", "Claim, Evidence, Reasoning", grade_bands=("6-8", "9-12"), subjects=("Science",)
)
NO_BANDS = SessionMeta("loose", "A handout", grade_bands=())


def test_grade_note_only_when_the_session_is_for_other_grades() -> None:
    first = read_hints("for my 1st graders")
    assert grade_note(EXIT, first) == "(grades 6-12)"
    assert grade_note(CONFER, first) == ""
    assert grade_note(EXIT, read_hints("my 7th graders")) == ""
    assert grade_note(NO_BANDS, first) == ""  # no catalog grades: nothing to claim
    assert grade_note(EXIT, Hints()) == ""
    single = SessionMeta("s", "S", grade_bands=("7",))
    assert grade_note(single, first) == "(grade 7)"


def _rank(sid: str, score: float, match: float = 0.5) -> SessionRank:
    return SessionRank(sid, score, (0,), (score,), match)


SESSIONS = {s.session_id: s for s in (EXIT, CONFER, CER)}


def test_a_hint_reorders_near_ties_but_never_filters() -> None:
    ranked = [_rank("exit-tickets", 0.50), _rank("reading", 0.49), _rank("cer", 0.30)]
    boosted = adjust(ranked, SESSIONS, read_hints("for my 1st graders"))
    assert [r.session_id for r in boosted] == ["reading", "exit-tickets", "cer"]
    far = [_rank("exit-tickets", 0.60), _rank("reading", 0.40)]
    assert [r.session_id for r in adjust(far, SESSIONS, read_hints("1st graders"))] == [
        "exit-tickets",
        "reading",
    ]


def test_a_subject_hint_prefers_the_subject_over_all_subjects() -> None:
    ranked = [_rank("exit-tickets", 0.50), _rank("cer", 0.49)]
    boosted = adjust(ranked, SESSIONS, read_hints("AP chem"))
    assert [r.session_id for r in boosted] == ["cer", "exit-tickets"]


def test_boosts_leave_match_alone_and_exclusions_go() -> None:
    ranked = [_rank("exit-tickets", 0.50, 0.61), _rank("reading", 0.49, 0.33)]
    out = adjust(ranked, SESSIONS, read_hints("1st graders"), exclude={"exit-tickets"})
    assert [(r.session_id, r.match) for r in out] == [("reading", 0.33)]
    assert adjust(ranked, SESSIONS) == ranked


def test_a_bad_grade_filter_lists_the_valid_bands() -> None:
    with pytest.raises(InputError) as err:
        check_filters(Filters(grade_bands=("1",)), SESSIONS.values())
    text = err.value.user_text()
    assert "--grade '1'" in text
    assert "Grade 1 is in --grade K-2." in text
    assert "Valid values for --grade: K-2, 3-5, 6-8, 9-12." in text


def test_good_filters_pass_case_insensitively_and_bad_subjects_list_subjects() -> None:
    good = Filters(grade_bands=("k-2",), subjects=("science",))
    assert check_filters(good, SESSIONS.values()) is good
    with pytest.raises(InputError) as err:
        check_filters(Filters(subjects=("Maths",)), SESSIONS.values())
    assert "Valid values for --subject: All subjects, ELA, Science." in err.value.user_text()
