"""Follow-through in the terminal chat: *I'll try this* is a typed option under every answer,
"try ..." that names no session is still a question, and a command typed while a reflection
is awaited runs instead of being kept."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.core import Core
from bot.follow_flow import FollowConfig
from bot.follow_wiring import install
from bot.messages import TRY_AGAIN, Incoming
from bot.records import SqlRecords, UserState
from bot.render.text import render
from follow import schedule
from store import Database, FollowMessage, FollowReflection
from store.runner import Runner
from tests.bot.fakes import FakeRetriever


def _said(text: str, user: str = "me") -> Incoming:
    return Incoming("terminal", user, "terminal", "", text, "terminal", private=True)


async def test_terminal_offers_try_and_keeps_commands_out_of_reflections(sqlite_db: Database):
    core = Core(FakeRetriever(), SqlRecords(sqlite_db), db=Runner(sqlite_db))
    install(core, Runner(sqlite_db), FollowConfig(timedelta(seconds=30), "UTC", 3))
    (answer,) = await core.handle(_said("how do I run exit tickets?"))
    assert "I'll try this (`try exit-tickets`)" in render(answer)
    (other,) = await core.handle(_said("try to get them talking"))
    assert other.kind == "answer"  # no session by that id: a question
    (started,) = await core.handle(_said("try exit-tickets"))
    assert "I'll check in soon" in started.text
    with sqlite_db.session() as s:
        message_id = s.scalar(sa.select(FollowMessage.id))
        s.execute(sa.update(FollowMessage).values(state="sent"))
    (asked,) = await core.handle(_said(f"checkin {message_id} partly"))
    assert "What would you tell a colleague" in asked.text
    (stopped,) = await core.handle(_said("checkins off"))
    assert "no more check-ins" in stopped.text
    with sqlite_db.session() as s:
        assert s.scalars(sa.select(FollowReflection)).all() == []
        assert schedule.counts(s) == {"answered": 1}
    core.close()


async def test_evidence_and_reflect_typed_as_words_do_not_loop(sqlite_db: Database):
    core = Core(FakeRetriever(), SqlRecords(sqlite_db), db=Runner(sqlite_db))
    install(core, Runner(sqlite_db), FollowConfig(timedelta(seconds=30), "UTC", 3))
    for text in ("evidence evidence", "reflect reflect", "evidence"):
        replies = await core.handle(_said(text))
        assert replies and all(r.kind != "error" for r in replies), text
    # Waiting for an evidence link: the word "evidence" is not a command that re-enters it.
    core.records.save_state(UserState("terminal", "me", "evidence", "", {"idea_id": 1}))
    (reply,) = await core.handle(_said("evidence https://docs.example/x"))
    assert reply.text != TRY_AGAIN and "Give your verdict on idea #1 first" in reply.text
    core.close()
