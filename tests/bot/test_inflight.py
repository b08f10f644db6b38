"""Claimed messages a replica never answered are answered late by another; the database is waited for."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.core import Core
from bot.inflight import LATE_NOTE, Work
from bot.messages import Incoming, Reply
from bot.outbox import Address, Delivered
from bot.records import SqlRecords
from staffroom_errors import DatabaseUnavailable
from store import Database, ProcessedEvent, Question
from tests.bot.fakes import FakeRetriever

ASK = Incoming(
    "slack", "U1", "C1", "111.1", "how do I run exit tickets?", "mention", event_id="Ev1"
)


class RecordingCourier:
    def __init__(self) -> None:
        self.sent: list[tuple[Address, Reply]] = []
        self.updated: list[tuple[str, Reply]] = []

    async def send(self, to: Address, reply: Reply) -> Delivered:
        self.sent.append((to, reply))
        return Delivered(ref=f"{to.conversation_id or to.user_id}:{len(self.sent)}.0")

    async def update(self, ref: str, reply: Reply) -> Delivered:
        self.updated.append((ref, reply))
        return Delivered(ref=ref)


def _replica(db: Database, lease: float = 0.2) -> tuple[Core, RecordingCourier]:
    core = Core(FakeRetriever(), SqlRecords(db), answer_lease=lease)
    courier = RecordingCourier()
    core.outbox.register("slack", courier)
    return core, courier


def _status(db: Database, key: str) -> str:
    with db.session() as s:
        row = s.get(ProcessedEvent, key)
        return row.status if row is not None else "missing"


async def test_a_message_its_replica_never_answered_is_answered_late_by_another(db: Database):
    dead, _ = _replica(db)
    work = Work(ASK, Address("slack", "C1", "111.1", user_id="U1"))
    assert await dead.claim("slack:Ev1", "slack", work)  # ... and then the process dies
    alive, courier = _replica(db)
    assert await alive.recover() == 0  # the lease has not run out: its replica may still answer
    assert courier.sent == []
    await asyncio.sleep(0.3)
    assert await alive.recover() == 1
    [(to, reply)] = courier.sent
    assert (to.conversation_id, to.thread_id) == ("C1", "111.1")  # in the asker's thread
    assert reply.kind == "answer" and reply.notes[-1] == LATE_NOTE
    assert _status(db, "slack:Ev1") == "done"
    with db.session() as s:
        [question] = s.scalars(sa.select(Question)).all()
        assert question.reply_ref == "C1:1.0"  # feedback on the late answer still finds it
    await asyncio.sleep(0.3)
    assert await alive.recover() == 0  # answered once only
    assert len(courier.sent) == 1
    dead.close()
    alive.close()


async def test_an_answered_claim_is_never_taken_over(db: Database):
    core, courier = _replica(db)
    assert await core.claim("slack:Ev1", "slack", Work(ASK, Address("slack", "C1", "111.1")))
    await core.finish("slack:Ev1")
    await asyncio.sleep(0.3)
    assert await core.recover() == 0 and courier.sent == []
    core.close()


async def test_a_private_reply_meant_for_a_channel_goes_to_the_askers_dms(sqlite_db: Database):
    core, courier = _replica(sqlite_db)
    work = Work(ASK, Address("slack", "C1", "111.1", user_id="U1"))
    private = Reply(text="Only you can see this.", ephemeral=True)
    top_level = Reply(text="Not in a thread.", in_thread=False)

    async def respond(incoming: Incoming, **_: Any) -> list[Reply]:
        return [private, top_level]

    core.respond = respond  # type: ignore[method-assign]
    assert await core.claim("slack:Ev1", "slack", work)
    await asyncio.sleep(0.3)
    assert await core.recover() == 1
    [(first, _), (second, _)] = courier.sent
    assert (first.conversation_id, first.user_id) == ("", "U1")  # a DM, not the channel
    assert (second.conversation_id, second.thread_id) == ("C1", "")
    core.close()


async def test_a_replica_that_cannot_reach_the_platform_leaves_the_message(sqlite_db: Database):
    core, _ = _replica(sqlite_db)
    teams_work = Work(replace(ASK, platform="teams"), Address("teams", "19:c", "1"))
    assert await core.claim("teams:1", "teams", teams_work)
    await asyncio.sleep(0.3)
    assert await core.recover() == 0
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
    assert await core.claim("slack:Ev1", "slack") is True
    assert await core.claim("slack:Ev1", "slack") is False  # the retry, once it is back
    core.close()


async def test_a_claim_answers_anyway_when_the_database_stays_down(sqlite_db: Database):
    core = Core(FakeRetriever(), FlakyRecords(sqlite_db, outage=100), db_patience=0.3)
    assert await core.claim("slack:Ev1", "slack") is True  # losing the question is worse
    core.close()


async def test_old_delivery_claims_are_forgotten_recent_ones_kept(sqlite_db: Database):
    core, _ = _replica(sqlite_db)
    assert await core.claim("slack:old", "slack")
    assert await core.forget_old_deliveries(timedelta(days=7)) == 0  # a retry may still come
    await asyncio.sleep(0.05)
    assert await core.forget_old_deliveries(timedelta(seconds=0.01)) == 1
    assert _status(sqlite_db, "slack:old") == "missing"
    core.close()
