"""Claimed messages a replica never answered are answered late by another; the database is waited for."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.core import Core
from bot.delivery import LATE_NOTE, Address, Work
from bot.messages import Incoming, Reply
from bot.records import SqlRecords
from staffroom_errors import DatabaseUnavailable
from store import Database, ProcessedEvent, Question
from tests.bot.fakes import Clock, FakeRetriever
from tests.bot.fakes import replica as _replica

ASK = Incoming(
    "slack", "U1", "C1", "111.1", "how do I run exit tickets?", "mention", event_id="Ev1"
)


def _status(db: Database, key: str) -> str:
    with db.session() as s:
        row = s.get(ProcessedEvent, key)
        return row.status if row is not None else "missing"


async def test_a_message_its_replica_never_answered_is_answered_late_by_another(db: Database):
    clock = Clock()
    dead, _ = _replica(db, clock=clock)
    work = Work(ASK, Address("slack", "C1", "111.1", user_id="U1"))
    assert await dead.delivery.claim("slack:Ev1", "slack", work)  # ... and then the process dies
    alive, courier = _replica(db, clock=clock)
    assert await alive.delivery.recover() == 0  # the lease has not run out: it may still answer
    assert courier.sent == []
    clock.advance(0.3)
    assert await alive.delivery.recover() == 1
    [(to, reply)] = courier.sent
    assert (to.conversation_id, to.thread_id) == ("C1", "111.1")  # in the asker's thread
    assert reply.kind == "answer" and reply.notes[-1] == LATE_NOTE
    assert _status(db, "slack:Ev1") == "done"
    with db.session() as s:
        [question] = s.scalars(sa.select(Question)).all()
        assert question.reply_ref == "C1:1.0"  # feedback on the late answer still finds it
    clock.advance(0.3)
    assert await alive.delivery.recover() == 0  # answered once only
    assert len(courier.sent) == 1
    dead.close()
    alive.close()


async def test_an_answered_claim_is_never_taken_over(db: Database):
    clock = Clock()
    core, courier = _replica(db, clock=clock)
    work = Work(ASK, Address("slack", "C1", "111.1"))
    assert await core.delivery.claim("slack:Ev1", "slack", work)
    await core.delivery.finish("slack:Ev1")
    clock.advance(0.3)
    assert await core.delivery.recover() == 0 and courier.sent == []
    core.close()


async def test_a_private_reply_meant_for_a_channel_goes_to_the_askers_dms(sqlite_db: Database):
    clock = Clock()
    core, courier = _replica(sqlite_db, clock=clock)
    work = Work(ASK, Address("slack", "C1", "111.1", user_id="U1"))
    private = Reply(text="Only you can see this.", ephemeral=True)
    top_level = Reply(text="Not in a thread.", in_thread=False)

    async def respond(incoming: Incoming, **_: Any) -> list[Reply]:
        return [private, top_level]

    core.respond = respond  # type: ignore[method-assign]
    assert await core.delivery.claim("slack:Ev1", "slack", work)
    clock.advance(0.3)
    assert await core.delivery.recover() == 1
    [(first, _), (second, _)] = courier.sent
    assert (first.conversation_id, first.user_id) == ("", "U1")  # a DM, not the channel
    assert (second.conversation_id, second.thread_id) == ("C1", "")
    core.close()


async def test_a_replica_that_cannot_reach_the_platform_leaves_the_message(sqlite_db: Database):
    clock = Clock()
    core, _ = _replica(sqlite_db, clock=clock)
    teams_work = Work(replace(ASK, platform="teams"), Address("teams", "19:c", "1"))
    assert await core.delivery.claim("teams:1", "teams", teams_work)
    clock.advance(0.3)
    assert await core.delivery.recover() == 0
    assert _status(sqlite_db, "teams:1") == "open"  # for a replica that serves Teams
    core.close()


class FlakyRecords(SqlRecords):
    """The database is unreachable for the first ``outage`` calls (a PostgreSQL restart)."""

    def __init__(self, db: Database, outage: int) -> None:
        super().__init__(db)
        self.outage = outage

    def _maybe_down(self) -> None:
        if self.outage > 0:
            self.outage -= 1
            raise DatabaseUnavailable("Staffroom could not reach its database.")

    def claim_event(self, key: str, platform: str, **kwargs: Any) -> bool:
        self._maybe_down()
        return super().claim_event(key, platform, **kwargs)

    def load_state(self, platform: str, user_id: str) -> Any:
        self._maybe_down()
        return super().load_state(platform, user_id)


async def test_an_answer_waits_out_a_short_database_outage(sqlite_db: Database):
    core = Core(FakeRetriever(), FlakyRecords(sqlite_db, outage=2), db_patience=5)
    [reply] = await core.handle(ASK)
    assert reply.kind == "answer"
    core.close()


async def test_without_patience_the_outage_is_reported_to_the_user(sqlite_db: Database):
    core = Core(FakeRetriever(), FlakyRecords(sqlite_db, outage=2), db_patience=0)
    [reply] = await core.handle(ASK)
    assert reply.kind == "error" and "could not reach its database" in reply.text
    core.close()


async def test_a_claim_waits_for_the_database_so_a_retry_is_not_answered_twice(
    sqlite_db: Database,
):
    core = Core(FakeRetriever(), FlakyRecords(sqlite_db, outage=2), db_patience=5)
    assert await core.delivery.claim("slack:Ev1", "slack") is True
    assert await core.delivery.claim("slack:Ev1", "slack") is False  # the retry, once it is back
    core.close()


async def test_a_claim_answers_anyway_when_the_database_stays_down(sqlite_db: Database):
    core = Core(FakeRetriever(), FlakyRecords(sqlite_db, outage=100), db_patience=0.3)
    assert await core.delivery.claim("slack:Ev1", "slack") is True  # losing it is worse
    core.close()


async def test_old_delivery_claims_are_forgotten_recent_ones_kept(sqlite_db: Database):
    clock = Clock()
    core, _ = _replica(sqlite_db, clock=clock)
    assert await core.delivery.claim("slack:old", "slack")
    assert await core.delivery.forget_old(timedelta(days=7)) == 0  # a retry may still come
    clock.advance(0.05)
    assert await core.delivery.forget_old(timedelta(seconds=0.01)) == 1
    assert _status(sqlite_db, "slack:old") == "missing"
    core.close()
