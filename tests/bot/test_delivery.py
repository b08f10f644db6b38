"""Proactive messages through the delivery pipeline: exactly once per key, retried by the sweep,
the sent message's ref recorded; claimed work survives a JSON round trip."""

from __future__ import annotations

from dataclasses import replace

from bot.delivery import Address, Delivered, MessageRef, Outgoing, Work
from bot.delivery.work import load
from bot.messages import Action, Form, FormField, IdeaCard, Incoming, Reply, SessionCard
from store import Database, ProcessedEvent
from tests.bot.fakes import Clock, RecordingCourier
from tests.bot.fakes import replica as _replica

TO = Address.direct("slack", "UTEACH")
CHECKIN = Reply(text="How did exit tickets go?", in_thread=False)


class FailingOnce(RecordingCourier):
    """Slack refuses the first send (e.g. rate limited), then works."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals = 1

    async def send(self, to: Address, reply: Reply) -> Delivered:
        if self.refusals:
            self.refusals -= 1
            return Delivered(error="ratelimited")
        return await super().send(to, reply)


def _status(db: Database, key: str) -> str:
    with db.session() as s:
        row = s.get(ProcessedEvent, key)
        return row.status if row is not None else "missing"


async def test_a_keyed_message_is_sent_once_and_its_ref_comes_back_on_a_repeat(db: Database):
    first, courier = _replica(db)
    other, other_courier = _replica(db)  # another replica running the same schedule
    sent = await first.delivery.deliver(TO, CHECKIN, key="checkin:7")
    again = await other.delivery.deliver(TO, CHECKIN, key="checkin:7")
    assert sent.ok and not sent.repeated and sent.ref == MessageRef("slack", "UTEACH", "1.0")
    assert again.repeated and again.ref == sent.ref  # the first send's ref, nothing sent
    assert [r.text for _, r in courier.sent] == [CHECKIN.text] and other_courier.sent == []
    assert _status(db, "checkin:7") == "done"
    first.close()
    other.close()


async def test_without_a_key_every_call_sends(sqlite_db: Database):
    core, courier = _replica(sqlite_db)
    await core.delivery.deliver(TO, CHECKIN)
    await core.delivery.deliver(TO, CHECKIN)
    assert len(courier.sent) == 2
    core.close()


async def test_a_refused_send_stays_claimed_and_the_sweep_sends_it_once(sqlite_db: Database):
    clock = Clock()
    core, _ = _replica(sqlite_db, clock=clock)
    courier = FailingOnce()
    core.delivery.register("slack", courier)
    sent = await core.delivery.deliver(TO, CHECKIN, key="digest:2024-09-16")
    assert sent.error == "ratelimited" and _status(sqlite_db, "digest:2024-09-16") == "open"
    assert await core.delivery.recover() == 0  # its lease has not run out yet
    clock.advance(0.3)
    assert await core.delivery.recover() == 1
    assert [r.text for _, r in courier.sent] == [CHECKIN.text]  # no "late" note on a digest
    assert _status(sqlite_db, "digest:2024-09-16") == "done"
    clock.advance(0.3)
    assert await core.delivery.recover() == 0 and len(courier.sent) == 1
    repeat = await core.delivery.deliver(TO, CHECKIN, key="digest:2024-09-16")
    assert repeat.repeated and repeat.ref == MessageRef("slack", "UTEACH", "1.0")
    core.close()


async def test_a_replica_that_died_before_sending_is_finished_by_another(db: Database):
    clock = Clock()
    dead, dead_courier = _replica(db, clock=clock)
    # The dying replica claimed the message with what to send... and never sent it.
    assert await dead.delivery.claim("follow:3", "slack", Outgoing(TO, CHECKIN))
    alive, courier = _replica(db, clock=clock)
    clock.advance(0.3)
    assert await alive.delivery.recover() == 1
    [(to, reply)] = courier.sent
    assert to == TO and reply == CHECKIN and dead_courier.sent == []
    dead.close()
    alive.close()


def test_claimed_work_survives_its_json_round_trip():
    reply = Reply(
        text="New idea #3",
        answer="Idea #3",
        cards=(SessionCard("Exit Tickets", "Maya", "12:30–15:10", "https://v/e#t=750", "s",
                           ("6-8",), ("Math",), True),),  # fmt: skip
        actions=(Action("staffroom_say", "Pilot", "triage 3 pilot", "primary", typed="x"),),
        notes=("small print",),
        ideas=(IdeaCard(3, "Silent debate", "new", "Ana", (("The practice", "Debate"),), 1, 2,
                        "How might we?", ("“Talk Moves” covers this",), ("pitched",)),),  # fmt: skip
        form=Form("merge", "Merge", "Merge", (FormField("target", "Into", "7", max_len=12),), "3"),
        question_id=None,
        in_thread=False,
    )
    outgoing = Outgoing(Address("teams", "19:c", "t1", service_url="https://smba/"), reply)
    assert load(outgoing.to_json()) == outgoing
    incoming = Incoming("slack", "U1", "C1", "111.1", "exit tickets", event_id="Ev1")
    work = Work.answering(incoming, thread_hooks=True)
    assert load(work.to_json()) == work
    older = work.to_json()  # a claim written before addresses had platform hints
    older["reply_to"] = {k: older["reply_to"][k] for k in ("platform", "conversation_id",
                                                           "thread_id", "user_id", "service_url")}
    assert load(older) == replace(work, reply_to=replace(work.reply_to, reply_to=""))
