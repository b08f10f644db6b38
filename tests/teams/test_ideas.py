"""Idea flows over Teams: the shared scripts in personal chats, the pitch form card, triage by
card buttons (staff only), review-thread comments and proactive author notifications."""

from __future__ import annotations

import pytest

from bot.delivery import Address
from bot.messages import Reply
from tests.scenarios.harness import age_drafts
from tests.scenarios.scripts import SCRIPTS
from tests.teams.conftest import CHANNEL, PEOPLE, REVIEW, channel_mention
from tests.teams.ideas_helpers import button, card_text, chat, click, in_conversation, said

EXIT = ["Exit tickets sorted into three piles", "Students answer one question on a sticky note."]
PITCH = {
    "title": EXIT[0],
    "practice": EXIT[1],
    "problem": "Nobody knew who was lost until the unit test.",
    "audience": "6-8, math, Lincoln Middle",
    "evidence": "Re-teach groups shrank from 11 to 4.",
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_script_over_teams_personal_chats(name, start_teams, sqlite_url):
    teams = await start_teams(sqlite_url, with_ideas=True)
    for n, step in enumerate(SCRIPTS[name], 1):
        age_drafts(teams.components.database, step.idle)
        text = said(await chat(teams, step.user, step.text))
        for expected in step.expect:
            assert expected in text, f"step {n} ({step.text[:30]!r}): {expected!r} not in {text!r}"
        for unwanted in step.absent:
            assert unwanted not in text, f"step {n} ({step.text[:30]!r}): {unwanted!r} in {text!r}"


async def _pitch_by_form(teams) -> None:
    [form] = await chat(teams, "teacher", "pitch form")
    assert [f["id"] for f in form.card["body"] if f["type"] == "Input.Text"][:2] == [
        "title",
        "practice",
    ]
    submit = form.card["actions"][0]
    answer = await click(teams, "teacher", {**submit, "data": {**submit["data"], **PITCH}}, on=form)
    assert "Your idea is #1" in card_text(answer["value"])


async def test_the_pitch_form_card_checks_fields_in_place_then_submits(
    start_teams, sqlite_url, connector
):
    teams = await start_teams(sqlite_url, with_ideas=True)
    [form] = await chat(teams, "teacher", "pitch form")
    submit = form.card["actions"][0]
    too_long = {**submit["data"], **PITCH, "title": "x" * 200, "practice": ""}
    answer = await click(teams, "teacher", {**submit, "data": too_long}, on=form)
    redrawn = answer["value"]
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Please fix the fields" in card_text(redrawn) and "120" in card_text(redrawn)
    title = next(f for f in redrawn["body"] if f.get("id") == "title")
    assert title["value"] == "x" * 200  # what was typed is kept
    assert in_conversation(connector, REVIEW) == []  # nothing was submitted
    answer = await click(teams, "teacher", {**submit, "data": {**submit["data"], **PITCH}}, on=form)
    assert "Your idea is #1" in card_text(answer["value"])
    [post] = in_conversation(connector, REVIEW)
    assert EXIT[0] in card_text(post.card)
    assert [a["title"] for a in post.card["actions"]][:1] == ["Start review"]


async def test_triage_buttons_work_for_staff_only_and_update_the_card_in_place(
    start_teams, sqlite_url, connector
):
    teams = await start_teams(sqlite_url, with_ideas=True)
    await _pitch_by_form(teams)
    [post] = in_conversation(connector, REVIEW)
    start = button(post.card, "Start review")

    refused = await click(teams, "teacher", start, on=post)
    assert refused["type"] == "application/vnd.microsoft.activity.message"
    assert "Only central staff" in refused["value"]
    assert connector.of("update") == []

    done = await click(teams, "staff", start, on=post)
    assert "now under review" in done["value"]
    [update] = connector.of("update")
    assert update.activity_id == post.posted_id and "under review" in card_text(update.card)
    assert "Pilot" in [a["title"] for a in update.card["actions"]]
    note = in_conversation(connector, f"{REVIEW};messageid={post.posted_id}")
    assert "Staff moved #1 from new to under review" in said(note)
    teacher_chat = PEOPLE["teacher"][1]
    assert "is now under review" in said(in_conversation(connector, teacher_chat))


async def test_the_decline_form_opens_below_and_only_staff_can_submit_it(
    start_teams, sqlite_url, connector
):
    teams = await start_teams(sqlite_url, with_ideas=True)
    await _pitch_by_form(teams)
    [post] = in_conversation(connector, REVIEW)
    decline = button(post.card, "Decline")
    refused = await click(teams, "teacher", decline, on=post)
    assert "Only central staff" in refused["value"]
    opened = await click(teams, "staff", decline, on=post)
    assert opened["value"] == "The form is below."
    [form] = in_conversation(connector, f"{REVIEW};messageid={post.posted_id}")
    submit = form.card["actions"][0]
    empty = await click(teams, "staff", submit, on=form)
    assert "Please say why" in card_text(empty["value"])
    data = {**submit["data"], "note": "Not this year, sorry."}
    answer = await click(teams, "staff", {**submit, "data": data}, on=form)
    assert "now declined" in card_text(answer["value"])
    teacher_chat = PEOPLE["teacher"][1]
    assert "Not this year, sorry." in said(in_conversation(connector, teacher_chat))


async def test_replies_in_a_review_thread_become_comments(start_teams, sqlite_url, connector):
    teams = await start_teams(sqlite_url, with_ideas=True)
    await _pitch_by_form(teams)
    [post] = in_conversation(connector, REVIEW)
    reply = channel_mention(connector.url, "", root=post.posted_id, sender=PEOPLE["staff"][0])
    reply["conversation"]["id"] = f"{REVIEW};messageid={post.posted_id}"
    reply.update(text="Lovely idea, can we see a sample ticket?", entities=[])
    assert (await teams.post(reply)).status == 200
    await teams.front.settle()
    shown = said(await chat(teams, "teacher", "idea 1"))
    assert "Lovely idea, can we see a sample ticket?" in shown


async def test_channel_messages_without_a_mention_outside_known_threads_are_ignored(
    start_teams, sqlite_url, connector, retriever_for_server
):
    teams = await start_teams(sqlite_url, retriever_for_server, with_ideas=True)
    loose = channel_mention(connector.url, "")
    loose.update(text="anyone free at lunch?", entities=[])
    thread = channel_mention(connector.url, "", root="1690000000000")
    thread.update(text="me!", entities=[])
    for activity in (loose, thread):
        assert (await teams.post(activity)).status == 200
    await teams.front.settle()
    assert connector.posts() == [] and retriever_for_server.queries == []
    assert CHANNEL  # the loose messages were in the general channel


async def test_an_author_known_only_from_a_channel_is_notified_in_a_new_personal_chat(
    start_teams, sqlite_url, connector
):
    teams = await start_teams(sqlite_url, with_ideas=True)
    teacher = PEOPLE["teacher"][0]
    await teams.post(channel_mention(connector.url, "pitch", sender=teacher))
    await teams.front.settle()
    personal = [c for c in connector.posts() if c.conversation.startswith("a:")]
    assert connector.of("create") and personal, "the pitch moved to a new personal chat"
    create = connector.of("create")[0].body
    assert create["members"][0]["id"] == teacher["id"]
    assert create["channelData"]["tenant"]["id"] == "tenant-1"
    assert "Question 1 of 6" in said(personal)
    in_channel = [c for c in connector.posts() if c.conversation.startswith(CHANNEL)]
    assert "sent you a direct message" in said(in_channel)
    # The new personal chat is remembered: the next notification needs no new conversation.
    note = Reply(text="Your idea #1 is now under review.")
    sent = await teams.front.core.delivery.send(Address.direct("teams", "aad-teacher"), note)
    assert sent.ok and len(connector.of("create")) == 1
    assert connector.posts()[-1].conversation == personal[0].conversation
    assert (await teams.front.core.delivery.send(Address.direct("teams", "aad-nobody"), note)).error
