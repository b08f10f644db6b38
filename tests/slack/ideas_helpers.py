"""Helpers for the idea tests over Slack: DMs, slash commands, clicks and modal submissions."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.bot.fakes import wait_for_status
from tests.slack.conftest import Staffroom
from tests.slack.fake_slack import Call, FakeSlack

_seq = itertools.count(1)
REPLY_METHODS = ("chat.postMessage", "chat.postEphemeral")


def next_ts() -> str:
    return f"1700000{next(_seq):03d}.000100"


def replies_in(fake: FakeSlack, channel: str, thread_ts: str | None = None) -> list[Call]:
    return [
        c
        for c in fake.calls
        if c.method in REPLY_METHODS
        and c.params.get("channel") == channel
        and (thread_ts is None or c.params.get("thread_ts") == thread_ts)
    ]


async def dm(staffroom: Staffroom, fake: FakeSlack, user: str, text: str) -> list[Call]:
    """``user`` writes ``text`` to Staffroom in a DM; the replies posted there."""
    channel = f"D{user}"
    before = len(replies_in(fake, channel))
    ts = next_ts()
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    sent = await staffroom.event(event, event_id=f"Ev{ts}")
    assert sent.status == 200
    await fake.wait_for(lambda f: len(replies_in(f, channel)) > before)
    if staffroom.components.database is not None:  # every reply posted, not just the first
        await wait_for_status(staffroom.components.database, f"slack:Ev{ts}", "done")
    return replies_in(fake, channel)[before:]


def thread_message(channel: str, thread_ts: str, user: str, text: str, ts: str = "") -> dict:
    ts = ts or next_ts()
    return {
        "type": "message",
        "channel_type": "channel",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
    }


def command(fake: FakeSlack, user: str, text: str, channel: str = "C5") -> dict[str, str]:
    return {
        "token": "legacy",
        "team_id": "T1",
        "channel_id": channel,
        "channel_name": "staff",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/pd",
        "text": text,
        "api_app_id": "A1",
        "response_url": fake.response_url(f"cmd-{user}"),
        "trigger_id": f"trigger-{user}",
    }


def button(message: dict[str, Any], label_start: str) -> dict[str, Any]:
    """The button whose label starts with ``label_start`` in a posted message or view."""
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"].startswith(label_start):
                return element
    raise AssertionError(f"no {label_start!r} button in {json.dumps(message)[:400]}")


def click(
    fake: FakeSlack,
    user: str,
    message: dict[str, Any],
    label_start: str,
    *,
    channel: str,
    ts: str,
    container: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element = button(message, label_start)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": container
        or {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"trigger-{user}-click",
        "team": {"id": "T1"},
        "channel": {"id": channel, "name": "x"},
        "message": {
            "type": "message",
            "ts": ts,
            "text": message.get("text", ""),
            "blocks": message["blocks"],
        },
        "response_url": fake.response_url(f"click-{user}"),
        "actions": [
            {
                "action_id": element["action_id"],
                "block_id": "actions",
                "value": element["value"],
                "type": "button",
                "action_ts": "1.3",
            }
        ],
    }


def submission(user: str, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A view_submission of a modal built by ``blocks.form_view`` with ``values`` typed."""
    state = {key: {"value": {"type": "plain_text_input", "value": v}} for key, v in values.items()}
    return {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "t",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "blocks": view["blocks"],
            "state": {"values": state},
            "hash": "h1",
        },
    }
