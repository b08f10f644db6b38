"""Plain text for the terminal (and logs) from the neutral model."""

from __future__ import annotations

import re

from bot.messages import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    SAY,
    Action,
    IdeaCard,
    Reply,
    SessionCard,
)
from bot.render import field_ideas

FEEDBACK_HINT = "(Did this help? Type `feedback good` or `feedback bad`.)"
# Control characters (ANSI escapes above all) are shown, never obeyed by the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x1b``) instead of obeyed."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def render(reply: Reply) -> str:
    """One reply as terminal lines: answer, idea and session cards, small print, options."""
    return visible(_render(reply))


def _render(reply: Reply) -> str:
    lines = [reply.answer or reply.text]
    for idea in reply.ideas:
        lines += _idea(idea)
    for n, card in enumerate(reply.cards, 1):
        lines += _card(n, card)
    lines += field_ideas.text_lines(reply.field_ideas)
    if reply.image is not None:  # a terminal shows no pictures: say what it shows
        lines.append(f"[chart: {reply.image.alt}]")
    lines += list(reply.notes)
    ids = {a.action_id for a in reply.actions}
    if ids & {FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL}:
        lines.append(FEEDBACK_HINT)
    others = [
        _option(a)
        for a in reply.actions
        if a.action_id not in (FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL)
    ]
    others = [o for o in others if o]
    if others:
        lines.append("Options: " + " · ".join(others))
    return "\n".join(lines)


def _option(action: Action) -> str:
    """A button as what to type; a form-only button (no typed form) is left out."""
    typed = action.typed or (action.value if action.action_id == SAY else "")
    return f"{action.label} (`{typed}`)" if typed else ""


def _idea(card: IdeaCard) -> list[str]:
    lines = [f"#{card.number} {card.title} — {card.status}"]
    if card.author:
        lines.append(f"   Pitched by {card.author}")
    if card.question:
        lines.append(f"   Answers: {card.question}")
    lines += [f"   {label}: {value}" for label, value in card.lines]
    rooms = "classroom" if card.tried == 1 else "classrooms"
    lines.append(f"   Tried in {card.tried} {rooms} · {card.will_try} would try it")
    lines += [f"   {s}" for s in card.sessions]
    lines += [f"   {h}" for h in card.history]
    return lines


def _card(n: int, card: SessionCard) -> list[str]:
    by = f" — {card.presenter}" if card.presenter else ""
    lines = [f"{n}. {card.title}{by}"]
    where = f"▶ {card.moment}" if card.timed else card.moment
    place = f"{where}  {card.link}".strip()
    if place:
        lines.append(f"   {place}")
    if card.snippet:
        lines.append(f"   “{card.snippet}”")
    tags = [*card.grades, *card.subjects]
    if tags:
        lines.append(f"   {' · '.join(tags)}")
    return lines
