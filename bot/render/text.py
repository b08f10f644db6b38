"""Plain text for the terminal (and logs) from the neutral model."""

from __future__ import annotations

from bot.messages import FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL, Reply, SessionCard

FEEDBACK_HINT = "(Did this help? Type `feedback good` or `feedback bad`.)"


def render(reply: Reply) -> str:
    """One reply as terminal lines: answer, numbered cards, small print, feedback hint."""
    lines = [reply.answer or reply.text]
    for n, card in enumerate(reply.cards, 1):
        lines += _card(n, card)
    lines += list(reply.notes)
    ids = {a.action_id for a in reply.actions}
    if ids & {FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL}:
        lines.append(FEEDBACK_HINT)
    others = [
        a.label
        for a in reply.actions
        if a.action_id not in (FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL)
    ]
    if others:
        lines.append("Options: " + " · ".join(others))
    return "\n".join(lines)


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
