"""Where to reach a Teams user later: conversation references kept in the shared database."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

import store

if TYPE_CHECKING:
    from store import Database

PLATFORM = "teams"


@dataclass(frozen=True)
class Reference:
    """Enough to post to a user proactively, or to open a 1:1 chat with them."""

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
    def load(cls, data: dict[str, Any]) -> Reference | None:
        try:
            return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None


class ConversationRefs(Protocol):
    def save(self, user_id: str, reference: Reference) -> None: ...

    def get(self, user_id: str) -> Reference | None: ...


class SqlConversationRefs:
    """``ConversationRefs`` on ``store``; a personal chat is never replaced by a channel."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, user_id: str, reference: Reference) -> None:
        with self._db.session() as s:
            if not reference.personal:
                known = store.get_conversation_ref(s, PLATFORM, user_id)
                if known is not None and (known.reference or {}).get("conversation_type") == (
                    "personal"
                ):
                    return
            store.save_conversation_ref(
                s, PLATFORM, user_id, reference.conversation_id, asdict(reference)
            )

    def get(self, user_id: str) -> Reference | None:
        with self._db.session() as s:
            row = store.get_conversation_ref(s, PLATFORM, user_id)
            return Reference.load(dict(row.reference or {})) if row is not None else None
