"""The neutral message model every front-end speaks: what came in and what goes out.

No raw platform payload travels through the core: front-ends translate to these frozen
dataclasses on the way in (``to_incoming``) and render them on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Where a message came from inside a platform; flows may answer differently per surface.
SURFACES = ("mention", "dm", "command", "shortcut", "home", "terminal", "action")


@dataclass(frozen=True)
class Incoming:
    """One user message, already stripped of platform syntax such as ``<@U123>`` mentions."""

    platform: str  # "slack", "teams", "terminal"
    user_id: str
    conversation_id: str  # channel / chat id
    thread_id: str  # thread to answer in; "" for a top-level DM or the terminal
    text: str
    surface: str = "mention"
    user_name: str = ""
    event_id: str = ""  # the platform's delivery id, used to drop retries


@dataclass(frozen=True)
class SessionCard:
    """One recommended session and the moment to watch."""

    title: str
    presenter: str = ""
    moment: str = ""  # "12:30–15:10", or a heading / page for documents
    link: str = ""  # the recording opened at the moment, "" when none
    snippet: str = ""
    grades: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    timed: bool = False  # True when ``moment`` is a time span (shown with ▶)


@dataclass(frozen=True)
class Action:
    """A button; ``value`` comes back unchanged when it is clicked."""

    action_id: str
    label: str
    value: str
    style: str = ""  # "", "primary" or "danger"


@dataclass(frozen=True)
class Reply:
    """One message to send. ``text`` always reads well alone (notifications, terminal, logs)."""

    text: str
    answer: str = ""  # the short answer line above the cards
    cards: tuple[SessionCard, ...] = ()
    actions: tuple[Action, ...] = ()
    ephemeral: bool = False
    in_thread: bool = True
    kind: str = "text"  # "answer", "no_match", "help", "hint", "error", "feedback", ...
    question_id: int | None = None  # set on answers, so feedback and later edits find them
    notes: tuple[str, ...] = field(default=())  # small print under the answer


# Action ids the core owns; front-ends route clicks on them to ``Core.feedback``.
FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
