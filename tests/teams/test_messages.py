"""Personal chats and channel mentions over real HTTP, answered through a fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
import logging

from store import Database
from tests.bot.fakes import HeldLedger, wait_for_status
from tests.teams.conftest import (
    BEN,
    BOT,
    CHANNEL,
    PERSONAL,
    channel_mention,
    members_added,
    personal_message,
)


async def test_a_personal_message_is_answered_with_a_card_in_the_chat(
    teams, connector, retriever_for_server
):
    sent = await teams.message("how do I run exit tickets?")
    assert sent.status == 200
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    post = connector.posts()[0]
    assert post.kind == "send" and post.conversation == PERSONAL
    assert retriever_for_server.queries == ["how do I run exit tickets?"]
    card = json.dumps(post.card, ensure_ascii=False)
    assert "Exit Tickets That Drive Tomorrow's Lesson" in card and "Maya Chen" in card
    assert "https://video.example/exit-tickets#t=750" in card and "▶ Watch 12:30–15:10" in card
    verbs = [a["verb"] for a in post.card["actions"]]
    assert verbs == ["feedback_helpful", "feedback_not_helpful"]
    assert post.body["summary"].startswith("Start with")
    assert post.authorization == ""  # no-auth local mode sends no token


async def test_a_channel_mention_is_stripped_and_answered_in_its_reply_chain(
    teams, connector, retriever_for_server
):
    activity = channel_mention(connector.url, "exit tickets for 32 kids?")
    await teams.post(activity)
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    post = connector.posts()[0]
    assert retriever_for_server.queries == ["exit tickets for 32 kids?"]
    assert post.kind == "reply" and post.activity_id == activity["id"]
    assert post.conversation == f"{CHANNEL};messageid={activity['id']}"


async def test_a_mention_inside_a_thread_answers_in_that_thread(teams, connector):
    activity = channel_mention(connector.url, "wait time", root="1699999999000")
    await teams.post(activity)
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    post = connector.posts()[0]
    assert post.conversation == f"{CHANNEL};messageid=1699999999000"
    assert post.activity_id == activity["id"]


async def test_other_mentions_stay_as_names(teams, connector, retriever_for_server):
    activity = channel_mention(connector.url, "what did <at>Ben Ode</at> mean by wait time?")
    activity["entities"].append({"type": "mention", "text": "<at>Ben Ode</at>", "mentioned": BEN})
    await teams.post(activity)
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    assert retriever_for_server.queries == ["what did @Ben Ode mean by wait time?"]


async def test_a_redelivered_activity_is_answered_once(teams, connector, retriever_for_server):
    activity = personal_message(connector.url, "exit tickets")
    first, again = await teams.post(activity), await teams.post(activity)
    assert (first.status, again.status) == (200, 200)
    await teams.message("help")  # a later message proves the redelivery was not just slow
    await connector.wait_for(lambda c: len(c.posts()) == 2)
    assert retriever_for_server.queries == ["exit tickets"]


async def test_the_answer_comes_after_the_http_acknowledgement(
    teams, connector, retriever_for_server
):
    gate = retriever_for_server.stall()
    sent = await teams.message("exit tickets")
    assert sent.status == 200
    assert await asyncio.to_thread(retriever_for_server.started.wait, 10)
    assert connector.posts() == []  # acknowledged before any answer existed
    gate.set()
    await connector.wait_for(lambda c: len(c.posts()) == 1)


async def test_help_and_empty_messages_get_text_cards(teams, connector, retriever_for_server):
    await teams.message("help")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    text = json.dumps(connector.posts()[0].card, ensure_ascii=False)
    assert "feedback good" in text and retriever_for_server.queries == []


async def test_installing_the_app_posts_the_welcome_card_once(teams, connector):
    update = members_added(connector.url, BOT, {"id": "29:1ann", "aadObjectId": "aad-ann"})
    assert (await teams.post(update)).status == 200
    assert (await teams.post(update)).status == 200  # redelivered
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    welcome = connector.posts()[0]
    assert welcome.conversation == PERSONAL and welcome.kind == "send"
    text = json.dumps(welcome.card, ensure_ascii=False)
    assert "Hi, I'm Staffroom" in text and "Wait Time" in text


async def test_a_person_joining_a_team_gets_no_welcome(teams, connector):
    await teams.post(members_added(connector.url, {"id": "29:1new", "aadObjectId": "aad-new"}))
    await teams.message("help")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    assert "Hi, I'm Staffroom" not in json.dumps(connector.posts()[0].card)


async def test_unknown_activity_types_are_acknowledged_and_ignored(
    teams, connector, retriever_for_server, caplog
):
    caplog.set_level(logging.DEBUG, logger="bot.teams.app")
    for kind in ("typing", "messageReaction", "installationUpdate", "somethingNew"):
        activity = {**personal_message(connector.url, "exit tickets"), "type": kind}
        assert (await teams.post(activity)).status == 200
    assert "ignored a Teams somethingNew activity" in caplog.text
    await teams.message("help")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    assert retriever_for_server.queries == []


async def test_the_message_is_in_the_database_before_teams_gets_its_200(
    start_teams, connector, sqlite_url
):
    ledgers: list[HeldLedger] = []

    def records(db: Database) -> HeldLedger:
        ledgers.append(HeldLedger(db))
        return ledgers[-1]

    teams = await start_teams(sqlite_url, records=records)
    [held] = ledgers
    sending = asyncio.create_task(teams.message("exit tickets"))
    assert await asyncio.to_thread(held.claiming.wait, 10)  # the claim is being written...
    assert not sending.done()  # ... and there is no 200 until it is
    held.release.set()
    assert (await sending).status == 200
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    [key] = held.claims
    await wait_for_status(teams.components.database, key, "done")
