"""A Teams conversation reference: enough to post to a user later, or to open a 1:1 chat."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.delivery.contacts import Contacts


@dataclass(frozen=True)
class Reference:
    service_url: str
    conversation_id: str
    conversation_type: str  # "personal", "channel" or "groupChat"
    bot_id: str
    teams_user_id: str  # "29:..." (what the connector wants; AAD ids key our records)
    tenant_id: str = ""

    @property
    def personal(self) -> bool:
        return self.conversation_type == "personal"

    @classmethod
    def of(cls, activity: dict[str, Any]) -> Reference:
        """The reference an incoming activity gives for its sender."""
        conversation = activity.get("conversation") or {}
        tenant = (activity.get("channelData") or {}).get("tenant") or {}
        return cls(
            service_url=str(activity.get("serviceUrl") or ""),
            conversation_id=str(conversation.get("id") or "").split(";")[0],
            conversation_type=str(conversation.get("conversationType") or "personal"),
            bot_id=str((activity.get("recipient") or {}).get("id") or ""),
            teams_user_id=str((activity.get("from") or {}).get("id") or ""),
            tenant_id=str(conversation.get("tenantId") or tenant.get("id") or ""),
        )

    @classmethod
    def load(cls, data: dict[str, Any] | None) -> Reference | None:
        try:
            return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__}) if data else None
        except (KeyError, TypeError):
            return None

    def save(self, contacts: Contacts, user_id: str) -> None:
        """Remember it for ``user_id``; a personal chat is never replaced by a channel."""
        keep = None if self.personal else lambda known: known.get("conversation_type") == "personal"
        contacts.save(user_id, self.conversation_id, asdict(self), unless=keep)
