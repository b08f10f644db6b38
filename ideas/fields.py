"""What an idea's fields may hold: limits, required fields, and the audience parser."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from staffroom_errors import InputError
from store import clean_text

LIMITS: Mapping[str, int] = {
    "title": 120,
    "practice": 2000,
    "problem": 1000,
    "audience": 300,
    "school": 200,
    "evidence": 2000,
    "help_needed": 1000,
    "comment": 2000,
    "outcome": 1000,
    "note": 2000,
}
REQUIRED: tuple[str, ...] = ("title", "practice", "problem", "evidence")
LABELS: Mapping[str, str] = {
    "title": "Title",
    "practice": "The practice",
    "problem": "The problem it solves",
    "audience": "Who it is for",
    "school": "School",
    "evidence": "Evidence it works",
    "help_needed": "Help needed",
    "comment": "Your comment",
    "outcome": "How it went",
    "note": "The note",
}
LIST_ITEMS_MAX = 12
LIST_ITEM_LEN = 60

GRADE_BANDS: tuple[str, ...] = ("K-2", "3-5", "6-8", "9-12")
SUBJECTS: Mapping[str, str] = {
    "math": "Math",
    "maths": "Math",
    "mathematics": "Math",
    "ela": "ELA",
    "english": "ELA",
    "reading": "ELA",
    "writing": "ELA",
    "literacy": "ELA",
    "science": "Science",
    "social studies": "Social Studies",
    "history": "Social Studies",
    "sel": "SEL",
    "eld": "ELD",
    "ell": "ELD",
    "esl": "ELD",
    "special education": "Special Education",
    "sped": "Special Education",
    "art": "Arts",
    "arts": "Arts",
    "music": "Arts",
    "pe": "PE",
    "physical education": "PE",
    "world languages": "World Languages",
    "cte": "CTE",
    "all": "All subjects",
    "all subjects": "All subjects",
}


def clean(key: str, value: str | None, *, required: bool | None = None) -> str:
    """One text field, trimmed and checked: InputError when empty-but-required or too long."""
    text = clean_text(value or "").strip()
    label = LABELS.get(key, key)
    if required is None:
        required = key in REQUIRED
    if required and not text:
        raise InputError(f"{label} can't be empty.", hint="Please type a few words.")
    limit = LIMITS.get(key)
    if limit is not None and len(text) > limit:
        raise InputError(
            f"{label} is {len(text):,} characters; the limit is {limit:,}.",
            hint="Please shorten it and send it again.",
        )
    return text


def clean_list(key: str, items: Iterable[str] | str | None) -> list[str]:
    """A short list of short labels (grade bands, subjects), de-duplicated in order."""
    if items is None:
        return []
    if isinstance(items, str):
        items = re.split(r"[,;\n]", items)
    out: list[str] = []
    for raw in items:
        item = clean_text(str(raw)).strip()
        if not item or item in out:
            continue
        if len(item) > LIST_ITEM_LEN:
            raise InputError(f"{LABELS.get(key, key)}: {item[:20]!r}... is too long.")
        out.append(item)
    if len(out) > LIST_ITEMS_MAX:
        raise InputError(f"{LABELS.get(key, key)}: at most {LIST_ITEMS_MAX} please.")
    return out


_GRADE_NUM = {"k": 0, "kindergarten": 0, "tk": 0, "pre-k": 0, "prek": 0}
_LEVELS = {
    "elementary": ("K-2", "3-5"),
    "primary": ("K-2", "3-5"),
    "middle": ("6-8",),
    "high": ("9-12",),
    "secondary": ("6-8", "9-12"),
    "all grades": GRADE_BANDS,
}


def _band(grade: int) -> str:
    return GRADE_BANDS[0 if grade <= 2 else 1 if grade <= 5 else 2 if grade <= 8 else 3]


def _grade(token: str) -> int | None:
    token = token.lower().strip()
    if token in _GRADE_NUM:
        return _GRADE_NUM[token]
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", token)
    if m and 0 <= int(m.group(1)) <= 12:
        return int(m.group(1))
    return None


def grade_bands_in(text: str) -> list[str]:
    """The grade bands a phrase names: "6-8", "grades 3 to 5", "7th", "K", "middle school"."""
    low = text.lower()
    bands: set[str] = set()
    for word, named in _LEVELS.items():
        if re.search(rf"\b{word}\b", low):
            bands.update(named)
    g = r"(k|tk|pre-?k|kindergarten|\d{1,2}(?:st|nd|rd|th)?)"
    for m in re.finditer(rf"\b{g}\s*(?:-|–|to|through)\s*{g}\b", low):
        lo, hi = _grade(m.group(1)), _grade(m.group(2))
        if lo is not None and hi is not None and lo <= hi:
            bands.update(_band(x) for x in range(lo, hi + 1))
    low = re.sub(rf"\b{g}\s*(?:-|–|to|through)\s*{g}\b", " ", low)
    for m in re.finditer(rf"\b(?:grades?|gr\.?)\s*{g}\b|\b{g}\s*(?:th|st|nd|rd)?\s*grade\b", low):
        grade = _grade(m.group(1) or m.group(2))
        if grade is not None:
            bands.add(_band(grade))
    if re.search(r"\b(k|kindergarten|tk|pre-?k)\b", low):
        bands.add("K-2")
    return [b for b in GRADE_BANDS if b in bands]


def parse_audience(text: str) -> dict[str, Any]:
    """Free text such as "6-8, math and science, Lincoln Middle" split into lists and a school.

    Parts naming grades become grade bands, known subjects become subjects, and whatever is
    left (or anything after "school:") is the school. The raw text is kept too.
    """
    raw = clean("audience", text, required=True)
    grade_bands: list[str] = []
    subjects: list[str] = []
    school_parts: list[str] = []
    for part in re.split(r"[,;\n]|\s+/\s+", raw):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"(?i)school\s*:\s*(.+)", part)
        if m:
            school_parts.append(m.group(1).strip())
            continue
        bands = grade_bands_in(part)
        found = _subjects_in(part)
        if _has_other_words(part):
            school_parts.append(part)
        grade_bands += [b for b in bands if b not in grade_bands]
        subjects += [x for x in found if x not in subjects]
    return {
        "text": raw,
        "grade_bands": [b for b in GRADE_BANDS if b in grade_bands],
        "subjects": subjects,
        "school": clean("school", ", ".join(school_parts), required=False),
    }


_FILLER = (
    r"\b(?:and|or|&|to|through|for|the|all|everyone|anyone|any|my|our|students?|teachers?|classes|classrooms?|kids|level|"
    r"grades?|gr|school|schools|k|tk|pre-?k|kindergarten|elementary|primary|middle|high|"
    r"secondary|\d{1,2}(?:st|nd|rd|th)?)\b"
)


def _has_other_words(part: str) -> bool:
    """True when a part says more than grades and subjects, e.g. "Lincoln Middle"."""
    low = part.lower()
    for key in sorted(SUBJECTS, key=len, reverse=True):
        low = re.sub(rf"\b{re.escape(key)}\b", " ", low)
    low = re.sub(_FILLER, " ", low)
    return re.search(r"[^\W\d_]{2,}", low) is not None


def _subjects_in(part: str) -> list[str]:
    """Known subjects named in `part`, in the order written."""
    low = part.lower()
    hits: list[tuple[int, str]] = []
    # Longest names first so "social studies" wins over a shorter overlapping key.
    for key in sorted(SUBJECTS, key=len, reverse=True):
        for m in re.finditer(rf"\b{re.escape(key)}\b", low):
            hits.append((m.start(), SUBJECTS[key]))
            low = low[: m.start()] + " " * len(key) + low[m.end() :]
    found: list[str] = []
    for _, name in sorted(hits):
        if name not in found:
            found.append(name)
    return found
