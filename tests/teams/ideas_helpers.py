"""Helpers for the idea tests over Teams: personal chats, card clicks, what landed where."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.teams.conftest import PEOPLE, Staffroom, execute, personal_message
from tests.teams.fake_connector import Call, FakeConnector

_ESCAPE = re.compile(r"\\(.)")


def in_conversation(connector: FakeConnector, conversation: str) -> list[Call]:
    return [c for c in connector.posts() if c.conversation == conversation]


def said(calls: list[Call]) -> str:
    """What the posted cards say as plain text (their notification summaries, joined)."""
    return "\n".join(str(c.body.get("summary") or "") for c in calls)


def card_text(card: dict[str, Any]) -> str:
    """Every TextBlock and fact of a card, Markdown escapes removed."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for fact in node.get("facts", []):
                found.extend((fact["title"], fact["value"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body", []))
    return _ESCAPE.sub(r"\1", "\n".join(found))


async def chat(teams: Staffroom, user: str, text: str) -> list[Call]:
    """``user`` writes ``text`` in their personal chat; the cards posted back there."""
    sender, conversation = PEOPLE[user]
    before = len(in_conversation(teams.connector, conversation))
    activity = personal_message(teams.connector.url, text, sender, conversation)
    sent = await teams.post(activity)
    assert sent.status == 200
    await teams.front.settle()
    return in_conversation(teams.connector, conversation)[before:]


async def click(teams: Staffroom, user: str, button: dict[str, Any], *, on: Call) -> dict[str, Any]:
    """``user`` clicks an ``Action.Execute`` button of the card posted as ``on``; the answer."""
    sender, _ = PEOPLE[user]
    activity = execute(
        teams.connector.url,
        button["verb"],
        json.loads(json.dumps(button["data"])),
        reply_to=on.posted_id,
        sender=sender,
        conversation=on.conversation,
    )
    sent = await teams.post(activity)
    assert sent.status == 200, sent.text
    await teams.front.settle()
    return sent.json()


def button(card: dict[str, Any], title_start: str) -> dict[str, Any]:
    return next(a for a in card.get("actions", []) if a["title"].startswith(title_start))
