"""Mentions and DMs over real HTTP: threaded answers, ack before slow work, retries, escaping."""

from __future__ import annotations

import asyncio
import json
import logging

from bot.core import EMPTY_HINT, TRY_AGAIN
from bot.records import SqlRecords
from staffroom_errors import DatabaseUnavailable
from store import Database
from tests.bot.fakes import FakeRetriever, HeldLedger, failing_retriever, wait_for_status
from tests.slack.conftest import mention
from tests.slack.fake_slack import FakeSlack


def _posts(fake: FakeSlack) -> list:
    return fake.of("chat.postMessage")


async def test_a_mention_is_answered_in_its_thread_with_cited_sessions(
    staffroom, fake_slack, retriever_for_server
):
    sent = await staffroom.event(mention("how do I run exit tickets?", ts="1700000000.000100"))
    assert sent.status == 200
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    post = _posts(fake_slack)[0].params
    assert post["channel"] == "C1" and post["thread_ts"] == "1700000000.000100"
    assert retriever_for_server.queries == ["how do I run exit tickets?"]  # our own mention removed
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert "<https://video.example/exit-tickets#t=750|▶ 12:30–15:10>" in text
    assert "Maya Chen" in text and "feedback_helpful" in text


async def test_a_mention_inside_a_thread_answers_in_that_thread(staffroom, fake_slack):
    await staffroom.event(
        mention("exit tickets", ts="1700000000.000200", thread_ts="1699999999.000001")
    )
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    assert _posts(fake_slack)[0].params["thread_ts"] == "1699999999.000001"


async def test_a_direct_message_is_answered_in_the_dm(staffroom, fake_slack):
    dm = {
        "type": "message",
        "channel_type": "im",
        "channel": "D1",
        "user": "U1",
        "text": "exit tickets",
        "ts": "1700000000.000300",
    }
    await staffroom.event(dm)
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    post = _posts(fake_slack)[0].params
    assert post["channel"] == "D1" and "thread_ts" not in post


async def test_bot_messages_and_edits_in_dms_are_ignored(
    staffroom, fake_slack, retriever_for_server, caplog
):
    base = {"type": "message", "channel_type": "im", "channel": "D1", "text": "hi", "ts": "1.1"}
    await staffroom.event({**base, "bot_id": "B2", "user": "U9"}, event_id="EvBot")
    await staffroom.event({**base, "subtype": "message_changed"}, event_id="EvEdit")
    await staffroom.event({**base, "user": "U1", "text": "help"}, event_id="EvHelp")
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    assert "feedback good" in _posts(fake_slack)[0].params["text"]
    assert retriever_for_server.queries == []


async def test_ack_comes_back_while_retrieval_is_still_running(
    staffroom, fake_slack, retriever_for_server
):
    gate = retriever_for_server.stall()
    sent = await staffroom.event(mention("exit tickets"))
    assert sent.status == 200
    # The search really is in progress (waited for off the loop the server runs on).
    assert await asyncio.to_thread(retriever_for_server.started.wait, 10)
    assert _posts(fake_slack) == []  # acked before any answer existed
    gate.set()
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)


async def test_a_retried_event_is_answered_once(staffroom, fake_slack, caplog):
    with caplog.at_level(logging.INFO, logger="bot.slack.app"):
        await staffroom.event(mention("exit tickets"), event_id="EvRetry")
        await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
        retry = await staffroom.event(mention("exit tickets"), event_id="EvRetry", retry=1)
        assert retry.status == 200
        await _wait_logged(fake_slack, caplog, "dropped a repeated delivery of slack:EvRetry")
    assert len(_posts(fake_slack)) == 1


async def test_retries_are_dropped_across_a_restart_and_across_two_processes(
    start_server, fake_slack, db_url, caplog
):
    caplog.set_level(logging.INFO, logger="bot.slack.app")
    first = await start_server(db_url)
    await first.event(mention("exit tickets"), event_id="EvShared")
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    await first.server.close()  # "restart": a new process on the same database
    second, third = await start_server(db_url), await start_server(db_url)
    await second.event(mention("exit tickets"), event_id="EvShared", retry=1)
    await third.event(mention("exit tickets"), event_id="EvShared", retry=2)
    await _wait_logged(fake_slack, caplog, "dropped a repeated delivery of slack:EvShared", count=2)
    # Two processes given the same fresh event at once: exactly one answers.
    await asyncio.gather(
        second.event(mention("station rotation"), event_id="EvRace"),
        third.event(mention("station rotation"), event_id="EvRace", retry=1),
    )
    await _wait_logged(fake_slack, caplog, "dropped a repeated delivery of slack:EvRace")
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 2)
    assert len(_posts(fake_slack)) == 2


async def test_channel_pings_in_a_question_are_escaped(start_server, fake_slack, sqlite_url):
    from tests.bot.fakes import canned

    server = await start_server(sqlite_url, FakeRetriever(lambda q: canned(q, good=False)))
    await server.event(mention("<!channel> & <@U2> help with <b>"))
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    posted = json.dumps(_posts(fake_slack)[0].params)
    assert "<!channel>" not in posted and "<@U2>" not in posted


async def test_empty_mentions_get_a_hint(staffroom, fake_slack, retriever_for_server):
    await staffroom.event({**mention(""), "text": "<@UBOT>   "})
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    assert EMPTY_HINT.split(",")[0] in _posts(fake_slack)[0].params["text"]
    assert retriever_for_server.queries == []


async def test_a_40000_character_message_is_answered_on_a_truncated_query(
    staffroom, fake_slack, retriever_for_server
):
    await staffroom.event(mention("exit tickets " * 3100))
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    assert len(retriever_for_server.queries[0]) <= 500
    assert "first" in json.dumps(_posts(fake_slack)[0].params["blocks"])


async def test_retrieval_failure_gets_a_polite_reply_and_an_error_log(
    start_server, fake_slack, sqlite_url, caplog
):
    server = await start_server(sqlite_url, failing_retriever(RuntimeError("index on fire")))
    with caplog.at_level(logging.ERROR):
        await server.event(mention("exit tickets"))
        await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    assert _posts(fake_slack)[0].params["text"] == TRY_AGAIN
    assert any("index on fire" in (r.exc_text or "") for r in caplog.records)


async def test_rate_limits_are_retried_after_retry_after(staffroom, fake_slack):
    fake_slack.rate_limit("chat.postMessage", times=1)
    await staffroom.event(mention("exit tickets"))
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    assert len(fake_slack.of("chat.postMessage:429")) == 1


async def test_not_in_channel_is_explained_to_the_user_and_logged(staffroom, fake_slack, caplog):
    fake_slack.fail("chat.postMessage", "not_in_channel")
    with caplog.at_level(logging.ERROR, logger="bot.slack.poster"):
        await staffroom.event(mention("exit tickets", channel="C9", user="U7"))
        await fake_slack.wait_for(lambda f: len(_posts(f)) == 2)
    dm = _posts(fake_slack)[1].params
    assert dm["channel"] == "U7" and "/invite @Staffroom" in dm["text"]
    assert any(
        "not_in_channel" in r.getMessage() and "C9" in r.getMessage() for r in caplog.records
    )


async def test_app_home_shows_capabilities_recent_sessions_and_my_ideas(staffroom, fake_slack):
    from ideas.records import Actor
    from ideas.service import submit_idea

    answers = {"title": "Silent <debate>", "practice": "p", "problem": "q", "evidence": "e"}
    with staffroom.components.database.session() as s:
        submit_idea(s, answers, author=Actor("slack", "U1", "ana"))
    await staffroom.event(
        {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1.2"}
    )
    await fake_slack.wait_for(lambda f: len(f.of("views.publish")) == 1)
    publish = fake_slack.of("views.publish")[0].params
    assert publish["user_id"] == "U1" and publish["view"]["type"] == "home"
    view = json.dumps(publish["view"], ensure_ascii=False)
    assert "What Staffroom can do" in view
    assert "Wait Time &amp; Questioning" in view  # a recent session, escaped
    assert "Silent &lt;debate&gt;" in view  # my idea, escaped


async def _wait_logged(fake: FakeSlack, caplog, message: str, count: int = 1) -> None:
    """Until the server has logged ``message`` ``count`` times (the retry was fully handled)."""

    async def seen() -> None:
        while sum(message in r.getMessage() for r in caplog.records) < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(seen(), 10)


async def test_the_event_is_in_the_database_before_slack_gets_its_ack(
    start_server, fake_slack, sqlite_url
):
    ledgers: list[HeldLedger] = []

    def records(db: Database) -> HeldLedger:
        ledgers.append(HeldLedger(db))
        return ledgers[-1]

    staffroom = await start_server(sqlite_url, records=records)
    [held] = ledgers
    sending = asyncio.create_task(staffroom.event(mention("exit tickets"), event_id="EvHeld"))
    assert await asyncio.to_thread(held.claiming.wait, 10)  # the claim is being written...
    assert not sending.done()  # ... and there is no 200 until it is
    held.release.set()
    assert (await sending).status == 200
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)
    assert held.claims == ["slack:EvHeld"]
    # Once answered the claim is closed: no replica will answer it again.
    await wait_for_status(staffroom.components.database, "slack:EvHeld", "done")


async def test_a_database_down_at_ack_time_still_gets_an_ack_and_an_answer(
    start_server, fake_slack, sqlite_url
):
    class LedgerDown(SqlRecords):
        def claim_event(self, key: str, platform: str, **kwargs: object) -> bool:
            raise DatabaseUnavailable("Staffroom could not reach its database.")

    staffroom = await start_server(sqlite_url, records=LedgerDown)
    sent = await staffroom.event(mention("exit tickets"), event_id="EvDown")
    assert sent.status == 200
    await fake_slack.wait_for(lambda f: len(_posts(f)) == 1)  # answered without the ledger
