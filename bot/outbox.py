"""Messages the core sends on its own: review posts, thread notes, direct messages to authors.

Answers to a message go back through the front-end that received it; everything else goes
through the ``Courier`` each front-end registers for its platform. A message's ``ref`` is
"<conversation id>:<message id>" on every platform, so a thread can be found again after a
restart from the reference alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.messages import Reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Address:
    """Where to send: a conversation (optionally a thread in it), or a user's direct messages."""

    platform: str
    conversation_id: str = ""
    thread_id: str = ""
    user_id: str = ""  # with no conversation: a direct message to this user
    service_url: str = ""  # the endpoint serving this conversation, where it has one (Teams)

    @classmethod
    def direct(cls, platform: str, user_id: str) -> Address:
        return cls(platform, user_id=user_id)

    @classmethod
    def thread_of(cls, platform: str, ref: str) -> Address:
        """The thread under the message ``ref``."""
        conversation, message = split_ref(ref)
        return cls(platform, conversation, thread_id=message)


@dataclass(frozen=True)
class Delivered:
    """A send's outcome: the message's ``ref`` or, when it failed, the platform's error code."""

    ref: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.ref)


class Courier(Protocol):
    """One platform's delivery, implemented by its front-end."""

    async def send(self, to: Address, reply: Reply) -> Delivered: ...

    async def update(self, ref: str, reply: Reply) -> Delivered: ...


def message_ref(conversation_id: str, message_id: str) -> str:
    return f"{conversation_id}:{message_id}"


def split_ref(ref: str) -> tuple[str, str]:
    """(conversation id, message id); conversation ids may hold colons, message ids do not."""
    conversation, _, message = ref.rpartition(":")
    return conversation, message


class Outbox:
    """Couriers by platform; a platform with none (the terminal) reports a failed delivery."""

    def __init__(self) -> None:
        self._couriers: dict[str, Courier] = {}

    def register(self, platform: str, courier: Courier) -> None:
        self._couriers[platform] = courier

    def reaches(self, platform: str) -> bool:
        return platform in self._couriers

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._couriers)

    async def send(self, to: Address, reply: Reply) -> Delivered:
        """Never raises: a failure is logged and returned."""
        courier = self._couriers.get(to.platform)
        if courier is None:
            return Delivered(error=f"no_courier_for_{to.platform or 'platform'}")
        try:
            return await courier.send(to, reply)
        except Exception as err:
            log.exception("sending to %s failed", to)
            return Delivered(error=type(err).__name__)

    async def update(self, platform: str, ref: str, reply: Reply) -> Delivered:
        courier = self._couriers.get(platform)
        if courier is None:
            return Delivered(error=f"no_courier_for_{platform or 'platform'}")
        try:
            return await courier.update(ref, reply)
        except Exception as err:
            log.exception("updating %s on %s failed", ref, platform)
            return Delivered(error=type(err).__name__)
