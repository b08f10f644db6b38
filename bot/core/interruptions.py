"""Interruptions never lose anything: a flow waiting for an answer (the pitch) can be set aside.

While a flow waits for the next answer, a message that reads as a question ("wait, how do I…?")
or as another command (``ideas mine``, ``help``, ``feedback good``) is not taken as the answer:
the flow is set aside (its draft stays in the database), the message is answered, and the
flow's ``saved`` line says how to come back ("Your pitch is saved at step 2 of 6 — reply
*continue* or *cancel*"). ``continue`` / ``cancel`` then go to the set-aside flow.

A flow left idle too long (its ``stale`` line, e.g. after ``STAFFROOM_DRAFT_TTL``) is mentioned
once on the next message and set aside the same way: never silently resumed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot import intents
from bot.messages import Incoming
from bot.records import UserState
from retrieval.followup import reads_as_question

PAUSED = "paused_flow"  # the state data key naming the flow set aside
RESUME_WORDS = frozenset({"continue", "resume", "cancel"})

# What a keyword's arguments look like when the message is that command rather than an answer
# that starts with the same word ("Question of the day on the door", "Ideas wall by the door").
_IDEA_LISTS = (
    r"mine|pending|new|review|reviewing|under review|pilot|piloting|scale|scaling|declined|"
    r"merged|duplicates?|(?:question|q)\s*#?\d+"
)
COMMAND_FORMS: dict[str, str] = {
    "idea": r"#?\d+(?:\s.*)?",
    "ideas": rf"(?:{_IDEA_LISTS})?",
    "triage": r"#?\d+(?:\s.*)?",
    "question": r"new\s.+",
    "questions": r"",
    "status": r"",
    "reindex": r"\S*",
    "pitch": r".*",
}


@dataclass(frozen=True)
class Pausable:
    """How a flow is set aside: the line that says it is saved, and (when stale) that it was."""

    saved: Callable[[Incoming], Awaitable[str]]
    stale: Callable[[Incoming], Awaitable[str | None]]


def is_command(intent: intents.Intent, registered: frozenset[str]) -> bool:
    """True when ``intent`` is a command, not free text that happens to start with a keyword."""
    if intent.name == "help":
        return True
    if intent.name == "feedback":
        return intents.feedback_vote(intent.args) is not None
    form = COMMAND_FORMS.get(intent.name)
    if intent.name not in registered or form is None:
        return False
    return re.fullmatch(form, intent.args.strip(), re.IGNORECASE | re.DOTALL) is not None


def interrupts(text: str, intent: intents.Intent, registered: frozenset[str]) -> bool:
    """True when a message typed while a flow waits is a question or a command, not an answer."""
    return is_command(intent, registered) or reads_as_question(text)


def set_aside(state: UserState) -> UserState:
    """``state`` with its flow set aside: messages are no longer answers; continue resumes it."""
    return replace(state, flow="", step="", data={**state.data, PAUSED: state.flow})


def resume_word(text: str, state: UserState) -> str | None:
    """The set-aside flow that ``text`` ("continue", "cancel") speaks to, else None."""
    paused = state.data.get(PAUSED)
    if state.flow or not isinstance(paused, str):
        return None
    return paused if text.lower().rstrip(".!") in RESUME_WORDS else None


def taken_up(state: UserState) -> UserState:
    """``state`` once its set-aside flow is spoken to again (resumed, cancelled, restarted)."""
    return replace(state, data={k: v for k, v in state.data.items() if k != PAUSED})
