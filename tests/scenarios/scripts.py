"""Conversation scripts as data, replayed through every front-end (core, Slack, Teams).

FORMAT
    SCRIPTS: dict[name, Script]; a Script is a tuple of ``Say`` steps, played in order on an
    empty, migrated database. Each step is one message typed by a person in a private chat
    (a Slack DM, a Teams personal chat, the terminal):

        Say(user, text, expect=(...), absent=(...))

    user    "teacher", "colleague" (plain teachers) or "staff" (central staff: put its id in
            STAFFROOM_STAFF_USERS). A replayer maps these names to its platform's user ids.
    text    exactly what the person types (button clicks are the same: a SAY button's value).
    expect  substrings that must ALL appear in the text of the replies to this message
            (``Reply.text`` joined with newlines; plain words only, nothing a renderer escapes).
    absent  substrings that must NOT appear in those replies.
    idle    seconds every pitch draft has been left before this message (a replayer moves
            the drafts' last-answer time back with ``tests.scenarios.harness.age_drafts``).

    The replayer's world: a retriever answering every search with the canned sessions of
    tests/bot/fakes.py (so "“Exit Tickets That Drive Tomorrow's Lesson” covers this at 12:30"),
    the FakeEmbedder for similar ideas, and a review channel (so triage posts somewhere).

Replayers: tests/scenarios/test_scripts.py (the core), tests/slack/test_idea_scripts.py (Slack
DMs over HTTP). The Teams front-end replays the same SCRIPTS for the parity test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Say:
    user: str
    text: str
    expect: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    idle: float = 0.0


Script = tuple[Say, ...]

USERS = ("teacher", "colleague", "staff")


def pitch(user: str, title: str, practice: str, *, first: str = "pitch") -> Script:
    """A complete pitch (optional step skipped), ending on the confirmation, not submitted."""
    return (
        Say(user, first, ("Question 1 of 6",)),
        Say(user, title, ("Question 2 of 6",)),
        Say(user, practice, ("Question 3 of 6",)),
        Say(user, "Nobody knew who was lost until the unit test.", ("Question 4 of 6",)),
        Say(user, "6-8, math, Lincoln Middle", ("Question 5 of 6",)),
        Say(user, "Re-teach groups shrank from 11 to 4.", ("Question 6 of 6 (optional)",)),
        Say(user, "skip", ("Here's your pitch",)),
    )


EXIT = (
    "Exit tickets sorted into three piles",
    "Students answer one question on a sticky note; I sort them into got it, almost, not yet.",
)
CIRCLES = (
    "Monday morning restorative circles",
    "We sit in a circle with a talking piece and each student shares one weekend highlight.",
)

FIELD_QUESTION = "exit tickets sorted into three piles with sticky notes"

SCRIPTS: dict[str, Script] = {
    "pitch_submitted": (
        *pitch("teacher", *EXIT, first="I have an idea"),
        Say("teacher", "submit", ("Your idea is #1", "What happens next")),
        Say("teacher", "ideas mine", ("#1 Exit tickets sorted into three piles", "new")),
    ),
    "pitch_back_skip_cancel_and_limits": (
        Say("teacher", "pitch", ("Question 1 of 6",)),
        Say("teacher", "x" * 200, ("the limit is 120",), ("Question 2",)),
        Say("teacher", "Silent debate", ("Question 2 of 6",)),
        Say("teacher", "skip", ("can't be skipped",)),
        Say("teacher", "back", ("Question 1 of 6",)),
        Say("teacher", "Silent debate on paper", ("Question 2 of 6",)),
        Say("teacher", "cancel", ("Pitch cancelled",)),
        Say("teacher", "ideas mine", ("none yet",)),
    ),
    "pitch_shows_covering_sessions_and_similar_ideas": (
        *pitch("teacher", *EXIT),
        Say("teacher", "submit", ("Your idea is #1",)),
        *pitch("colleague", *EXIT)[:-1],
        Say(
            "colleague",
            "skip",
            ("Similar ideas", "#1 Exit tickets sorted into three piles", "covers this at 12:30"),
        ),
        Say("colleague", "pitch voice 1", ("Added your voice to idea #1", "1 person would try")),
        Say("colleague", "ideas mine", ("none yet",)),
    ),
    "triage_by_staff_only": (
        *pitch("teacher", *CIRCLES),
        Say("teacher", "submit", ("Your idea is #1",)),
        Say("teacher", "triage 1 start_review", ("Only central staff",)),
        Say("staff", "triage 1 start_review", ("now under review",)),
        Say("staff", "triage 1 start_review", ("already under review",)),
        Say("staff", "triage 1 pilot from new", ("changed", "look again"), ("now piloting",)),
        Say("staff", "triage 1 decline Not this year, sorry", ("now declined",)),
        Say("teacher", "idea 1", ("declined", "Not this year, sorry")),
    ),
    "design_question_pitch": (
        Say("teacher", "question new How might we cut absences?", ("Only central staff",)),
        Say("staff", "question new How might we cut absences? by 2999-01-01", ("#1",)),
        Say("teacher", "questions", ("How might we cut absences?", "2999-01-01")),
        Say("teacher", "pitch for 1", ("design question #1", "Question 1 of 6")),
    ),
    "try_and_tried_counts": (
        *pitch("teacher", *CIRCLES),
        Say("teacher", "submit", ("Your idea is #1",)),
        Say("colleague", "idea 1 try", ("1 person would try",)),
        Say("colleague", "idea 1 try", ("already",)),
        Say("colleague", "idea 1 tried Worked with my 3rd period", ("tried in 1 classroom",)),
        Say("teacher", "idea 1", ("Tried in 1 classroom", "Worked with my 3rd period")),
    ),
    # Issue 12: a question or another command at a pitch step is answered, never saved as
    # the answer; the pitch waits at its step until "continue" (or "cancel").
    "pitch_interrupted_by_questions_and_commands": (
        Say("teacher", "I have an idea", ("Question 1 of 6",)),
        Say(
            "teacher",
            "how do I run exit tickets with 32 kids?",
            ("Start with", "Your pitch is saved at step 1 of 6", "*continue*"),
            ("Question 2",),
        ),
        Say("teacher", "continue", ("Welcome back", "Question 1 of 6")),
        Say("teacher", "Question of the day on the door", ("Question 2 of 6",)),
        Say(
            "teacher",
            "wait, is there already a session on greeting kids at the door?",
            ("Start with", "saved at step 2 of 6"),
        ),
        Say("teacher", "continue", ("Question 2 of 6",)),
        Say("teacher", "ideas mine", ("none yet", "saved at step 2 of 6")),
        Say("teacher", "continue", ("Question 2 of 6",)),
        Say("teacher", "help", ("pitch", "saved at step 2 of 6")),
        Say("teacher", "continue", ("Question 2 of 6",)),
        Say(
            "teacher",
            "Every morning I write a question like 'what made you smile?' on the door",
            ("Question 3 of 6",),
            ("saved at step",),
        ),
        Say("teacher", "feedback good", ("marked helpful", "saved at step 3 of 6")),
        Say("teacher", "cancel", ("Pitch cancelled",)),
        Say("teacher", "ideas mine", ("none yet",), ("saved at step",)),
    ),
    "pitch_left_too_long_is_set_aside_once": (
        Say("teacher", "pitch", ("Question 1 of 6",)),
        Say("teacher", "Hallway greetings", ("Question 2 of 6",)),
        Say(
            "teacher",
            "exit tickets with 32 kids",
            ("unfinished 8 days ago", "“Hallway greetings”", "set it aside", "Start with"),
            ("Question 3",),
            idle=8 * 86400,
        ),
        Say(
            "teacher", "exit tickets for 1st graders", ("Start with",), ("unfinished", "Question 3")
        ),
        Say("teacher", "continue", ("Welcome back", "Question 2 of 6")),
        Say("teacher", "We greet every student by name at the door.", ("Question 3 of 6",)),
    ),
    "field_idea_under_an_answer": (
        *pitch("teacher", *EXIT),
        Say("teacher", "submit", ("Your idea is #1",)),
        Say("teacher", FIELD_QUESTION, ("Start with",), ("Colleagues",)),  # new: not in the field
        Say("staff", "triage 1 review", ("now under review",)),
        Say("staff", "triage 1 pilot", ("now piloting",)),
        Say(
            "colleague",
            FIELD_QUESTION,
            (
                "Start with",
                "field ideas, not library sessions",
                "Colleagues at Lincoln Middle are piloting: #1 Exit tickets sorted into three piles",
            ),
        ),
        Say("colleague", "restorative circles after a fight", ("Start with",), ("Colleagues",)),
    ),
    "keywords_that_are_questions": (
        Say("teacher", "ideas for warm-ups", ("Start with",)),
        Say("teacher", "questions to ask during a read-aloud", ("Start with",)),
    ),
}
