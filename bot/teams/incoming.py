"""Bot Framework activities (as JSON) -> the neutral ``Incoming`` and the ``Work`` of answering
them (pure functions); ``check_activity`` runs before botbuilder parses a body."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import replace
from typing import Any

from botbuilder import schema

from bot.delivery import Work
from bot.delivery.contacts import Contact
from bot.messages import Incoming
from bot.payloads import BadPayload, json_object, media_type, optional, text_of

PLATFORM = "teams"
THREAD_MARK = ";messageid="
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
Activity = dict[str, Any]


def check_activity(content_type: str, raw: bytes) -> tuple[Activity, schema.Activity]:
    """The body as JSON and as botbuilder's activity; ``BadPayload`` (a 4xx) when it is not one."""
    if media_type(content_type) != "application/json":
        raise BadPayload(f"unsupported content type {content_type or '(none)'}", status=415)
    data = json_object(text_of(raw), "body")
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise BadPayload("activity without a type")
    optional(data, ("conversation", "from", "recipient"), dict)
    if "serviceUrl" in data and not str(data["serviceUrl"]).startswith(("https://", "http://")):
        raise BadPayload("malformed 'serviceUrl'")
    try:
        return data, schema.Activity().deserialize(data)
    except Exception as err:  # msrest raises DeserializationError and friends on bad shapes
        raise BadPayload(f"body is not a Bot Framework activity ({err})") from err


def _ours(entity: Any, bot_id: str) -> bool:
    """An entity that @mentions the bot."""
    return (
        isinstance(entity, dict) and entity.get("type") == "mention"
        and isinstance(entity.get("mentioned"), dict) and entity["mentioned"].get("id") == bot_id
    )  # fmt: skip


def plain_text(activity: Activity) -> str:
    """The message text with our own @mention removed and other mentions as @name."""
    text, bot_id = str(activity.get("text") or ""), _bot(activity)
    for entity in activity.get("entities") or []:
        if _ours(entity, bot_id) and entity.get("text"):
            text = text.replace(str(entity["text"]), " ")
    text = _AT.sub(lambda m: "@" + m.group(1).strip(), text)
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def mentions_us(activity: Activity) -> bool:
    """True when the message @mentions the bot (channel messages without one are not for us)."""
    return any(_ours(e, _bot(activity)) for e in activity.get("entities") or [])


def conversation_of(activity: Activity) -> str:
    return str((activity.get("conversation") or {}).get("id") or "")


def split_conversation(conversation_id: str) -> tuple[str, str]:
    """(channel or chat id, thread root id) from "19:x@thread.tacv2;messageid=170...""."""
    base, _, thread = conversation_id.partition(THREAD_MARK)
    return base, thread


def join_conversation(conversation_id: str, thread_id: str) -> str:
    """The id to post into a channel thread (Teams' own convention)."""
    return f"{conversation_id}{THREAD_MARK}{thread_id}" if thread_id else conversation_id


def is_personal(activity: Activity) -> bool:
    return (activity.get("conversation") or {}).get("conversationType", "personal") == "personal"


def user_of(activity: Activity) -> tuple[str, str]:
    """(AAD object id, display name) of the sender; the Teams id when there is no AAD id."""
    sender = activity.get("from") or {}
    return str(sender.get("aadObjectId") or sender.get("id") or ""), str(sender.get("name") or "")


def from_message(activity: Activity) -> Incoming:
    """A personal chat message (top level) or a channel / group chat @mention (in its thread)."""
    conversation, thread = split_conversation(conversation_of(activity))
    personal, message_id = is_personal(activity), str(activity.get("id") or "")
    if not personal and not thread:
        thread = str(activity.get("replyToId") or message_id)
    user, name = user_of(activity)
    return Incoming(
        PLATFORM, user, conversation, "" if personal else thread, plain_text(activity),
        "dm" if personal else "mention", user_name=name, event_id=message_id,
        message_id=message_id, private=personal, timezone=activity.get("localTimezone") or "",
    )  # fmt: skip


def from_action(activity: Activity, text: str = "") -> Incoming:
    """Who clicked a card button, and where; ``text`` is what the button says for them."""
    incoming = from_message({**activity, "text": ""})
    return replace(incoming, text=text, surface="action", message_id="")


def in_thread(activity: Activity) -> bool:
    """True for a reply under a channel post (not the post that starts the thread)."""
    _, root = split_conversation(conversation_of(activity))
    return bool(root) and root != str(activity.get("id") or "")


def event_key(activity: Activity) -> str:
    """A short, stable key for dropping redeliveries (activity ids are unique per conversation)."""
    raw = f"{conversation_of(activity)}|{activity.get('id', '')}".encode()
    return f"teams:{hashlib.sha256(raw).hexdigest()[:40]}"


def contact_of(activity: Activity) -> Contact:
    """How to reach the sender later (a conversation reference, as Teams calls it)."""
    conversation = activity.get("conversation") or {}
    tenant = (activity.get("channelData") or {}).get("tenant") or {}
    return Contact(
        split_conversation(str(conversation.get("id") or ""))[0], is_personal(activity),
        str(activity.get("serviceUrl") or ""), _bot(activity),
        str((activity.get("from") or {}).get("id") or ""),
        str(conversation.get("tenantId") or tenant.get("id") or ""),
    )  # fmt: skip


def work_for(activity: Activity, service_url: str = "") -> Work | None:
    """What answering this message takes, or None when it is not for us.

    Teams answers in the conversation the message came from, as it came (a channel thread, a
    group chat, a personal chat), replying to the message itself.
    """
    url = str(activity.get("serviceUrl") or service_url)
    work = Work.for_message(from_message(activity), mentioned=mentions_us(activity),
                            in_thread=in_thread(activity), service_url=url)  # fmt: skip
    if work is None:
        return None
    to = replace(work.reply_to, conversation_id=conversation_of(activity), thread_id="")
    return replace(work, reply_to=to)


def _bot(activity: Activity) -> str:
    return str((activity.get("recipient") or {}).get("id", ""))
