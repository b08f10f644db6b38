"""Slack payloads -> the neutral ``Incoming`` (pure functions over bolt's parsed bodies)."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.messages import Incoming

PLATFORM = "slack"
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(text: str, bot_user_id: str = "") -> str:
    """Slack's markup as plain words: our own mention dropped, others as @name, links as labels."""

    def swap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "" if target[1:] == bot_user_id else f"@{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            return f"@{label or target[1:].split('^')[0]}"
        return label or target

    return html.unescape(_LINK.sub(swap, text or "")).strip()


def from_event(body: dict[str, Any], bot_user_id: str = "") -> Incoming:
    """An app_mention (answered in its thread) or a direct message."""
    event = body["event"]
    is_dm = event.get("channel_type") == "im"
    thread = event.get("thread_ts") or ("" if is_dm else event.get("ts", ""))
    return Incoming(
        platform=PLATFORM,
        user_id=str(event.get("user", "")),
        conversation_id=str(event.get("channel", "")),
        thread_id=str(thread),
        text=plain_text(str(event.get("text", "")), bot_user_id),
        surface="dm" if is_dm else "mention",
        event_id=str(body.get("event_id", "")),
        message_id=str(event.get("ts", "")),
        private=is_dm,
    )


def in_thread(event: dict[str, Any]) -> bool:
    """True for a reply inside a thread (not the thread's first message)."""
    thread = event.get("thread_ts")
    return bool(thread) and thread != event.get("ts")


def from_command(command: dict[str, Any]) -> Incoming:
    """``/pd <text>``: the text after the command is the message."""
    return Incoming(
        platform=PLATFORM,
        user_id=str(command.get("user_id", "")),
        conversation_id=str(command.get("channel_id", "")),
        thread_id="",
        text=plain_text(str(command.get("text", ""))),
        surface="command",
        user_name=str(command.get("user_name", "")),
    )


def from_shortcut(payload: dict[str, Any]) -> Incoming:
    """ "Ask Staffroom about this": the chosen message's text is the question."""
    message = payload.get("message") or {}
    channel = payload.get("channel") or {}
    return Incoming(
        platform=PLATFORM,
        user_id=_user(payload)[0],
        conversation_id=str(channel.get("id", "")),
        thread_id=str(message.get("thread_ts") or message.get("ts", "")),
        text=plain_text(str(message.get("text", ""))),
        surface="shortcut",
        user_name=_user(payload)[1],
    )


def from_action(payload: dict[str, Any], text: str = "") -> Incoming:
    """Who clicked a button, and where; ``text`` is what the button says on their behalf."""
    channel = payload.get("channel") or {}
    container = payload.get("container") or {}
    conversation = str(channel.get("id") or container.get("channel_id", ""))
    return Incoming(
        platform=PLATFORM,
        user_id=_user(payload)[0],
        conversation_id=conversation,
        thread_id=str(container.get("thread_ts", "")),
        text=text,
        surface="action",
        user_name=_user(payload)[1],
        private=conversation.startswith("D"),  # Slack's DM channel ids start with D
    )


def from_view(payload: dict[str, Any]) -> Incoming:
    """Who submitted a modal."""
    user_id, name = _user(payload)
    return Incoming(
        platform=PLATFORM,
        user_id=user_id,
        conversation_id=user_id,
        thread_id="",
        text="",
        surface="action",
        user_name=name,
    )


def skip_message(event: dict[str, Any]) -> bool:
    """True for message events that are not a person writing (edits, joins, bots)."""
    subtype = event.get("subtype")
    return bool(
        (subtype and subtype not in WRITTEN_SUBTYPES)
        or event.get("bot_id")
        or not event.get("user")
    )


# Subtypes that are still a person writing; every other subtype (edits, joins...) is skipped.
WRITTEN_SUBTYPES = frozenset({"thread_broadcast", "file_share"})


def _user(payload: dict[str, Any]) -> tuple[str, str]:
    user = payload.get("user") or {}
    return str(user.get("id", "")), str(user.get("name") or user.get("username") or "")
