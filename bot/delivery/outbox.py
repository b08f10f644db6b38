"""The terminal's courier: proactive messages for the local chat wait in an outbox until the
chat shows them (before its next prompt), so a terminal check-in goes through the same
``deliver`` (and the same exactly-once ledger) as a Slack or Teams DM."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bot.delivery.addresses import Address, Delivered, MessageRef
from bot.messages import Reply
from retrieval.answer import Citation


class Outbox:
    """A ``Courier`` that keeps what it is sent for one local user; ``drain`` hands it over."""

    def __init__(self, platform: str = "terminal") -> None:
        self.platform = platform
        self._waiting: list[Reply] = []
        self._ids = itertools.count(1)

    async def send(self, to: Address, reply: Reply) -> Delivered:
        self._waiting.append(reply)
        return Delivered(ref=MessageRef(self.platform, to.user_id or to.conversation_id,
                                        f"outbox-{next(self._ids)}"))  # fmt: skip

    async def update(
        self, ref: MessageRef, reply: Reply, citations: Sequence[Citation] = ()
    ) -> Delivered:
        self._waiting.append(reply)  # a terminal cannot edit what it printed: show it again
        return Delivered(ref=ref)

    def streams(self, ref: MessageRef) -> bool:
        return False

    def drain(self) -> list[Reply]:
        waiting, self._waiting = self._waiting, []
        return waiting
