"""Bot Framework activities (as JSON) -> the neutral ``Incoming`` (pure functions)."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import replace
from typing import Any

from bot.messages import Incoming

PLATFORM = "teams"
THREAD_MARK = ";messageid="
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def plain_text(activity: dict[str, Any]) -> str:
    """The message text with our own @mention removed and other mentions as @name."""
    text = str(activity.get("text") or "")
    bot_id = str((activity.get("recipient") or {}).get("id", ""))
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        said = str(entity.get("text") or "")
        if said and isinstance(mentioned, dict) and mentioned.get("id") == bot_id:
            text = text.replace(said, " ")
    text = _AT.sub(lambda m: "@" + m.group(1).strip(), text)
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def split_conversation(conversation_id: str) -> tuple[str, str]:
    """(channel or chat id, thread root id) from "19:x@thread.tacv2;messageid=170...""."""
    base, _, thread = conversation_id.partition(THREAD_MARK)
    return base, thread


def join_conversation(conversation_id: str, thread_id: str) -> str:
    """The id to post into a channel thread (Teams' own convention)."""
    return f"{conversation_id}{THREAD_MARK}{thread_id}" if thread_id else conversation_id


def is_personal(activity: dict[str, Any]) -> bool:
    return (activity.get("conversation") or {}).get("conversationType", "personal") == "personal"


def user_of(activity: dict[str, Any]) -> tuple[str, str]:
    """(AAD object id, display name) of the sender; the Teams id when there is no AAD id."""
    sender = activity.get("from") or {}
    user = str(sender.get("aadObjectId") or sender.get("id") or "")
    return user, str(sender.get("name") or "")


def from_message(activity: dict[str, Any]) -> Incoming:
    """A personal chat message (top level) or a channel / group chat @mention (in its thread)."""
    conversation, thread = split_conversation(str((activity.get("conversation") or {}).get("id")))
    personal = is_personal(activity)
    if not personal and not thread:
        thread = str(activity.get("replyToId") or activity.get("id") or "")
    user, name = user_of(activity)
    return Incoming(
        platform=PLATFORM,
        user_id=user,
        conversation_id=conversation,
        thread_id="" if personal else thread,
        text=plain_text(activity),
        surface="dm" if personal else "mention",
        user_name=name,
        event_id=str(activity.get("id") or ""),
        message_id=str(activity.get("id") or ""),
        private=personal,
    )


def from_action(activity: dict[str, Any], text: str = "") -> Incoming:
    """Who clicked a card button, and where; ``text`` is what the button says for them."""
    incoming = from_message({**activity, "text": ""})
    return replace(incoming, text=text, surface="action", message_id="")


def mentions_us(activity: dict[str, Any]) -> bool:
    """True when the message @mentions the bot (channel messages without one are not for us)."""
    bot_id = (activity.get("recipient") or {}).get("id")
    return any(
        isinstance(e, dict)
        and e.get("type") == "mention"
        and isinstance(e.get("mentioned"), dict)
        and e["mentioned"].get("id") == bot_id
        for e in activity.get("entities") or []
    )


def in_thread(activity: dict[str, Any]) -> bool:
    """True for a reply under a channel post (not the post that starts the thread)."""
    _, root = split_conversation(str((activity.get("conversation") or {}).get("id", "")))
    return bool(root) and root != str(activity.get("id") or "")


def event_key(activity: dict[str, Any]) -> str:
    """A short, stable key for dropping redeliveries (activity ids are unique per conversation)."""
    conversation = str((activity.get("conversation") or {}).get("id", ""))
    raw = f"{conversation}|{activity.get('id', '')}".encode()
    return f"teams:{hashlib.sha256(raw).hexdigest()[:40]}"
