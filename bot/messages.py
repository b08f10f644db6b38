"""The neutral message model every front-end speaks: what came in and what goes out.

No raw platform payload travels through the core: front-ends translate to these frozen
dataclasses on the way in (``to_incoming``) and render them on the way out.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

TRY_AGAIN = "Sorry, something went wrong on my side. Please try again in a minute."
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
    message_id: str = ""  # the message's own id (Slack ts): stored with comments, once
    private: bool = False  # only the user sees this conversation (a DM, a personal chat)
    timezone: str = ""  # the user's IANA time zone when the platform says (Teams localTimezone)


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
    typed: str = ""  # what to type instead where there are no buttons (the terminal)


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
    ideas: tuple[IdeaCard, ...] = ()  # idea summaries (a review post, `idea 12`, lists)
    form: Form | None = None  # a form to open (a Slack modal); ``text`` says how to type it
    image: Image | None = None  # a picture under the text (a chart); ``text`` reads well without
    field_ideas: tuple[FieldIdea, ...] = ()  # colleagues' piloted ideas like the question

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (a claimed delivery keeps its reply in the database until it is sent)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        form = data.get("form")
        return cls(
            **{k: v for k, v in data.items() if k not in _NESTED},
            cards=tuple(
                SessionCard(**{**c, "grades": tuple(c["grades"]), "subjects": tuple(c["subjects"])})
                for c in data.get("cards", ())
            ),
            actions=tuple(Action(**a) for a in data.get("actions", ())),
            notes=tuple(data.get("notes", ())),
            ideas=tuple(
                IdeaCard(**{**i, "lines": tuple((k, v) for k, v in i["lines"]),
                            "sessions": tuple(i["sessions"]), "history": tuple(i["history"])})
                for i in data.get("ideas", ())
            ),  # fmt: skip
            form=Form(**{**form, "fields": tuple(FormField(**f) for f in form["fields"])})
            if form
            else None,
            image=Image(**data["image"]) if data.get("image") else None,
            field_ideas=tuple(FieldIdea(**f) for f in data.get("field_ideas", ())),
        )


@dataclass(frozen=True)
class Image:
    """A picture sent with a reply: a PNG as base64 text, so a reply stays plain JSON.

    Slack receives it as an uploaded file, Teams inside the card; ``alt`` says what it shows
    (screen readers, and wherever the picture does not load).
    """

    png_base64: str
    alt: str
    title: str = ""
    filename: str = "chart.png"

    @classmethod
    def of_png(cls, png: bytes, alt: str, title: str = "", filename: str = "chart.png") -> Image:
        return cls(base64.b64encode(png).decode("ascii"), alt, title, filename)

    def png(self) -> bytes:
        return base64.b64decode(self.png_base64)

    @property
    def data_uri(self) -> str:
        return f"data:image/png;base64,{self.png_base64}"


@dataclass(frozen=True)
class IdeaCard:
    """One idea as every surface shows it; all text is the user's, escaped by the renderer."""

    number: int
    title: str
    status: str  # the status label: "under review"
    author: str = ""
    lines: tuple[tuple[str, str], ...] = ()  # (label, value) in pitch order
    will_try: int = 0
    tried: int = 0
    question: str = ""  # the design question it answers
    sessions: tuple[str, ...] = ()  # "“Exit Tickets” covers this at 12:31"
    history: tuple[str, ...] = ()  # audit trail and comments, oldest first


@dataclass(frozen=True)
class FieldIdea:
    """A piloting, scaling or adopted idea shown under an answer: a practice in colleagues'
    classrooms, not a library session. ``line`` reads alone: "Colleagues at Lincoln MS are
    piloting: #12 Exit tickets on sticky notes"."""

    number: int
    title: str
    status: str  # "piloting", "scaling", "adopted"
    line: str


@dataclass(frozen=True)
class FormField:
    """One input of a form; ``hint`` is the example answer shown as a placeholder."""

    key: str
    label: str
    hint: str = ""
    required: bool = True
    max_len: int = 3000
    multiline: bool = False
    value: str = ""


@dataclass(frozen=True)
class Form:
    """A form the user fills in at once; ``context`` comes back unchanged with the values."""

    form_id: str
    title: str
    submit: str
    fields: tuple[FormField, ...]
    context: str = ""
    intro: str = ""


@dataclass(frozen=True)
class Pressed:
    """What a press comes to; ``card`` or ``form`` replaces the pressed card, else ``note``."""

    card: Reply | None = None  # the answer, or the pressed answer redrawn with ``note`` under it
    form: Form | None = None  # a form redrawn with what was typed and its ``errors``
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    below: tuple[Reply, ...] = ()  # new messages under the pressed card
    stale: bool = False  # the button means nothing any more (tampered, unknown)


_NESTED = frozenset({"cards", "actions", "notes", "ideas", "form", "image", "field_ideas"})

# Action ids the core owns; front-ends route clicks on them to ``Core.feedback``.
FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
# A click on SAY is the user typing its ``value``: front-ends hand it to ``Core.handle``.
SAY = "staffroom_say"
# A click on OPEN_FORM opens ``Core.form(*value.split("|", 1))`` at once (Slack: views.open).
OPEN_FORM = "staffroom_form"
# A card form's submit button (Teams): its data carries the form id, context and inputs.
SUBMIT_FORM = "staffroom_submit_form"
