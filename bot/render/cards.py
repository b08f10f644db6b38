"""Adaptive Cards (Microsoft Teams) from the neutral model: pure functions, no botbuilder here.

Cards use schema 1.4 so buttons can be ``Action.Execute`` (Universal Actions): a click comes
back to the bot as an ``adaptiveCard/action`` invoke whose answer replaces the card in place.
Teams refuses messages over ~100 KB, so a card is kept under ``MAX_CARD_BYTES`` by dropping
snippets, then sessions. TextBlocks render Markdown, so text that came from a person or the
library is escaped and links only ever go through ``Action.OpenUrl``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from bot.flows.home import Home
from bot.messages import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    SAY,
    SUBMIT_FORM,
    Action,
    Form,
    IdeaCard,
    Image,
    Pressed,
    Reply,
    SessionCard,
)
from bot.render import field_ideas

Card = dict[str, Any]

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.4"
MAX_CARD_BYTES = 40_000  # Teams' hard limit is ~100 KB per message; stay far below it
MAX_TEXT = 4000
MAX_SUMMARY = 2000
MAX_TITLE = 200
FEEDBACK_ACTIONS = frozenset({FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL})
NOTE_ID = "staffroom_note"
FORM_KEYS = ("form_id", "context")  # what a form's submit carries besides the inputs
MAX_HISTORY = 10
_STYLES = {"primary": "positive", "danger": "destructive"}
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|>~])")
_LINE_START = re.compile(r"^(\s*)(-|\d+\.)", re.MULTILINE)


def escape(text: str) -> str:
    """Markdown syntax shown literally (Teams TextBlocks honour backslash escapes)."""
    return _LINE_START.sub(r"\1\\\2", _MARKDOWN.sub(r"\\\1", text))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_block(text: str, **style: Any) -> Card:
    return {"type": "TextBlock", "text": clip(text, MAX_TEXT), "wrap": True, **style}


def card(body: list[Card], actions: list[Card] | None = None) -> Card:
    """An Adaptive Card envelope with ``body`` and optional ``actions``."""
    envelope: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        envelope["actions"] = actions
    return envelope


def attachment(content: Card) -> dict[str, Any]:
    """The message attachment that carries one card."""
    return {"contentType": CONTENT_TYPE, "content": content}


def activity(content: Card, summary: str = "") -> dict[str, Any]:
    """A message activity carrying one card; ``summary`` shows where cards cannot (notifications,
    chat lists)."""
    message: dict[str, Any] = {"type": "message", "attachments": [attachment(content)]}
    if summary:
        message["summary"] = clip(summary, MAX_SUMMARY)
    return message


def size(content: Card) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode("utf-8"))


def session_block(session: SessionCard, *, snippet: bool = True) -> Card:
    """Title, presenter, snippet and tags; the moment to watch is a button that opens the link."""
    items: list[Card] = [
        text_block(f"**{escape(clip(session.title, MAX_TITLE))}**"),
    ]
    where = []
    if session.presenter:
        where.append(escape(session.presenter))
    if session.moment and not (session.timed and session.link):
        where.append(escape(session.moment))
    if where:
        items.append(text_block(" · ".join(where), isSubtle=True, spacing="None"))
    if snippet and session.snippet:
        items.append(text_block(f"“{escape(session.snippet)}”", size="Small"))
    tags = [*session.grades, *session.subjects]
    if tags:
        items.append(text_block(escape(" · ".join(tags)), size="Small", isSubtle=True))
    if session.link:
        label = f"▶ Watch {session.moment}" if session.timed and session.moment else "Open"
        items.append(
            {
                "type": "ActionSet",
                "actions": [{"type": "Action.OpenUrl", "title": label, "url": session.link}],
            }
        )
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def execute(action: Action, data: dict[str, Any] | None = None) -> Card:
    """A button that comes back as an ``adaptiveCard/action`` invoke with ``verb`` = action id."""
    button: Card = {
        "type": "Action.Execute",
        "title": clip(action.label, 80),
        "verb": action.action_id,
        "data": data if data is not None else {"value": action.value},
    }
    if action.style in _STYLES:
        button["style"] = _STYLES[action.style]
    return button


def reply_card(reply: Reply, *, note: str = "") -> Card:
    """One reply as a card: answer line, small print, sessions, buttons, and an optional note.

    Feedback buttons carry the reply itself (``reply_state``), so the card can be rebuilt with
    the vote noted when the click comes back, on any server process, after any restart.
    """
    state = reply_state(reply) if _has_feedback(reply) else None
    for snippets, sessions in ((True, reply.cards), (False, reply.cards), (False, ())):
        shown = replace(reply, cards=tuple(sessions))
        content = _reply_card(shown, snippets, note, state and reply_state(shown))
        if size(content) <= MAX_CARD_BYTES:
            return content
    return _reply_card(replace(reply, cards=(), notes=(), image=None), False, note, None)


def _reply_card(reply: Reply, snippets: bool, note: str, state: dict[str, Any] | None) -> Card:
    if reply.form is not None:
        return form_card(reply.form)  # the form itself replaces "open the form" in Teams
    body = [text_block(escape(reply.answer or reply.text))]
    if reply.image is not None:  # a data: URI; a card too big for it is sent without it
        body.append(image_block(reply.image))
    if reply.notes:
        body.append(text_block(escape(" ".join(reply.notes)), size="Small", isSubtle=True))
    body += [session_block(s, snippet=snippets) for s in reply.cards]
    body += [idea_block(i) for i in reply.ideas]
    body += field_ideas.card_items(reply.field_ideas, escape)
    if note:
        body.append(note_block(note))
    actions = []
    for action in reply.actions:
        if action.action_id in FEEDBACK_ACTIONS and state is not None:
            actions.append(execute(action, {"value": action.value, "reply": state}))
        else:
            actions.append(execute(action))
    return card(body, actions)


def image_block(image: Image) -> Card:
    return {"type": "Image", "url": image.data_uri, "altText": clip(image.alt, MAX_TEXT),
            "size": "Stretch"}  # fmt: skip


def idea_block(idea: IdeaCard) -> Card:
    """An idea: number, title and status, who pitched it, its answers as facts, its history."""
    items: list[Card] = [
        text_block(
            f"**#{idea.number} {escape(clip(idea.title, MAX_TITLE))}** · {escape(idea.status)}"
        )
    ]
    if idea.author:
        items.append(text_block(f"Pitched by {escape(idea.author)}", isSubtle=True, spacing="None"))
    if idea.question:
        items.append(text_block(f"Answers: {escape(idea.question)}", size="Small"))
    if idea.lines:
        facts = [{"title": escape(k), "value": escape(clip(v, 1000))} for k, v in idea.lines]
        items.append({"type": "FactSet", "facts": facts})
    rooms = "classroom" if idea.tried == 1 else "classrooms"
    items.append(
        text_block(f"Tried in {idea.tried} {rooms} · {idea.will_try} would try it", size="Small")
    )
    items += [text_block(escape(line), size="Small") for line in idea.sessions]
    items += [
        text_block(escape(line), size="Small", isSubtle=True)
        for line in idea.history[-MAX_HISTORY:]
    ]
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def form_card(
    form: Form, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Card:
    """A form as inputs with the same labels, hints, limits and (after a submit) errors."""
    values, errors = values or {}, errors or {}
    body: list[Card] = [text_block(f"**{escape(form.title)}**", size="Medium")]
    if form.intro:
        body.append(text_block(escape(form.intro), isSubtle=True))
    if errors:
        body.append(text_block("Please fix the fields marked below.", color="Attention"))
    for f in form.fields:
        field: Card = {
            "type": "Input.Text",
            "id": f.key,
            "label": f.label,
            "placeholder": f.hint,
            "isRequired": f.required,
            "maxLength": f.max_len,
            "isMultiline": f.multiline,
            "value": values.get(f.key, f.value),
        }
        if f.required:
            field["errorMessage"] = f"{f.label} can't be empty."
        body.append(field)
        if f.key in errors:
            body.append(text_block(escape(errors[f.key]), color="Attention", spacing="None"))
    submit = {
        "type": "Action.Execute",
        "title": form.submit,
        "verb": SUBMIT_FORM,
        "data": {"form_id": form.form_id, "context": form.context},
        "style": "positive",
    }
    return card(body, [submit])


def form_values(data: dict[str, Any], form: Form) -> dict[str, str]:
    """The inputs a form card's submit carried (only the form's own fields, as text)."""
    return {f.key: str(data.get(f.key) or "") for f in form.fields}


def note_block(note: str) -> Card:
    return {**text_block(escape(note), size="Small", isSubtle=True), "id": NOTE_ID}


# --- a pressed button's answer (an Action.Execute invoke) -------------------------------------

INVOKE_MESSAGE = "application/vnd.microsoft.activity.message"
STALE = "That button no longer works. Ask me again and use the new card."


def pressed_card(pressed: Pressed) -> Card:
    """The card that shows a press's answer (its note alone when there is nothing else)."""
    if pressed.form is not None:
        return form_card(pressed.form, values=dict(pressed.values), errors=dict(pressed.errors))
    if pressed.card is not None:
        return reply_card(pressed.card, note=pressed.note)
    return text_card(pressed.note or STALE)


def invoke_answer(pressed: Pressed | Card) -> dict[str, Any]:
    """An ``AdaptiveCardInvokeResponse``: the card replacing the pressed one, or a short note."""
    if isinstance(pressed, dict):
        return {"statusCode": 200, "type": CONTENT_TYPE, "value": pressed}
    if pressed.card is None and pressed.form is None:
        text = STALE if pressed.stale else pressed.note
        return {"statusCode": 200, "type": INVOKE_MESSAGE, "value": text}
    return {"statusCode": 200, "type": CONTENT_TYPE, "value": pressed_card(pressed)}


def text_card(text: str) -> Card:
    """A card that only says ``text`` (errors and confirmations answered to an invoke)."""
    return card([text_block(escape(text))])


WELCOME_LINES = (
    "Ask a teaching question here, or @mention me in a channel: I answer with the best PD "
    "sessions and the exact moment to watch.",
    "Tell me whether an answer helped with 👍 / 👎, so the PD team sees what works.",
    "Pitch a practice you use: type “pitch” (or “pitch form”); browse ideas with “ideas”.",
    "Type “help” any time.",
)
WELCOME_ACTIONS = (
    Action(SAY, "💡 Pitch an idea", "pitch", "primary"),
    Action(SAY, "My ideas", "ideas mine"),
    Action(SAY, "Design questions", "questions"),
)


def welcome_card(home: Home) -> Card:
    """Sent when Staffroom is installed: what it does in Teams, and the newest sessions.

    ``home.capabilities`` describe Slack's surfaces (slash command, message menu), so Teams
    says its own lines.
    """
    body: list[Card] = [
        text_block("**Hi, I'm Staffroom**", size="Large"),
        *(text_block(f"• {escape(line)}") for line in WELCOME_LINES),
    ]
    if home.recent:
        body.append(text_block("**Recent sessions**", spacing="Medium"))
        body += [session_block(s, snippet=False) for s in home.recent[:5]]
    return card(body, [execute(a) for a in WELCOME_ACTIONS])


# --- the reply a feedback button carries ---------------------------------------------------


def reply_state(reply: Reply) -> dict[str, Any]:
    """What ``reply_from_state`` needs to draw the same card again."""
    return {
        "text": reply.text,
        "answer": reply.answer,
        "kind": reply.kind,
        "question_id": reply.question_id,
        "notes": list(reply.notes),
        "actions": [[a.action_id, a.label, a.value, a.style] for a in reply.actions],
        "cards": [
            [c.title, c.presenter, c.moment, c.link, c.snippet, list(c.grades), list(c.subjects)]
            + [c.timed]
            for c in reply.cards
        ],
    }


def reply_from_state(state: Any) -> Reply | None:
    """The reply a feedback button carried, or None when it is missing or malformed."""
    if not isinstance(state, dict):
        return None
    try:
        sessions = tuple(
            SessionCard(
                title=_str(c[0]),
                presenter=_str(c[1]),
                moment=_str(c[2]),
                link=_link(c[3]),
                snippet=_str(c[4]),
                grades=tuple(_str(g) for g in c[5]),
                subjects=tuple(_str(s) for s in c[6]),
                timed=bool(c[7]),
            )
            for c in state.get("cards", [])[:10]
        )
        actions = tuple(
            Action(_str(a[0]), _str(a[1]), _str(a[2]), _str(a[3]))
            for a in state.get("actions", [])[:5]
        )
        question_id = state.get("question_id")
        return Reply(
            text=_str(state.get("text", "")),
            answer=_str(state.get("answer", "")),
            cards=sessions,
            actions=actions,
            kind=_str(state.get("kind", "answer")),
            question_id=question_id if isinstance(question_id, int) else None,
            notes=tuple(_str(n) for n in state.get("notes", [])[:5]),
        )
    except (TypeError, IndexError, KeyError, ValueError):
        return None


def _has_feedback(reply: Reply) -> bool:
    return any(a.action_id in FEEDBACK_ACTIONS for a in reply.actions)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return clip(value, MAX_TEXT)


def _link(value: Any) -> str:
    """Only web links survive a round trip (a tampered button must not plant other schemes)."""
    text = _str(value)
    return text if text.startswith(("https://", "http://")) or not text else ""
