"""Scrub question text before insights keep it: names, emails and phone numbers replaced.

Teachers type students' names into questions ("jayden won't stop talking"). Insights keep
only text that went through ``scrub``: ``[email]`` for addresses, ``[phone]`` for phone
numbers, ``[name]`` for names found by title ("Ms. Lopez"), by cue ("a student named ana"),
by a list of common first names, and for capitalised words in mid-sentence that are not
ordinary English or school vocabulary. It errs on the side of removing too much.
"""

from __future__ import annotations

import hashlib
import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 7+ digits with optional separators/parentheses and an optional +country code; times such
# as 12:30 and counts such as "32 kids" have too few digits to match.
PHONE = re.compile(
    r"(?<![\w])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}(?!\w)"
)
TITLE = re.compile(r"\b(?:mr|mrs|ms|miss|mx|dr|coach|principal)\.?\s+[A-Za-z][\w'-]*", re.I)
CUE = re.compile(
    r"\b(named|called|name is|names are)\s+([A-Za-z][\w'-]*)(?:\s+(?:and|&)\s+([A-Za-z][\w'-]*))?",
    re.I,
)
POSSESSIVE_FAMILY = re.compile(
    r"\b([A-Za-z][\w-]*)'s\s+(?=(?:mom|mum|dad|mother|father|parents?|grandma|aunt|family)\b)",
    re.I,
)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")

# Common first names across the communities our districts serve (lower case).
FIRST_NAMES = frozenset(
    """
    aaliyah aaron abigail adrian aiden aisha alejandro alex alexander alexis ali alicia alyssa
    amir amy ana andre andrea andrew angela anthony aria ariana arjun ashley austin ava
    axel bella benjamin brandon brayden brianna brooklyn caleb camila cameron carlos carmen
    carter charlotte chloe chris christopher daniel daniela david deandre deshawn destiny diego
    dylan elena eli elijah elizabeth ella emily emma eric ethan eva evelyn fatima gabriel
    gabriela hailey hannah harper hector isaac isabella isaiah jackson jacob
    jada jaden jake james jasmine jason javier jayden jaylen jennifer jeremiah jesus jessica
    john jonathan jordan jose joseph joshua josiah juan julian justin kayla kevin khalil kimberly
    kyle landon layla leah leo liam lily logan lucas luis luna madison malik maria mariah mason
    mateo matthew maya mia michael miguel mohammed muhammad natalie nathan nevaeh nicholas noah
    nora olivia omar oscar priya rachel riley robert ryan samantha samuel santiago sara sarah
    scarlett sebastian sofia sophia stella steven tyler valentina victoria william wyatt xavier
    yusuf zoe zoey
    """.split()
)
# Capitalised mid-sentence words that are not names: calendar, subjects, tools, school words.
NOT_NAMES = frozenset(
    """
    i i'm i've i'd i'll ok okay monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    english spanish french math maths science history ela sel ell esl iep ieps 504 ap ib
    algebra geometry biology chemistry physics art music pe stem steam covid
    google classroom chromebook chromebooks ipad ipads kahoot canvas zoom teams slack quizlet
    desmos seesaw schoology powerpoint slides docs forms youtube nearpod padlet blooket gimkit
    kindergarten pre-k tk k-2 3-5 6-8 9-12 grade grades the a an and or but so my our their
    how what why when where who which can could should would do does is are was were any
    staffroom pd plc mtss rti pbis ccss ngss sat act
    """.split()
)


def asker_key(platform: str, user_id: str) -> int:
    """The pseudonym insights key a person's questions by: 64 bits of a SHA-256 (forget finds
    them by it; an integer so that counting distinct people is cheap)."""
    digest = hashlib.sha256(f"{platform}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def scrub(text: str) -> str:
    """``text`` with emails, phone numbers and names replaced by [email], [phone], [name]."""
    text = EMAIL.sub("[email]", text)
    text = PHONE.sub("[phone]", text)
    text = TITLE.sub("[name]", text)
    text = CUE.sub(_cue, text)
    text = POSSESSIVE_FAMILY.sub(_possessive, text)
    return _names(text)


def _cue(m: re.Match[str]) -> str:
    out = f"{m.group(1)} [name]"
    return out + (" and [name]" if m.group(3) else "")


def _possessive(m: re.Match[str]) -> str:
    word = m.group(1)
    if word.lower() in NOT_NAMES or word.lower() in _FAMILY_WORDS:
        return m.group(0)
    return "[name]'s "


_FAMILY_WORDS = frozenset({"student", "kid", "child", "boy", "girl", "son", "daughter", "everyone"})


def _names(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in WORD.finditer(text):
        word = m.group(0)
        if _is_name(word, _sentence_start(text, m.start())):
            out.append(text[pos : m.start()])
            out.append("[name]")
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _is_name(word: str, sentence_start: bool) -> bool:
    base = word.lower().removesuffix("'s")
    if base in FIRST_NAMES:
        return True
    if sentence_start or not word[0].isupper() or word.isupper() or base in NOT_NAMES:
        return False
    return word[1:].islower() or "'" in word


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"'“(")
    return not before or before[-1] in ".!?\n:;"
