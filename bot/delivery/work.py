"""What a claimed delivery needs to be finished by any replica: ``Work`` (answer a message) or
``Outgoing`` (send a proactive reply), both kept as JSON in the delivery ledger until done."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.delivery.addresses import Address
from bot.messages import Incoming, Reply


@dataclass(frozen=True)
class Work:
    """A message to answer: the neutral ``Incoming``, where its replies go, how to route it."""

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
            reply_to="" if incoming.private else incoming.message_id,
        )
        return cls(incoming, reply_to, thread_hooks, answer)

    @classmethod
    def for_message(
        cls, incoming: Incoming, *, mentioned: bool, in_thread: bool, service_url: str = ""
    ) -> Work | None:
        """Is this message for us? The work it takes when it is, else None.

        A direct message always is. A mention is, and inside a thread the thread hooks see it
        first (a reply under a review post). Any other channel message is only when a thread
        hook knows its thread (review posts, design-question announcements).
        """
        if incoming.private:
            return cls.answering(incoming, service_url=service_url)
        if mentioned:
            return cls.answering(incoming, thread_hooks=in_thread, service_url=service_url)
        if in_thread:
            return cls.answering(incoming, thread_hooks=True, answer=False, service_url=service_url)
        return None

    def address_for(self, reply: Reply, *, whisper: bool | None = None, late: bool = False) -> Address:
        """Where one reply goes: its thread unless it is top-level; privately if it is private.

        ``whisper`` overrides the reply's own ``ephemeral`` (a click's answers in a channel are
        the clicker's alone). A late private reply goes to the asker's direct messages: a
        whisper is gone when the page reloads, and the asker may have left.
        """
        to = self.reply_to
        private = reply.ephemeral if whisper is None else whisper
        if late:
            if private and not self.incoming.private and to.user_id:
                return Address.direct(to.platform, to.user_id)
            private = False
        return replace(to, thread_id=to.thread_id if reply.in_thread else "", whisper=private)

    def to_json(self) -> dict[str, Any]:
        return {
            "incoming": asdict(self.incoming),
            "reply_to": asdict(self.reply_to),
            "thread_hooks": self.thread_hooks,
            "answer": self.answer,
        }


@dataclass(frozen=True)
class Outgoing:
    """A proactive message: ``reply`` sent to ``to`` as it is (a DM, a digest, a notification)."""

    to: Address
    reply: Reply

    def to_json(self) -> dict[str, Any]:
        return {"send": self.reply.to_json(), "to": asdict(self.to)}


def load(data: dict[str, Any]) -> Work | Outgoing:
    """A claim's work as ``to_json`` wrote it (older claims are all ``Work``)."""
    if "send" in data:
        return Outgoing(Address(**data["to"]), Reply.from_json(data["send"]))
    return Work(
        Incoming(**data["incoming"]),
        Address(**data["reply_to"]),
        bool(data.get("thread_hooks", False)),
        bool(data.get("answer", True)),
    )
