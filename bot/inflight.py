"""Messages acknowledged but not answered yet, kept so that no replica's death loses one.

Slack and Teams get their 200 at once and the answer comes after; neither delivers a message
again once it was acknowledged. So a front-end claims each message with its ``Work`` (the
neutral ``Incoming``, where the replies go, how to route it) and the claim stays open until the
replies are posted. Every replica sweeps open claims whose lease ran out (the replica holding
them died or hung) and answers them through the ``Outbox``, with a note saying why it is late.

A message whose handling had already changed something before the crash (a pitch step saved)
is handled again on takeover; the window is the few milliseconds between that write and the
post, and each message is taken over at most twice (``bot.records.MAX_ATTEMPTS``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.messages import Incoming, Reply
from bot.outbox import Address

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)

LATE_NOTE = "Sorry this is late: the server that first took your message restarted."


@dataclass(frozen=True)
class Work:
    """What a replica needs to answer a claimed message it did not receive itself."""

    incoming: Incoming
    reply_to: Address  # the conversation and thread the answer goes to
    thread_hooks: bool = False  # offer it to the thread hooks first (a reply in a thread)
    answer: bool = True  # answer it as a message when no thread hook knows the thread

    @classmethod
    def answering(
        cls,
        incoming: Incoming,
        *,
        thread_hooks: bool = False,
        answer: bool = True,
        service_url: str = "",
    ) -> Work:
        """Work whose replies go where ``incoming`` came from: its conversation and thread."""
        reply_to = Address(
            incoming.platform,
            incoming.conversation_id,
            incoming.thread_id,
            user_id=incoming.user_id,
            service_url=service_url,
        )
        return cls(incoming, reply_to, thread_hooks, answer)

    def to_json(self) -> dict[str, Any]:
        return {
            "incoming": asdict(self.incoming),
            "reply_to": asdict(self.reply_to),
            "thread_hooks": self.thread_hooks,
            "answer": self.answer,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Work:
        return cls(
            Incoming(**data["incoming"]),
            Address(**data["reply_to"]),
            bool(data.get("thread_hooks", False)),
            bool(data.get("answer", True)),
        )


def address_for(work: Work, reply: Reply) -> Address:
    """Where one reply goes: its thread unless it is top-level, the user's DMs if private."""
    to = work.reply_to
    if reply.ephemeral and not work.incoming.private and to.user_id:
        return Address.direct(to.platform, to.user_id)  # meant for the asker's eyes only
    return replace(to, thread_id=to.thread_id if reply.in_thread else "")


async def answer_late(core: Core, key: str, work: Work) -> int:
    """Handle ``work`` again and deliver its replies through the outbox; how many were posted."""
    replies = await core.respond(work.incoming, thread_hooks=work.thread_hooks, answer=work.answer)
    sent: list[tuple[Reply, str]] = []
    for i, reply in enumerate(replies):
        if i == 0:
            reply = replace(reply, notes=(*reply.notes, LATE_NOTE))
        delivered = await core.outbox.send(address_for(work, reply), reply)
        if not delivered.ok:
            log.error("late answer to %s not delivered: %s", key, delivered.error)
        sent.append((reply, delivered.ref))
    for reply, ref in await core.answered(key, sent):
        grounded = await core.ground(reply)
        if grounded is not None:
            await core.outbox.update(work.reply_to.platform, ref, grounded.reply)
    return sum(1 for _, ref in sent if ref)
