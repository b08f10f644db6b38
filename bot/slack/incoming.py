"""Slack payloads -> the neutral ``Incoming`` and the ``Work`` of answering them (pure functions
over bolt's parsed bodies); ``check_body`` runs before bolt parses a body (bolt would 500)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs

from bot.delivery import Address, Work
from bot.messages import Incoming
from bot.payloads import BadPayload, json_object, media_type, need, optional, text_of

PLATFORM = "slack"
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
# Subtypes that are still a person writing; every other subtype (edits, joins...) is skipped.
WRITTEN_SUBTYPES = frozenset({"thread_broadcast", "file_share"})
Payload = dict[str, Any]
# What each kind of interaction must carry, and event fields bolt reads while routing (a wrong
# type there would be a 500 inside bolt).
PAYLOAD_NEEDS: dict[str, tuple[str, ...]] = {
    "block_actions": ("user", "actions"), "message_action": ("user", "message", "channel"),
    "shortcut": ("user",), "view_submission": ("user", "view"), "view_closed": ("user", "view"),
}  # fmt: skip
EVENT_STRINGS = (
    "user", "channel", "bot_id", "text", "ts", "thread_ts", "event_ts", "subtype",
    "channel_type", "tab", "team", "app_id",
)  # fmt: skip


def check_body(content_type: str, raw: bytes) -> str:
    """The body as text when bolt can parse it safely; raises ``BadPayload`` otherwise."""
    body, kind = text_of(raw), media_type(content_type)
    if kind == "application/json":
        _check_json(body)
    elif kind == "application/x-www-form-urlencoded":
        _check_form(body)
    else:
        raise BadPayload(f"unsupported content type {kind or '(none)'}", status=415)
    return body


def _check_json(body: str) -> None:
    data = json_object(body, "JSON body")
    kind = data.get("type")
    if kind == "url_verification":
        need(data, "challenge", str)
    elif kind == "event_callback":
        event = need(data, "event", dict)
        need(event, "type", str)
        need(data, "event_id", str)
        optional(data, ("team_id", "api_app_id", "enterprise_id"))
        optional(event, EVENT_STRINGS)
    else:
        raise BadPayload(f"unsupported event envelope type {kind!r}")


def _check_form(body: str) -> None:
    try:
        form = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body))
    except ValueError as err:
        raise BadPayload("malformed form body") from err
    if "payload" in form:
        payload = json_object(form["payload"][0], "payload")
        for key in PAYLOAD_NEEDS.get(need(payload, "type", str), ()):
            need(payload, key, dict if key != "actions" else list)
        optional(payload, ("trigger_id", "response_url", "callback_id"))
        for key in ("user", "channel", "team", "container", "view", "message"):
            if isinstance(payload.get(key), dict):
                optional(payload[key], ("id", "ts", "user", "text", "callback_id"))
    elif "command" in form:
        for key in ("command", "user_id", "channel_id"):
            if not form.get(key, [""])[0]:
                raise BadPayload(f"slash command without {key}")
    elif "ssl_check" not in form:
        raise BadPayload("form body is neither a command, an interaction nor an ssl_check")


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
    """``/pd <text>`` (the text is the message): answered through its response_url, so it works
    in any channel."""
    user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
    incoming = Incoming(PLATFORM, user, channel, "", plain_text(str(command.get("text", ""))),
                        "command", user_name=str(command.get("user_name", "")))  # fmt: skip
    to = Address(PLATFORM, channel, user_id=user, reply_url=str(command.get("response_url", "")),
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
