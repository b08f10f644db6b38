"""Slash command, feedback buttons and the message shortcut over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from store import Feedback
from tests.slack.conftest import mention
from tests.slack.fake_slack import FakeSlack


def _command(fake: FakeSlack, text: str) -> dict[str, str]:
    return {
        "token": "legacy",
        "team_id": "T1",
        "team_domain": "riverbend",
        "channel_id": "C5",
        "channel_name": "math-dept",
        "user_id": "U1",
        "user_name": "ana",
        "command": "/pd",
        "text": text,
        "api_app_id": "A1",
        "response_url": fake.response_url("cmd"),
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }


def _click(
    fake: FakeSlack, posted: dict[str, Any], action_id: str, *, ts: str, ephemeral: bool = False
) -> dict[str, Any]:
    value = next(
        e["value"]
        for b in posted["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    return {
        "type": "block_actions",
        "user": {"id": "U2", "username": "bo", "name": "bo", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": "C1",
            "is_ephemeral": ephemeral,
        },
        "trigger_id": "1.2.3",
        "team": {"id": "T1", "domain": "riverbend"},
        "channel": {"id": "C1", "name": "general"},
        "message": {
            "type": "message",
            "user": "UBOT",
            "ts": ts,
            "text": posted.get("text", ""),
            "blocks": posted["blocks"],
        },
        "response_url": fake.response_url("click"),
        "actions": [
            {
                "action_id": action_id,
                "block_id": "staffroom_feedback",
                "value": value,
                "type": "button",
                "action_ts": "1.3",
            }
        ],
    }


async def test_slash_command_answers_through_the_response_url(
    staffroom, fake_slack, retriever_for_server
):
    sent = await staffroom.form(_command(fake_slack, "how do I run exit tickets?"))
    assert sent.status == 200
    await fake_slack.wait_for(lambda f: len(f.of("respond:cmd")) == 1)
    answer = fake_slack.of("respond:cmd")[0].params
    assert answer["response_type"] == "ephemeral"
    assert "▶ 12:30–15:10" in json.dumps(answer["blocks"], ensure_ascii=False)
    assert retriever_for_server.queries == ["how do I run exit tickets?"]


async def test_slash_command_help_and_empty_text(staffroom, fake_slack, retriever_for_server):
    await staffroom.form(_command(fake_slack, "help"))
    await staffroom.form(_command(fake_slack, "   "))
    await fake_slack.wait_for(lambda f: len(f.of("respond:cmd")) == 2)
    texts = sorted(c.params["text"] for c in fake_slack.of("respond:cmd"))
    assert any("feedback good" in t for t in texts) and any(
        t.startswith("Ask me a question") for t in texts
    )
    assert retriever_for_server.queries == []


async def test_feedback_buttons_record_the_vote_and_update_the_message(staffroom, fake_slack):
    await staffroom.event(mention("exit tickets"))
    await fake_slack.wait_for(lambda f: len(f.of("chat.postMessage")) == 1)
    posted = fake_slack.of("chat.postMessage")[0].params
    sent = await staffroom.interaction(
        _click(fake_slack, posted, "feedback_not_helpful", ts="2000.000001")
    )
    assert sent.status == 200
    await fake_slack.wait_for(lambda f: len(f.of("chat.update")) == 1)
    update = fake_slack.of("chat.update")[0].params
    assert (update["channel"], update["ts"]) == ("C1", "2000.000001")
    note = [b for b in update["blocks"] if b.get("block_id") == "staffroom_feedback_note"]
    assert (
        "bo" in note[0]["elements"][0]["text"] and "not helpful" in note[0]["elements"][0]["text"]
    )
    assert any(b["type"] == "actions" for b in update["blocks"])  # others can still vote
    database = staffroom.components.database
    with database.session() as s:
        [vote] = s.scalars(sa.select(Feedback)).all()
    assert (vote.user_id, vote.helpful) == ("U2", False)


async def test_feedback_on_an_ephemeral_answer_replaces_it_through_the_response_url(
    staffroom, fake_slack
):
    await staffroom.form(_command(fake_slack, "exit tickets"))
    await fake_slack.wait_for(lambda f: len(f.of("respond:cmd")) == 1)
    posted = fake_slack.of("respond:cmd")[0].params
    await staffroom.interaction(
        _click(fake_slack, posted, "feedback_helpful", ts="3000.1", ephemeral=True)
    )
    await fake_slack.wait_for(lambda f: len(f.of("respond:click")) == 1)
    replaced = fake_slack.of("respond:click")[0].params
    assert replaced["replace_original"] is True and "marked helpful" in json.dumps(
        replaced["blocks"]
    )


async def test_a_click_on_a_forgotten_answer_is_told_not_crashed(staffroom, fake_slack):
    await staffroom.event(mention("exit tickets"))
    await fake_slack.wait_for(lambda f: len(f.of("chat.postMessage")) == 1)
    click = _click(
        fake_slack,
        fake_slack.of("chat.postMessage")[0].params,
        "feedback_helpful",
        ts="2000.000001",
    )
    click["actions"][0]["value"] = "424242"
    await staffroom.interaction(click)
    await fake_slack.wait_for(lambda f: len(f.of("respond:click")) == 1)
    assert "can't find that answer" in fake_slack.of("respond:click")[0].params["text"]
    assert fake_slack.of("chat.update") == []


async def test_message_shortcut_opens_a_modal_first_then_fills_it(
    staffroom, fake_slack, retriever_for_server
):
    gate = retriever_for_server.stall()
    shortcut = {
        "type": "message_action",
        "callback_id": "ask_staffroom",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "response_url": fake_slack.response_url("shortcut"),
        "team": {"id": "T1", "domain": "riverbend"},
        "channel": {"id": "C1", "name": "general"},
        "user": {"id": "U1", "name": "ana"},
        "message": {
            "type": "message",
            "user": "U3",
            "ts": "1700000001.000100",
            "text": "My 8th graders never finish exit tickets &amp; I lose time",
        },
        "message_ts": "1700000001.000100",
        "token": "legacy",
    }
    assert (await staffroom.interaction(shortcut)).status == 200
    await fake_slack.wait_for(lambda f: len(f.of("views.open")) == 1)
    assert fake_slack.of("views.update") == []  # the modal opened before the search finished
    gate.set()
    await fake_slack.wait_for(lambda f: len(f.of("views.update")) == 1)
    view = fake_slack.of("views.update")[0].params
    assert view["view_id"] == "V1" and "12:30–15:10" in json.dumps(view["view"], ensure_ascii=False)
    assert retriever_for_server.queries == [
        "My 8th graders never finish exit tickets & I lose time"
    ]


async def test_an_expired_trigger_falls_back_to_an_ephemeral_answer(staffroom, fake_slack):
    fake_slack.fail("views.open", "expired_trigger_id")
    shortcut = {
        "type": "message_action",
        "callback_id": "ask_staffroom",
        "trigger_id": "old",
        "response_url": fake_slack.response_url("shortcut"),
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "user": {"id": "U1", "name": "ana"},
        "message": {"type": "message", "ts": "1.1", "text": "exit tickets"},
    }
    await staffroom.interaction(shortcut)
    await fake_slack.wait_for(lambda f: len(f.of("respond:shortcut")) == 1)
    assert "12:30–15:10" in json.dumps(
        fake_slack.of("respond:shortcut")[0].params, ensure_ascii=False
    )


async def test_feedback_inside_the_shortcut_modal_updates_the_modal(staffroom, fake_slack):
    shortcut = {
        "type": "message_action",
        "callback_id": "ask_staffroom",
        "trigger_id": "t1",
        "response_url": fake_slack.response_url("shortcut"),
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "user": {"id": "U1", "name": "ana"},
        "message": {"type": "message", "ts": "1.1", "text": "exit tickets"},
    }
    await staffroom.interaction(shortcut)
    await fake_slack.wait_for(lambda f: len(f.of("views.update")) == 1)
    view = fake_slack.of("views.update")[0].params["view"]
    click = _click(fake_slack, view, "feedback_helpful", ts="")
    click["container"] = {"type": "view", "view_id": "V1"}
    click["view"] = {**view, "id": "V1", "hash": "h1"}
    del click["message"], click["channel"]
    await staffroom.interaction(click)
    await fake_slack.wait_for(lambda f: len(f.of("views.update")) == 2)
    update = fake_slack.of("views.update")[1].params
    assert update["view_id"] == "V1" and update["hash"] == "h1"
    assert "marked helpful" in json.dumps(update["view"]["blocks"])
