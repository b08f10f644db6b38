"""The field-ideas section of an answer on each surface: its own heading, never a session card."""

from __future__ import annotations

from typing import Any

from bot.messages import FieldIdea

HEADING = "💡 From colleagues' classrooms"
MARK = "Field ideas: practices colleagues are trying, not library sessions."


def text_lines(items: tuple[FieldIdea, ...]) -> list[str]:
    """Terminal lines."""
    if not items:
        return []
    return [f"{HEADING} — {MARK}", *(f"   • {i.line}" for i in items)]


def slack_blocks(items: tuple[FieldIdea, ...], escape: Any) -> list[dict[str, Any]]:
    """A divider, the heading with its mark, one line per idea (text escaped by ``escape``)."""
    if not items:
        return []
    lines = "\n".join(f"• {escape(i.line)}" for i in items)
    return [
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{HEADING}*\n{lines}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": MARK}]},
    ]


def card_items(items: tuple[FieldIdea, ...], escape: Any) -> list[dict[str, Any]]:
    """One Adaptive Card container (text escaped by ``escape``)."""
    if not items:
        return []
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": f"**{HEADING}**", "wrap": True},
        {"type": "TextBlock", "text": MARK, "wrap": True, "size": "Small", "isSubtle": True,
         "spacing": "None"},
    ]  # fmt: skip
    body += [{"type": "TextBlock", "text": f"• {escape(i.line)}", "wrap": True} for i in items]
    return [{"type": "Container", "separator": True, "spacing": "Medium", "items": body}]
