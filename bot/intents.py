"""Which intent a message carries: ask (the default), help, feedback, or a registered keyword.

Later work (pitch, ideas, idea, triage, reindex, question) registers handlers with the core;
until one is registered its keyword is just the first word of a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HELP_WORDS = frozenset({"help", "?", "commands", "what can you do", "hi", "hello"})
FEEDBACK_WORD = "feedback"
# Keywords later issues plug into; the core only routes them when a handler is registered.
HOOK_INTENTS = ("pitch", "ideas", "idea", "triage", "reindex", "status", "question", "questions")
# Whole phrases that mean a keyword (routed only when the keyword's handler is registered).
PHRASES: dict[str, str] = {
    "i have an idea": "pitch",
    "i've got an idea": "pitch",
    "i have a idea": "pitch",
    "pitch an idea": "pitch",
    "new idea": "pitch",
}

# A message of thanks only ("thanks!", "ok great, thank you") is not a follow-up question: it
# must not search the last topic again (or log a question).
_THANKS = re.compile(
    r"^(?:(?:ok(?:ay)?|cool|great|perfect|awesome|nice|got it|will do|super|amazing|wonderful|"
    r"thanks?(?: you)?(?: so much| a lot)?|thx|ty|cheers|much appreciated|appreciate it|"
    r"that helps|this helps|helpful|👍|🙏|🙌)[\s,.!]*)+$"
)
THANKS_REPLY = "You're welcome! Ask me anything else, or say *another one* for more on this topic."

_POSITIVE = frozenset({"good", "helpful", "yes", "up", "+1", "👍", "great", "thanks"})
_NEGATIVE = frozenset({"bad", "not", "no", "down", "-1", "👎", "unhelpful", "wrong"})


@dataclass(frozen=True)
class Intent:
    """The routed intent and the text that follows its keyword (the whole text for ask)."""

    name: str
    args: str


def normalize(text: str) -> str:
    """Collapse whitespace; strip the ends."""
    return " ".join(text.split())


def parse(text: str, registered: frozenset[str] = frozenset()) -> Intent:
    """The intent of an already-normalized message."""
    lowered = text.lower().rstrip("!.")
    if not lowered:
        return Intent("empty", "")
    if lowered in HELP_WORDS:
        return Intent("help", "")
    if _THANKS.match(lowered):
        return Intent("thanks", "")
    phrase = PHRASES.get(lowered.rstrip("!.:?"))
    if phrase is not None and phrase in registered:
        return Intent(phrase, "")
    word, _, rest = text.partition(" ")
    keyword = word.lower().rstrip(":")
    if keyword == FEEDBACK_WORD:
        return Intent("feedback", rest.strip())
    if keyword in registered:
        return Intent(keyword, rest.strip())
    return Intent("ask", text)


def feedback_vote(args: str) -> bool | None:
    """True/False for "good"/"not helpful" style words, None when the vote is unclear."""
    words = set(re.findall(r"[\w+\-]+|👍|👎", args.lower()))
    if words & _NEGATIVE:
        return False
    if words & _POSITIVE:
        return True
    return None
