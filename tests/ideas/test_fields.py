"""Audience parsing and list cleaning."""

from __future__ import annotations

import pytest

from ideas.fields import clean, clean_list, grade_bands_in, parse_audience
from staffroom_errors import InputError


@pytest.mark.parametrize(
    ("text", "bands", "subjects", "school"),
    [
        ("6-8, math and science, Lincoln Middle", ["6-8"], ["Math", "Science"], "Lincoln Middle"),
        ("Grades 3 to 5; ELA", ["3-5"], ["ELA"], ""),
        (
            "K-2 / all subjects / school: Oak Elementary",
            ["K-2"],
            ["All subjects"],
            "Oak Elementary",
        ),
        ("7th grade social studies", ["6-8"], ["Social Studies"], ""),
        ("high school science, Roosevelt HS", ["9-12"], ["Science"], "Roosevelt HS"),
        ("grades 4-10", ["3-5", "6-8", "9-12"], [], ""),
        ("everyone", [], [], ""),
        ("Escuela Benito Juárez", [], [], "Escuela Benito Juárez"),
    ],
)
def test_parse_audience(text: str, bands: list[str], subjects: list[str], school: str) -> None:
    got = parse_audience(text)
    assert (got["grade_bands"], got["subjects"], got["school"], got["text"]) == (
        bands,
        subjects,
        school,
        text,
    )


def test_grade_words() -> None:
    assert grade_bands_in("kindergarten and 1st grade") == ["K-2"]
    assert grade_bands_in("middle and high") == ["6-8", "9-12"]
    assert grade_bands_in("room 42") == []


def test_clean() -> None:
    assert clean("title", "  keep\tinner \x07 spacing \x00 ") == "keep\tinner \x07 spacing"
    assert clean("help_needed", "", required=False) == ""
    with pytest.raises(InputError):
        clean("audience", "a" * 301)
    assert clean_list("subjects", ["Math", " Math ", "", "ELA"]) == ["Math", "ELA"]
    with pytest.raises(InputError):
        clean_list("subjects", [str(i) for i in range(13)])
