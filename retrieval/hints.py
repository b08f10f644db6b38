"""Grades and subjects a teacher mentions ("my 9th graders", "AP chem", "kinder"), as soft hints.

Hints never filter: they nudge matching sessions up a little (``adjust``) and let an answer say
when its best session was made for other grades (``grade_note`` → "(grades 6-12)"). Grades are
sets of integers, 0 for kindergarten to 12, so any band a catalog uses ("K-2", "6-12", "K-12",
"All grades", "7") can be compared with any grade a teacher names.

``check_filters`` turns a bad CLI filter (``--grade 1``) into an error that lists the values
the live library actually uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from retrieval.types import Filters, SessionMeta
from staffroom_errors import InputError

if TYPE_CHECKING:
    from retrieval.ranking import SessionRank

ALL_GRADES = frozenset(range(13))
# A session for every subject ("All subjects") fits any subject hint, but less than a session
# made for that subject: half the subject boost.
_EVERY_SUBJECT = frozenset({"all", "all subjects", "any", "any subject"})
_EVERY_GRADE = frozenset({"all", "all grades", "k-12", "any"})

# Score added to a session that fits a hint (the fused score runs ~0.25-0.6). Measured with
# bench/conversations.py: large enough to prefer the 1st-grade session among near-ties, small
# enough never to lift an off-topic session over the one that answers the question.
GRADE_BOOST = 0.03
SUBJECT_BOOST = 0.03


@dataclass(frozen=True)
class Hints:
    """What a message says about its audience: grades (0 = K … 12) and canonical subjects.

    ``spans`` are the (start, end) character ranges of the words that said it, so a caller can
    tell what is left of a message once its audience is taken out ("what about for 1st graders?"
    has no topic words of its own).
    """

    grades: frozenset[int] = frozenset()
    subjects: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    grade_spans: tuple[tuple[int, int], ...] = ()  # the part of ``spans`` that named grades

    def __bool__(self) -> bool:
        return bool(self.grades or self.subjects)

    def then(self, newer: Hints) -> Hints:
        """These hints updated by a later message's: a newer grade or subject replaces ours."""
        return Hints(
            grades=newer.grades or self.grades,
            subjects=newer.subjects or self.subjects,
        )


# --- reading hints -------------------------------------------------------------------------

_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}  # fmt: skip
_NUMBER = r"(?:1[0-2]|[1-9])(?:st|nd|rd|th)?"
_ONE_GRADE = rf"(?:k|{_NUMBER}|{'|'.join(_ORDINAL_WORDS)})"
_GRADER = r"(?:grade(?:rs?|s)?|gr\.?)"

# Patterns whose groups name one grade or a range (first, last). Every match counts.
_GRADE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # "grades 3-5", "3rd-5th grade", "K-2", "6–8" (a range needs a grade word or a K/band form)
    re.compile(rf"\b{_GRADER}\s*({_ONE_GRADE})\s*(?:-|–|to|through)\s*({_ONE_GRADE})\b"),
    re.compile(rf"\b({_ONE_GRADE})\s*(?:-|–|to|through)\s*({_ONE_GRADE})\s*{_GRADER}"),
    re.compile(r"\b(k)\s*(?:-|–)\s*(1[0-2]|[1-9])\b"),
    # "9th graders", "a 3rd grader", "7th grade lab reports", "first-grade class", "grade 4"
    re.compile(rf"\b({_NUMBER}|{'|'.join(_ORDINAL_WORDS)})[\s-]*grade(?:rs?)?\b(?![\s-]+level)"),
    re.compile(r"\b(?:grade|gr\.?)\s*(1[0-2]|[1-9]|k)\b(?!\s*(?:level|point|book|s\b))"),
)  # fmt: skip
_GRADE_WORDS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = (
    (re.compile(r"\b(?:pre-?k|tk|kinder(?:garten)?(?:ers?|ners?|s)?|kindies|kindy)\b"), frozenset({0})),
    (re.compile(r"\blittle ones\b|\bmy littles\b|\blower el(?:ementary|em)?\b|\bprimary grades\b"), frozenset({0, 1, 2})),
    (re.compile(r"\bupper el(?:ementary|em)?\b|\bintermediate grades\b"), frozenset({3, 4, 5})),
    (re.compile(r"\b(?<!upper )(?<!lower )elementary\b|\belem\b|\bgrade school\b|\bprimary school\b"), frozenset(range(6))),
    (re.compile(r"\bmiddle(?:[\s-]?school(?:ers?)?)\b|\bmiddle schoolers?\b|\bjunior high\b|\bms (?:math|science|ela|english|students|kids|teachers?)\b|\btweens\b"), frozenset({6, 7, 8})),
    (re.compile(r"\bhigh[\s-]?school(?:ers?)?\b|\bhs\b|\bteenagers\b|\bupperclassmen\b"), frozenset(range(9, 13))),
    (re.compile(r"\bsecondary\b"), frozenset(range(6, 13))),
    (re.compile(r"\bfreshm[ae]n\b"), frozenset({9})),
    (re.compile(r"\bsophomores?\b"), frozenset({10})),
    (re.compile(r"\bjuniors\b"), frozenset({11})),
    (re.compile(r"\bseniors\b"), frozenset({12})),
    # Advanced Placement / IB courses are high school
    (re.compile(r"\b(?:ap|ib)\s+(?:[a-z]+)\b|\bapush\b"), frozenset(range(9, 13))),
)  # fmt: skip

# Subject words → canonical subject (the names catalogs use). "English" alone is ELA, but
# "English learners" are ELD students, whatever subject they are in.
_SUBJECT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:english|multilingual|dual)[\s-]+(?:language[\s-]+)?learners?\b|\bells?\b|\bels\b|\beld\b|\besl\b|\besol\b|\bnewcomers?\b|\bemergent bilinguals?\b"), "ELD"),
    (re.compile(r"\bmath(?:s|ematics)?\b|\balgebra\b|\bgeometry\b|\b(?:pre-?)?calc(?:ulus)?\b|\bstatistics\b|\bstats\b|\btrig(?:onometry)?\b"), "Math"),
    (re.compile(r"\bscience\b|\bchem(?:istry)?\b|\bbio(?:logy)?\b|\bphysics\b|\bphys\b|\banatomy\b|\bearth science\b|\bstem\b"), "Science"),
    (re.compile(r"\bela\b|(?:\b(?:ap|honors|hs|high school|middle school|my|teach|teaching)\s+english\b|\benglish\s+(?:class(?:es)?|teachers?|dep(?:artmen)?t|lit|[1-9]|i{1,3}v?)\b)|\blanguage arts\b|\bliterature\b|\blit class\b|\bphonics\b|\breading (?:class|block|group|groups)\b|\bwriting (?:class|block|workshop)\b"), "ELA"),
    (re.compile(r"\bsocial studies\b|\bhistory\b|\bcivics\b|\bgovernment\b|\bgeography\b|\beconomics\b|\bapush\b|\bdbqs?\b"), "Social Studies"),
    (re.compile(r"\bsel\b|\bsocial[\s-]emotional\b|\badvisory\b"), "SEL"),
    (re.compile(r"\bsped\b|\bspecial ed(?:ucation)?\b|\bieps?\b|\b504s?\b|\bresource room\b"), "Special Education"),
    (re.compile(r"\b(?:art|music|band|choir|orchestra|drama|theater|theatre)(?: class| room| students)?\b(?! of\b)"), "Arts"),
    (re.compile(r"\bpe\b|\bphys(?:ical)? ed(?:ucation)?\b|\bgym class\b"), "PE"),
    (re.compile(r"\b(?:spanish|french|german|chinese|mandarin|japanese|latin) (?:class|[1-4]|i{1,3}v?)\b|\bworld languages?\b"), "World Languages"),
    (re.compile(r"\bcte\b|\bshop class\b|\bculinary\b|\bautomotive\b"), "CTE"),
)  # fmt: skip


def read_hints(text: str) -> Hints:
    """The grades and subjects ``text`` names; empty ``Hints`` when it names none."""
    low = text.lower()
    grades: set[int] = set()
    spans: list[tuple[int, int]] = []
    for pattern in _GRADE_PATTERNS:
        for m in pattern.finditer(low):
            if _overlaps(m.span(), spans):
                continue
            named = _grades_between(
                m.group(1), m.group(2) if m.lastindex and m.lastindex > 1 else None
            )
            if named:
                grades |= named
                spans.append(m.span())
    for pattern, named_set in _GRADE_WORDS:
        for m in pattern.finditer(low):
            if not _overlaps(m.span(), spans):
                grades |= named_set
                spans.append(m.span())
    subjects: list[str] = []
    subject_spans: list[tuple[int, int]] = []
    for pattern, subject in _SUBJECT_PATTERNS:
        for m in pattern.finditer(low):
            # A subject may share words with a grade ("AP chem"), never with another subject.
            if _overlaps(m.span(), subject_spans):
                continue
            if subject not in subjects:
                subjects.append(subject)
            subject_spans.append(m.span())
    grade_spans = tuple(sorted(set(spans)))
    spans += subject_spans
    return Hints(frozenset(grades), tuple(subjects), tuple(sorted(set(spans))), grade_spans)


def without_hints(text: str, hints: Hints, *, keep_subjects: bool = False) -> str:
    """``text`` with the words that named grades (and subjects, unless kept) taken out."""
    out = list(text)
    for start, end in hints.grade_spans if keep_subjects else hints.spans:
        out[start:end] = " " * (end - start)
    return " ".join("".join(out).split())


def _overlaps(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _grade_of(token: str) -> int | None:
    token = token.strip().lower()
    if token in ("k", "kinder", "kindergarten"):
        return 0
    if token in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[token]
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", token)
    if m and 1 <= int(m.group(1)) <= 12:
        return int(m.group(1))
    return None


def _grades_between(first: str, last: str | None) -> frozenset[int]:
    lo = _grade_of(first)
    if lo is None:
        return frozenset()
    if last is None:
        return frozenset({lo})
    hi = _grade_of(last)
    if hi is None or hi < lo:
        return frozenset()
    return frozenset(range(lo, hi + 1))


# --- sessions' grades and subjects ---------------------------------------------------------


def band_grades(band: str) -> frozenset[int]:
    """The grades a catalog band covers: "K-2" → {0,1,2}, "9-12", "K-12", "7", "All grades"."""
    low = band.strip().lower()
    if low in _EVERY_GRADE:
        return ALL_GRADES
    m = re.fullmatch(r"(k|\d{1,2})(?:st|nd|rd|th)?\s*(?:-|–|to)\s*(k|\d{1,2})(?:st|nd|rd|th)?", low)
    if m:
        return _grades_between(m.group(1), m.group(2))
    one = _grade_of(low.removeprefix("grade ").strip())
    if one is not None:
        return frozenset({one})
    return read_hints(low).grades


def session_grades(meta: SessionMeta) -> frozenset[int]:
    """Every grade the session's bands cover (empty when the catalog gives none)."""
    out: set[int] = set()
    for band in meta.grade_bands:
        out |= band_grades(band)
    return frozenset(out)


def fit(meta: SessionMeta, hints: Hints) -> float:
    """How much a session fits the hints: grade fit (0/1) times GRADE_BOOST plus subject fit."""
    score = 0.0
    if hints.grades and session_grades(meta) & hints.grades:
        score += GRADE_BOOST
    if hints.subjects:
        have = {s.strip().casefold() for s in meta.subjects}
        if any(s.casefold() in have for s in hints.subjects):
            score += SUBJECT_BOOST
        elif have & _EVERY_SUBJECT:
            score += SUBJECT_BOOST / 2
    return score


def adjust(
    ranked: Sequence[SessionRank],
    sessions: Mapping[str, SessionMeta],
    prefer: Hints | None = None,
    exclude: Iterable[str] = (),
) -> list[SessionRank]:
    """``ranked`` without the ``exclude``d sessions, boosted by how they fit ``prefer``, re-sorted.

    Only the ranking score moves; ``match`` (what "good match" is judged on) stays the
    question's own evidence, so a hint can reorder sessions but never make a weak one good.
    """
    skip = frozenset(exclude)
    out = [r for r in ranked if r.session_id not in skip]
    if prefer:
        out = [replace(r, score=r.score + fit(sessions[r.session_id], prefer)) for r in out]
        out.sort(key=lambda r: (-r.score, r.session_id))
    return out


def format_grades(grades: Iterable[int]) -> str:
    """{6,7,8,9,10,11,12} → "6-12"; {0,1,2,4} → "K-2, 4"."""
    ordered = sorted(set(grades))
    runs: list[tuple[int, int]] = []
    for g in ordered:
        if runs and g == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], g)
        else:
            runs.append((g, g))

    def name(g: int) -> str:
        return "K" if g == 0 else str(g)

    return ", ".join(name(a) if a == b else f"{name(a)}-{name(b)}" for a, b in runs)


def grade_note(meta: SessionMeta, hints: Hints) -> str:
    """ "(grades 6-12)" when the session was made for none of the grades asked about, else ""."""
    if not hints.grades:
        return ""
    have = session_grades(meta)
    if not have or have & hints.grades:
        return ""
    word = "grade" if len(have) == 1 else "grades"
    return f"({word} {format_grades(have)})"


# --- filters on the command line -----------------------------------------------------------


def filter_values(sessions: Iterable[SessionMeta]) -> dict[str, tuple[str, ...]]:
    """The grade bands, subjects and tags the library uses, each sorted, for error messages."""
    grades: set[str] = set()
    subjects: set[str] = set()
    tags: set[str] = set()
    for meta in sessions:
        grades.update(meta.grade_bands)
        subjects.update(meta.subjects)
        tags.update(meta.tags)

    def grade_key(band: str) -> tuple[int, str]:
        grades_of = band_grades(band)
        return (min(grades_of) if grades_of else 99, band)

    return {
        "grade": tuple(sorted(grades, key=grade_key)),
        "subject": tuple(sorted(subjects, key=str.casefold)),
        "tag": tuple(sorted(tags, key=str.casefold)),
    }


def check_filters(filters: Filters, sessions: Iterable[SessionMeta]) -> Filters:
    """``filters`` unchanged when every value is one the library uses; else a clear InputError.

    Values compare case-insensitively, as the search does. ``--grade 1`` is refused with the
    bands to choose from (and the band that holds grade 1), rather than quietly finding nothing.
    """
    known = filter_values(sessions)
    wanted = {"grade": filters.grade_bands, "subject": filters.subjects, "tag": filters.tags}
    for option, values in wanted.items():
        have = {v.casefold().strip() for v in known[option]}
        for value in values:
            if value.casefold().strip() in have:
                continue
            listed = ", ".join(known[option]) if known[option] else "(none in this library)"
            hint = f"Valid values for --{option}: {listed}."
            if option == "grade":
                holding = [
                    b
                    for b in known["grade"]
                    if band_grades(b) & read_hints(f"grade {value}").grades
                ]
                if holding:
                    hint = f"Grade {value.strip()} is in --grade {holding[0]}. " + hint
            raise InputError(f"--{option} {value!r} is not used in this library.", hint=hint)
    return filters
