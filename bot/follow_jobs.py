"""Serve's follow-through scheduler: every replica polls the schedule (``follow_messages``),
leases what is due and sends it through the one delivery pipeline with the key
``checkin:<row id>``, so a row goes out once across replicas, restarts and a kill mid-send.
A row is marked sent only once the pipeline's ledger says its message was posted (a send the
pipeline is still retrying leaves it due, looked at again after a pause).

A refusal that means the person cannot be reached (Slack ``user_not_found``,
``account_inactive``…, a Teams 403/404, no stored conversation) stops that person's schedule
and is logged; anything else (a 429 the courier already waited out, a network error) leaves
the row due for another try after a pause, up to ``follow.schedule.MAX_ATTEMPTS``.
Polling is one indexed query while nothing is due; ``kick`` wakes the loop at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot import follow_texts
from bot.delivery import Address, Delivered, Pipeline
from follow import schedule
from store import utcnow

if TYPE_CHECKING:
    from store.runner import Runner

log = logging.getLogger(__name__)

# Platform error codes that mean the person is gone or the bot was removed: stop, don't retry.
GONE = frozenset({
    "user_not_found", "users_not_found", "account_inactive", "user_disabled", "channel_not_found",
    "is_archived", "cannot_dm_bot", "not_in_channel", "user_is_restricted", "invalid_user",
    "no_conversation_reference", "forbidden", "not_found", "http_403", "http_404",
})  # fmt: skip


@dataclass
class SchedulerStats:
    polls: int = 0
    sent: int = 0
    repeated: int = 0
    stopped: int = 0
    retried: int = 0


class Scheduler:
    """Sends due follow-through messages; ``run_once`` is one poll."""

    def __init__(
        self,
        db: Runner,
        delivery: Pipeline,
        *,
        delay: timedelta,
        default_tz: str = "UTC",
        lease: timedelta = timedelta(seconds=60),
        replica: str = "",
    ) -> None:
        self.db, self.delivery, self.delay, self.default_tz = db, delivery, delay, default_tz
        self.lease = lease
        self.owner = replica or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stats = SchedulerStats()
        self._wake = asyncio.Event()

    def kick(self) -> None:
        """Poll now (something was just scheduled)."""
        self._wake.set()

    async def run_once(self, platform: str = "", user_id: str = "") -> int:
        """Send what is due now (only to ``platform``/``user_id`` when given: the terminal
        chat's own); how many went out. Never raises. Rows on platforms this replica has no
        courier for are left to a replica (or a terminal chat) that has one."""
        self.stats.polls += 1
        platforms = (platform,) if platform else self.delivery.platforms
        if not all(self.delivery.reaches(p) for p in platforms) or not platforms:
            return 0
        try:
            take = partial(schedule.take_due, owner=self.owner, lease=self.lease,
                           delay=self.delay, default_tz=self.default_tz,
                           platforms=platforms, user_id=user_id)  # fmt: skip
            due = await self.db.run(take)
        except Exception:
            log.exception("could not read the follow-through schedule")
            return 0
        sent = 0
        for item in due:
            sent += await self._send(item)
        return sent

    async def _send(self, item: schedule.Due) -> int:
        reply = follow_texts.message_for(item)
        try:
            delivered = await self.delivery.deliver(
                Address.direct(item.platform, item.user_id), reply, key=item.key
            )
        except Exception as err:  # the pipeline never raises; belt and braces
            log.exception("sending %s failed", item.key)
            delivered = Delivered(error=type(err).__name__)
        if delivered.repeated and delivered.ref is None:
            # Claimed before (a replica died mid-send, or the platform refused): the pipeline's
            # sweep sends it; look again after a pause, and mark it sent once it is done.
            delivered = Delivered(error="in_flight")
        try:
            if delivered.ok:
                await self.db.run(schedule.sent, item.id, self.owner)
                self.stats.sent += not delivered.repeated
                self.stats.repeated += delivered.repeated
                return 1
            gone = delivered.error in GONE
            state = await self.db.run(
                schedule.failed, item.id, self.owner, delivered.error, gone=gone
            )
        except Exception:
            log.exception("could not record how %s went; its lease will run out", item.key)
            return 0
        if gone:
            self.stats.stopped += 1
            log.warning("%s: %s/%s cannot be reached (%s): their check-ins are stopped",
                        item.key, item.platform, item.user_id, delivered.error)  # fmt: skip
        else:
            self.stats.retried += 1
            log.warning("%s not sent (%s, attempt %s); now %s",
                        item.key, delivered.error, item.attempts, state)  # fmt: skip
        return 0

    async def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less: until ``kick`` or the next row falls due."""
        try:
            upcoming = await self.db.run(schedule.next_due, self.delivery.platforms)
        except Exception:
            upcoming = None
        if upcoming is not None:
            seconds = max(0.05, min(seconds, (upcoming - utcnow()).total_seconds()))
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def forever(self, every: float = 30.0) -> None:
        """Serve's loop: poll, then sleep until something is due (at most ``every`` s)."""
        while True:
            await self.run_once()
            await self.wait(every)
