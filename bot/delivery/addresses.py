"""Where a message goes (``Address``), what the platform called it once sent (``MessageRef``),
how a send went (``Delivered``), and the ``Courier`` each platform's front-end implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.messages import Reply
from retrieval.answer import Citation


@dataclass(frozen=True)
class Address:
    """Where to send: a conversation (optionally a thread in it), or a user's direct messages.

    The last four fields are hints a platform gives with a message; a courier that has no use
    for one ignores it.
    """

    platform: str
    conversation_id: str = ""
    thread_id: str = ""
    user_id: str = ""  # with no conversation: a direct message to this user; else who asked
    service_url: str = ""  # Teams: the endpoint serving this conversation
    whisper: bool = False  # only ``user_id`` sees it (Slack: ephemeral); else shown to everyone
    reply_url: str = ""  # Slack: a response_url; replies go through it, privately
    trigger_id: str = ""  # Slack: a click's trigger id; a reply's form opens as a modal
    reply_to: str = ""  # the message answered (Teams replies to an activity in its thread)

    @classmethod
    def direct(cls, platform: str, user_id: str) -> Address:
        return cls(platform, user_id=user_id)

    @classmethod
    def thread_of(cls, ref: MessageRef) -> Address:
        """The thread under the message ``ref``."""
        return cls(ref.platform, ref.conversation_id, thread_id=ref.message_id)


@dataclass(frozen=True)
class MessageRef:
    """A sent message as its platform named it, so it can be edited or replied under later.

    Slack: the channel id and ts that ``chat.postMessage`` returned (a DM's ``D…`` channel,
    never the user id it was sent to). Teams: the conversation id and the activity id.
    """

    platform: str
    conversation_id: str
    message_id: str
    reply_url: str = ""  # posted through a Slack response_url: edited through it too

    @property
    def key(self) -> str:
        """ "<conversation id>:<message id>", the form the database keeps (``reply_ref``...)."""
        return f"{self.conversation_id}:{self.message_id}"

    @classmethod
    def parse(cls, platform: str, key: str) -> MessageRef:
        """The ref stored as ``key``; conversation ids may hold colons, message ids do not."""
        conversation, _, message = key.rpartition(":")
        return cls(platform, conversation, message)

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "conversation_id": self.conversation_id,
                "message_id": self.message_id}  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> MessageRef | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(str(data["platform"]), str(data["conversation_id"]), str(data["message_id"]))
        except KeyError:
            return None


@dataclass(frozen=True)
class Delivered:
    """A send's outcome: the sent message's ``ref``, or the platform's error code.

    A private reply (a whisper, a form opened as a modal) is delivered with neither: there is
    nothing to edit later. ``repeated``: the key had been delivered before (``ref`` is that
    first message's, when known); nothing was sent this time.
    """

    ref: MessageRef | None = None
    error: str = ""
    repeated: bool = False

    @property
    def ok(self) -> bool:
        return self.ref is not None


class Courier(Protocol):
    """One platform's delivery, implemented by its front-end; never raises for a refusal."""

    async def send(self, to: Address, reply: Reply) -> Delivered:
        """Post ``reply`` at ``to``."""
        ...

    async def update(
        self, ref: MessageRef, reply: Reply, citations: Sequence[Citation] = ()
    ) -> Delivered:
        """Replace the message ``ref`` with ``reply`` (its answer's ``citations`` linked)."""
        ...

    def streams(self, ref: MessageRef) -> bool:
        """Whether ``ref`` may be edited as a synthesized answer streams in (≤ 1 edit/s)."""
        ...
