"""Slack payloads -> the neutral ``Incoming`` and the ``Work`` of answering them (pure functions
over bolt's parsed bodies)."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.delivery import Address, Work
from bot.messages import Incoming

PLATFORM = "slack"
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
# Subtypes that are still a person writing; every other subtype (edits, joins...) is skipped.
WRITTEN_SUBTYPES = frozenset({"thread_broadcast", "file_share"})
Payload = dict[str, Any]


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


def from_event(body: Payload, bot_user_id: str = "") -> Incoming:
    """An app_mention (answered in its thread) or a direct message."""
    event = body["event"]
    dm = event.get("channel_type") == "im"
    thread = event.get("thread_ts") or ("" if dm else event.get("ts", ""))
    return Incoming(
        PLATFORM, str(event.get("user", "")), str(event.get("channel", "")), str(thread),
        plain_text(str(event.get("text", "")), bot_user_id), "dm" if dm else "mention",
        event_id=str(body.get("event_id", "")), message_id=str(event.get("ts", "")), private=dm,
    )  # fmt: skip


def in_thread(event: Payload) -> bool:
    """True for a reply inside a thread (not the thread's first message)."""
    thread = event.get("thread_ts")
    return bool(thread) and thread != event.get("ts")


def skip_message(event: Payload) -> bool:
    """True for message events that are not a person writing (edits, joins, bots)."""
    subtype = event.get("subtype")
    written = not subtype or subtype in WRITTEN_SUBTYPES
    return not written or bool(event.get("bot_id")) or not event.get("user")


def from_command(command: Payload) -> Incoming:
    """``/pd <text>``: the text after the command is the message."""
    return Incoming(
        PLATFORM, str(command.get("user_id", "")), str(command.get("channel_id", "")), "",
        plain_text(str(command.get("text", ""))), "command",
        user_name=str(command.get("user_name", "")),
    )  # fmt: skip


def from_shortcut(payload: Payload) -> Incoming:
    """ "Ask Staffroom about this": the chosen message's text is the question."""
    message, channel = payload.get("message") or {}, payload.get("channel") or {}
    user, name = _user(payload)
    thread = str(message.get("thread_ts") or message.get("ts", ""))
    text = plain_text(str(message.get("text", "")))
    return Incoming(PLATFORM, user, str(channel.get("id", "")), thread, text, "shortcut",
                    user_name=name)  # fmt: skip


def from_action(payload: Payload, text: str = "") -> Incoming:
    """Who clicked a button (or submitted a modal), and where; ``text`` is what the button says
    on their behalf."""
    channel, container = payload.get("channel") or {}, payload.get("container") or {}
    conversation = str(channel.get("id") or container.get("channel_id", ""))
    user, name = _user(payload)
    return Incoming(
        PLATFORM, user, conversation, str(container.get("thread_ts", "")), text, "action",
        user_name=name, private=conversation.startswith("D"),  # DM channel ids start with D
    )  # fmt: skip


def _user(payload: Payload) -> tuple[str, str]:
    user = payload.get("user") or {}
    return str(user.get("id", "")), str(user.get("name") or user.get("username") or "")


# --- the work of answering ------------------------------------------------------------------


def work_for(body: Payload, bot_user_id: str = "") -> Work | None:
    """What answering this event takes, or None when it is not for us."""
    event = body.get("event") or {}
    kind = event.get("type")
    if kind == "message":
        if skip_message(event):
            return None
        mentioned = bool(bot_user_id) and f"<@{bot_user_id}>" in str(event.get("text", ""))
        if mentioned and event.get("channel_type") != "im":
            return None  # it arrives as an app_mention too, and is answered there
    elif kind != "app_mention":
        return None
    incoming = from_event(body, bot_user_id)
    return Work.for_message(incoming, mentioned=kind == "app_mention", in_thread=in_thread(event))


def command_work(command: Payload) -> Work:
    """``/pd <text>``: answered through its response_url, so it works in any channel."""
    incoming = from_command(command)
    to = Address(PLATFORM, incoming.conversation_id, user_id=incoming.user_id,
                 reply_url=str(command.get("response_url", "")),
                 trigger_id=str(command.get("trigger_id", "")))  # fmt: skip
    return Work(incoming, to)


def click_work(body: Payload, incoming: Incoming) -> tuple[Work, bool | None]:
    """Where a click's replies go, and whether they are the clicker's alone.

    From the home tab (or a modal): the clicker's DMs. On a private (ephemeral) message: through
    its response_url. Else in the clicked message's thread, privately unless in a DM.
    """
    container, trigger = body.get("container") or {}, str(body.get("trigger_id", ""))
    to = Address(PLATFORM, incoming.conversation_id, str(container.get("thread_ts", "")),
                 user_id=incoming.user_id, trigger_id=trigger)  # fmt: skip
    if container.get("type") == "view" or not incoming.conversation_id:
        return Work(incoming, Address(PLATFORM, user_id=to.user_id, trigger_id=trigger)), False
    if container.get("is_ephemeral"):
        url = str(body.get("response_url", ""))
        return Work(incoming, Address(PLATFORM, to.conversation_id, user_id=to.user_id,
                                      reply_url=url, trigger_id=trigger)), None  # fmt: skip
    return Work(incoming, to), not incoming.private
