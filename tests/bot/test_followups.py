"""Follow-ups in the bot: each conversation keeps its last question, in the database, until idle.

Over the core, the terminal chat, Slack (DMs and channel threads) and Teams (personal chats),
with a retriever that records what was searched: a follow-up searches the last question with
the new words; another thread, another user or an idle conversation starts fresh; "another one"
never repeats a session.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace

import sqlalchemy as sa

from bot.core import Core
from bot.core.followups import (
    CONTEXTS,
    MAX_CONTEXTS,
    conversation_key,
    load_context,
    store_context,
)
from bot.messages import Incoming
from bot.records import SqlRecords
from bot.terminal import chat
from retrieval.followup import Context
from store import ConversationState
from tests.bot.fakes import FakeRetriever, canned
from tests.slack.conftest import fake_slack, mention, start_server  # noqa: F401
from tests.slack.ideas_helpers import dm, replies_in
from tests.teams.conftest import connector, personal_message, start_teams  # noqa: F401

FIRST = "how do I run exit tickets with 32 kids?"
DM = Incoming("slack", "U1", "D1", "", FIRST, surface="dm", private=True)


def _three(query: str):
    """Three sessions scoring 0.8, 0.7, 0.6: an answer shows the first two (relative cut)."""
    return canned(query, count=3)


def test_a_context_expires_after_its_idle_time_and_few_are_kept() -> None:
    context = Context(topic=FIRST, shown=("exit-tickets",), answered=True, best=0.8)
    data = store_context({"other": 1}, "k", context, now=1000.0, idle=60)
    assert data["other"] == 1
    assert load_context(data, "k", now=1059.0, idle=60) == context
    assert load_context(data, "k", now=1061.0, idle=60) is None
    assert load_context(data, "elsewhere", now=1000.0, idle=60) is None
    for n in range(MAX_CONTEXTS + 3):
        data = store_context(data, f"t{n}", context, now=1000.0 + n, idle=60)
    assert len(data[CONTEXTS]) == MAX_CONTEXTS and f"t{MAX_CONTEXTS + 2}" in data[CONTEXTS]
    # A context written by another version is forgotten, not an error.
    assert load_context({CONTEXTS: {"k": {"context": {}, "at": 1000.0}}}, "k", 1000.0) is None
    odd = {CONTEXTS: {"old": {"at": "yesterday"}, "k": "?"}}
    assert list(store_context(odd, "k", context, now=1000.0, idle=60)[CONTEXTS]) == ["k"]


def test_conversation_keys_tell_threads_and_dms_apart() -> None:
    in_thread = replace(DM, conversation_id="C1", thread_id="171.2")
    assert conversation_key(DM) != conversation_key(in_thread)
    assert conversation_key(DM) == conversation_key(replace(DM, text="other words"))


async def test_a_follow_up_searches_the_last_question_with_its_new_words(db) -> None:
    retriever = FakeRetriever()
    core = Core(retriever, SqlRecords(db))
    await core.handle(DM)
    [reply] = await core.handle(replace(DM, text="what about for 1st graders?"))
    assert reply.kind == "answer"
    assert "Start with “Exit Tickets That Drive Tomorrow's Lesson” (grades 6-8)" in reply.text
    assert retriever.queries == [FIRST, FIRST]  # the grade is a preference, not query words
    await core.handle(replace(DM, text="does that work online?"))
    assert retriever.queries[-1] == f"{FIRST} does that work online"
    # The context lives in the database: a second core (another replica) continues it.
    other = FakeRetriever()
    replica = Core(other, SqlRecords(db))
    await replica.handle(replace(DM, text="in a co-taught class?"))
    assert other.queries == [f"{FIRST} does that work online a co-taught class"]
    with db.session() as s:
        [state] = s.scalars(sa.select(ConversationState))
        assert list(state.data[CONTEXTS]) == [conversation_key(DM)]
    core.close()
    replica.close()


async def test_another_thread_another_person_or_a_long_pause_starts_fresh(sqlite_db) -> None:
    retriever = FakeRetriever()
    core = Core(retriever, SqlRecords(sqlite_db), context_idle=600)
    now = [1_000_000.0]
    core.answers.clock = lambda: now[0]
    await core.handle(DM)
    follow = "what about for 1st graders?"
    await core.handle(replace(DM, thread_id="999.1", text=follow))  # another thread
    await core.handle(replace(DM, user_id="U2", text=follow))  # another person
    now[0] += 601
    await core.handle(replace(DM, text=follow))  # the same DM, idle too long
    assert retriever.queries == [FIRST, follow, follow, follow]
    core.close()


async def test_another_one_shows_the_next_sessions_without_repeats(sqlite_db) -> None:
    retriever = FakeRetriever(_three)
    core = Core(retriever, SqlRecords(sqlite_db))
    [first] = await core.handle(DM)
    assert [c.title for c in first.cards] == [
        "Exit Tickets That Drive Tomorrow's Lesson",
        "Wait Time & Questioning",
    ]  # the third scores under 85% of the best: not shown
    [more] = await core.handle(replace(DM, text="another one"))
    assert [c.title for c in more.cards] == ["Restorative Circles"]
    [done] = await core.handle(replace(DM, text="show me more"))
    assert done.kind == "hint" and "everything in the library" in done.text
    assert done.question_id is None  # "nothing more" is not a content gap
    core.close()


async def test_the_terminal_chat_keeps_its_context(sqlite_db) -> None:
    retriever = FakeRetriever(_three)
    core = Core(retriever, SqlRecords(sqlite_db))
    out = io.StringIO()
    await chat(core, io.StringIO(f"{FIRST}\nanother one\nquit\n"), out, user_id="ana")
    assert retriever.queries[1] == FIRST
    first, more = out.getvalue().split("Start with “Restorative Circles”")
    assert "Exit Tickets That Drive" in first and "Exit Tickets That Drive" not in more
    core.close()


async def test_slack_dms_and_threads_keep_their_own_context(
    start_server,  # noqa: F811
    fake_slack,  # noqa: F811
    sqlite_url,
) -> None:
    retriever = FakeRetriever()
    staffroom = await start_server(sqlite_url, retriever)
    await dm(staffroom, fake_slack, "U1", FIRST)
    await dm(staffroom, fake_slack, "U1", "with ELLs in the room?")
    assert retriever.queries == [FIRST, f"{FIRST} ells in the room"]
    # A channel thread is a conversation of its own: its follow-up refers to its own question.
    root = "1700000500.000100"
    await staffroom.event(mention("circles for advisory", ts=root), event_id="Ev1")
    await fake_slack.wait_for(lambda f: len(replies_in(f, "C1", root)) == 1)
    later = mention("does that work online?", ts="1700000600.000100", thread_ts=root)
    await staffroom.event(later, event_id="Ev2")
    await fake_slack.wait_for(lambda f: len(replies_in(f, "C1", root)) == 2)
    assert retriever.queries[-1] == "circles for advisory does that work online"


async def test_a_teams_personal_chat_keeps_its_context(
    start_teams,  # noqa: F811
    connector,  # noqa: F811
    sqlite_url,
) -> None:
    retriever = FakeRetriever(_three)
    teams = await start_teams(sqlite_url, retriever)
    for n, text in enumerate((FIRST, "another one"), 1):
        sent = await teams.post(personal_message(connector.url, text))
        assert sent.status == 200
        await connector.wait_for(lambda c, n=n: len(c.posts()) == n)
    last = json.dumps(connector.posts()[-1].card, ensure_ascii=False)
    assert "Restorative Circles" in last and "Exit Tickets That Drive" not in last
    assert retriever.queries == [FIRST, FIRST]


def test_idle_times_take_durations(monkeypatch) -> None:
    import pytest
    from pydantic import ValidationError

    from bot.settings import Settings

    assert (Settings().context_idle, Settings().draft_ttl) == (1800, 7 * 86400)
    monkeypatch.setenv("STAFFROOM_DRAFT_TTL", "45s")
    monkeypatch.setenv("STAFFROOM_CONTEXT_IDLE", "2h")
    assert (Settings().draft_ttl, Settings().context_idle) == (45, 7200)
    monkeypatch.setenv("STAFFROOM_DRAFT_TTL", "7d")
    assert Settings().draft_ttl == 7 * 86400
    monkeypatch.setenv("STAFFROOM_DRAFT_TTL", "a week")
    with pytest.raises(ValidationError, match="not a duration"):
        Settings()


async def test_thanks_is_not_a_follow_up_and_keeps_the_topic(sqlite_db) -> None:
    retriever = FakeRetriever(_three)
    core = Core(retriever, SqlRecords(sqlite_db))
    await core.handle(DM)
    for text in ("thanks!", "ok great, thank you 👍"):
        [reply] = await core.handle(replace(DM, text=text))
        assert reply.kind == "hint" and "welcome" in reply.text
    assert retriever.queries == [FIRST]  # nothing searched again, nothing logged
    [more] = await core.handle(replace(DM, text="another one"))
    assert [c.title for c in more.cards] == ["Restorative Circles"]
    core.close()
