"""The delivery pipeline: every message Staffroom sends, answer or proactive, on every platform.

A front-end parses a platform payload into the neutral ``Incoming`` and ``Work``, claims it
(``claim``, before the platform's ack where the platform retries) and hands it to ``answer``:
respond (the core) → post each reply through the platform's ``Courier`` → mark the claim
answered and remember where each answer went → edit the answer in place with a synthesized one
(streamed where the courier can). A claim not answered within ``lease`` seconds (its replica
died) is answered late by whichever replica sweeps first (``recover``), with a note saying so.

**Sending a proactive message** (a check-in DM, a weekly digest, a follow notification): build
a ``Reply``, an ``Address`` and a key naming this one message, and call ``deliver``::

    from bot.delivery import Address
    from bot.messages import Reply

    sent = await core.delivery.deliver(
        Address.direct("slack", "U123"),              # or Address("teams", conversation_id)
        Reply(text="How did exit tickets go?", in_thread=False),
        key=f"checkin:{plan_id}:{due_date}",          # the same key never sends twice
    )
    if sent.ok:  # sent.ref (a MessageRef) edits it later: core.delivery.update(sent.ref, ...)
        ...

With a ``key`` the send is exactly-once across retries, restarts and replicas: the key is
claimed in the delivery ledger (``processed_events``) with the message; a send that fails, or a
replica that dies before sending, leaves the claim open and the next sweep sends it (at most
``bot.records.MAX_ATTEMPTS`` times); the sent message's ref is recorded, and calling again with
the key returns it (``Delivered.repeated``) instead of sending. Without a key it is sent once,
now, and a failure is only logged and returned. Nothing here raises for a platform's refusal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol

from bot.delivery.addresses import Address, Courier, Delivered, MessageRef
from bot.delivery.retry import LAST_REFUSAL
from bot.delivery.work import Outgoing, Work, load
from bot.grounded import Grounded, Throttle
from bot.messages import Incoming, Reply

if TYPE_CHECKING:
    from bot.records import Records
    from retrieval.answer import Citation
    from store.runner import Runner

log = logging.getLogger(__name__)

GENERIC_FAILURE = "send_failed"  # a courier's error that says no more than that it failed
LATE_NOTE = "Sorry this is late: the server that first took your message restarted."
Edit = tuple[Reply, tuple["Citation", ...]]


class Responder(Protocol):
    """What the pipeline asks the conversation core (``bot.core.Core`` fits)."""

    async def respond(
        self, incoming: Incoming, *, thread_hooks: bool = False, answer: bool = True
    ) -> list[Reply]: ...

    async def ground(
        self, reply: Reply, *, on_delta: Callable[[Reply], Awaitable[object]] | None = None
    ) -> Grounded | None: ...


class Pipeline:
    """Claims, posts, records and edits messages through one courier per platform."""

    def __init__(
        self,
        responder: Responder,
        records: Records,
        db: Runner,
        *,
        lease: float = 30.0,
        replica: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._responder, self._records, self._db = responder, records, db
        self.lease = lease  # a claim not answered within this many seconds is taken over
        self.replica = replica or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._clock, self._sleep = clock, sleep  # paces streamed edits
        self._couriers: dict[str, Courier] = {}

    # --- couriers ----------------------------------------------------------------------

    def register(self, platform: str, courier: Courier) -> None:
        self._couriers[platform] = courier

    def reaches(self, platform: str) -> bool:
        return platform in self._couriers

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._couriers)

    # --- the ledger ----------------------------------------------------------------------

    async def claim(self, key: str, platform: str, work: Work | Outgoing | None = None) -> bool:
        """True the first time a delivery is seen (across restarts and processes).

        With ``work`` the claim stays open until ``finish(key)``: if this process dies before,
        another replica's ``recover`` finishes it. An unreachable ledger is waited for (the
        runner's patience) and then counts as a first delivery: a retry may then be answered
        twice, but losing the question would be worse.
        """
        first = await self.try_claim(key, platform, work)
        if first is None:
            log.error("could not check delivery %s for retries; answering anyway", key)
            return True
        return first

    async def try_claim(
        self,
        key: str,
        platform: str,
        work: Work | Outgoing | None = None,
        *,
        patience: float | None = None,
    ) -> bool | None:
        """``claim``, but None when the ledger could not be reached within ``patience`` s."""
        holder = f"{self.replica}:{uuid.uuid4().hex[:8]}"  # one per claim: retries differ
        call = partial(
            self._records.claim_event,
            key,
            platform,
            holder=holder,
            work=work.to_json() if work is not None else None,
            lease_seconds=self.lease,
        )
        try:
            return await self._db.call(call, patience=patience)
        except Exception:
            log.warning("could not reach the delivery ledger for %s", key, exc_info=True)
            return None

    async def finish(self, key: str, ref: MessageRef | None = None) -> None:
        """The claim ``key`` is done (``ref``: what was sent); a failure is only logged."""
        result = {"ref": ref.to_json()} if ref is not None else None
        try:
            await self._db.call(self._records.finish_event, key, result)
        except Exception:
            log.exception("could not mark %s answered; another replica may answer it again", key)

    async def attach(self, question_id: int, ref: MessageRef) -> None:
        """Remember where an answer was posted (feedback and edits find it); never raises."""
        try:
            await self._db.call(self._records.attach_reply, question_id, ref.key)
        except Exception:
            log.exception("could not store reply ref %s for question %s", ref.key, question_id)

    # --- answering a message ---------------------------------------------------------------

    async def answer(self, key: str, work: Work, *, late: bool = False) -> int:
        """Respond to ``work`` and post the replies; the claim ``key`` ("" for none) is closed.

        ``late``: another replica claimed it and died; the first reply says it is late.
        Returns how many replies were posted.
        """
        incoming = work.incoming
        replies = await self._responder.respond(
            incoming, thread_hooks=work.thread_hooks, answer=work.answer
        )
        if late and replies:
            replies[0] = replace(replies[0], notes=(*replies[0].notes, LATE_NOTE))
        return await self.post(work, replies, key=key, late=late)

    async def post(
        self,
        work: Work,
        replies: Sequence[Reply],
        *,
        key: str = "",
        late: bool = False,
        whisper: bool | None = None,
    ) -> int:
        """Post ``replies`` to ``work``; close the claim ``key``; ground the answers posted.

        ``whisper`` forces every reply private (True) or public (False) instead of each
        reply's own ``ephemeral`` flag.
        """
        sent: list[tuple[Reply, Delivered]] = []
        for reply in replies:
            to = work.address_for(reply, whisper=whisper, late=late)
            delivered = await self.send(to, reply)
            if delivered.error:
                log.error("reply to %s not delivered: %s", key or to, delivered.error)
            sent.append((reply, delivered))
        if key:
            await self.finish(key)
        answers = [(r, d.ref) for r, d in sent if d.ref is not None and r.question_id is not None]
        for reply, ref in answers:
            await self.attach(reply.question_id or 0, ref)
        for reply, ref in answers:
            await self.ground(ref, reply)
        return sum(1 for _, d in sent if d.ok)

    async def ground(self, ref: MessageRef, reply: Reply) -> None:
        """Edit the posted answer ``ref`` with a synthesized one (streamed where it can)."""
        courier = self._couriers.get(ref.platform)
        if courier is None:
            return
        if not courier.streams(ref):  # one edit, with the citations
            grounded = await self._responder.ground(reply)
            if grounded is not None:
                await self.update(ref, grounded.reply, grounded.citations)
            return

        async def edit(update: Edit) -> None:
            await self.update(ref, *update)

        edits: Throttle[Edit] = Throttle(edit, clock=self._clock, sleep=self._sleep)
        grounded = await self._responder.ground(
            reply, on_delta=lambda partial: edits.offer((partial, ()))
        )
        if grounded is not None:
            await edits.finish((grounded.reply, grounded.citations))
        elif edits.sent:  # a stream that broke off: put the extractive answer back
            await edits.finish((reply, ()))

    # --- sending ---------------------------------------------------------------------------

    async def deliver(self, to: Address, reply: Reply, *, key: str = "") -> Delivered:
        """Send one proactive message; with ``key``, exactly once (see the module docstring)."""
        if not key:
            return await self.send(to, reply)
        outgoing = Outgoing(to, reply)
        first = await self.try_claim(key, to.platform, outgoing)
        if first is None:  # better late (the caller tries again) than twice
            return Delivered(error="ledger_unreachable")
        if not first:
            try:
                done = await self._db.call(self._records.delivered, key)
            except Exception:
                log.warning("could not read how %s was delivered", key, exc_info=True)
                done = None
            return Delivered(ref=MessageRef.from_json((done or {}).get("ref")), repeated=True)
        return await self._send_claimed(key, outgoing)

    async def _send_claimed(self, key: str, outgoing: Outgoing) -> Delivered:
        sent = await self.send(outgoing.to, outgoing.reply)
        if not sent.error:  # else the claim stays open and a later sweep tries again
            await self.finish(key, sent.ref)
        return sent

    async def send(self, to: Address, reply: Reply) -> Delivered:
        """Post ``reply`` at ``to`` now; never raises (a failure is logged and returned)."""
        courier = self._couriers.get(to.platform)
        if courier is None:
            return Delivered(error=f"no_courier_for_{to.platform or 'platform'}")
        LAST_REFUSAL.set(None)
        try:
            sent = await courier.send(to, reply)
        except Exception as err:
            log.exception("sending to %s failed", to)
            return Delivered(error=type(err).__name__)
        refused = LAST_REFUSAL.get()
        if sent.error == GENERIC_FAILURE and refused is not None and refused.status:
            # The platform's HTTP status (Teams: 403 bot removed, 404 user gone, 5xx down), so
            # a caller can tell a person who cannot be reached from a failure worth retrying.
            return Delivered(error=f"http_{refused.status}")
        return sent

    async def update(
        self, ref: MessageRef, reply: Reply, citations: Sequence[Citation] = ()
    ) -> Delivered:
        """Replace the message ``ref`` with ``reply``; never raises."""
        courier = self._couriers.get(ref.platform)
        if courier is None:
            return Delivered(error=f"no_courier_for_{ref.platform or 'platform'}")
        try:
            return await courier.update(ref, reply, citations)
        except Exception as err:
            log.exception("updating %s on %s failed", ref.key, ref.platform)
            return Delivered(error=type(err).__name__)

    # --- recovery --------------------------------------------------------------------------

    async def recover(self) -> int:
        """Finish deliveries other replicas claimed and never finished; how many were done."""
        platforms = self.platforms
        if not platforms:
            return 0
        take = partial(
            self._records.take_stale_events,
            f"{self.replica}:sweep",
            platforms,
            lease_seconds=self.lease,
        )
        done = 0
        for event in await self._db.call(take):
            log.warning(
                "finishing %s late (attempt %s): its replica did not in %.0fs",
                event.key,
                event.attempts,
                self.lease,
            )
            try:
                work = load(event.work)
                if isinstance(work, Outgoing):
                    done += (await self._send_claimed(event.key, work)).error == ""
                else:
                    await self.answer(event.key, work, late=True)
                    done += 1
            except Exception:
                log.exception("finishing %s late failed; it stays open for a later sweep", event.key)
        return done

    async def forget_old(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Drop delivery claims older than a week (retries come within minutes); how many."""
        return await self._db.call(self._records.forget_events, older_than)
