"""Outgoing message activities: one Adaptive Card each, with a notification summary."""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.messages import Reply
from bot.render import cards

MAX_SUMMARY = 2000  # what shows where cards cannot (notifications, some clients)


def card_activity(card: cards.Card, summary: str = "") -> Activity:
    return Activity(
        type=ActivityTypes.message,
        summary=cards.clip(summary, MAX_SUMMARY) if summary else None,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=card)],
    )


def message(reply: Reply) -> Activity:
    """A reply as a message; ``summary`` is what a notification or a chat list shows."""
    return card_activity(cards.reply_card(reply), reply.text)
