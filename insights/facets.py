"""Grade band and subject of a question, where its words say so ("my 5th graders", "in math")."""

from __future__ import annotations

import re

GRADE_BANDS = ("K-2", "3-5", "6-8", "9-12")
SUBJECTS = ("Math", "ELA", "Science", "Social studies", "World languages", "Arts", "PE")

_ORDINAL = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?[\s-]*(?:grade|graders?|gr)\b|\bgrade\s+(\d{1,2})\b", re.I
)
_WORDS = [
    (re.compile(r"\b(kindergarten|kinder|kindergartners?|pre-?k|tk)\b", re.I), "K-2"),
    (re.compile(r"\b(first|second)\s+grade(rs?)?\b", re.I), "K-2"),
    (re.compile(r"\b(third|fourth|fifth)\s+grade(rs?)?\b", re.I), "3-5"),
    (re.compile(r"\b(sixth|seventh|eighth)\s+grade(rs?)?\b|\bmiddle school(ers)?\b", re.I), "6-8"),
    (
        re.compile(
            r"\b(ninth|tenth|eleventh|twelfth)\s+grade(rs?)?\b|\bhigh school(ers)?\b|"
            r"\b(freshm[ae]n|sophomores?|juniors|seniors)\b",
            re.I,
        ),
        "9-12",
    ),
]
_SUBJECT_WORDS = {
    "Math": r"math|maths|algebra|geometry|fractions?|calculus|number talks?|equations?",
    "ELA": r"ela|reading|readers?|writing|writers?|phonics|literacy|essays?|novels?|read-?alouds?",
    "Science": r"science|lab|labs|biology|chemistry|physics|experiments?|cer",
    "Social studies": r"history|social studies|civics|geography|government",
    "World languages": r"spanish|french|mandarin|world languages?",
    "Arts": r"art|music|band|choir|drama|theat(?:er|re)",
    "PE": r"pe|gym|physical education",
}
_SUBJECTS = [
    (re.compile(rf"\b(?:{words})\b", re.I), name) for name, words in _SUBJECT_WORDS.items()
]


def band_of_grade(grade: int) -> str | None:
    if 0 <= grade <= 2:
        return "K-2"
    if 3 <= grade <= 5:
        return "3-5"
    if 6 <= grade <= 8:
        return "6-8"
    if 9 <= grade <= 12:
        return "9-12"
    return None


def grade_band(text: str) -> str | None:
    """The grade band a question names, or None when it names none (or several)."""
    bands = set()
    for m in _ORDINAL.finditer(text):
        band = band_of_grade(int(m.group(1) or m.group(2)))
        if band:
            bands.add(band)
    for pattern, band in _WORDS:
        if pattern.search(text):
            bands.add(band)
    return bands.pop() if len(bands) == 1 else None


def subject(text: str) -> str | None:
    """The subject a question names, or None when it names none (or several)."""
    found = {name for pattern, name in _SUBJECTS if pattern.search(text)}
    return found.pop() if len(found) == 1 else None
