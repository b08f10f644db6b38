"""Where to reach a user directly later, per platform, kept in the shared database so that every
replica can send the direct messages another one learned how to send (Teams needs a stored
conversation reference; Slack needs none: a user id is enough)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import store

if TYPE_CHECKING:
    from store import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Contact:
    """A conversation with the user (``personal``) or one they wrote in, and what the platform
    needs to post there."""

    conversation_id: str
    personal: bool
    service_url: str = ""  # where the platform serves the conversation (Teams)
    bot_id: str = ""  # the bot's own id there
    user_ref: str = ""  # the platform's own id of the user (Teams "29:…"), to open a 1:1 chat
    tenant_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: Any) -> Contact | None:
        if not isinstance(data, dict) or "conversation_id" not in data:
            return None
        personal = data.get("personal", data.get("conversation_type") == "personal")
        user = data.get("user_ref") or data.get("teams_user_id")  # the latter: stored before 0.2
        return cls(str(data["conversation_id"]), bool(personal), str(data.get("service_url", "")),
                   str(data.get("bot_id", "")), str(user or ""), str(data.get("tenant_id", "")))  # fmt: skip


class Contacts:
    """One platform's contacts, by user id; each call is one transaction."""

    def __init__(self, database: Database, platform: str) -> None:
        self._database, self.platform = database, platform

    def get(self, user_id: str) -> Contact | None:
        with self._database.session() as s:
            row = store.get_conversation_ref(s, self.platform, user_id)
            return Contact.from_json(row.reference) if row is not None else None

    async def direct(
        self, user_id: str, open_chat: Callable[[Contact], Awaitable[str]]
    ) -> Contact | str:
        """The user's personal conversation: the stored one, or one ``open_chat`` opens from a
        conversation they wrote in (then stored); else an error code."""
        known = await asyncio.to_thread(self.get, user_id) if user_id else None
        if known is None:
            log.warning("no %s conversation reference for %s: they must write first",
                        self.platform, user_id)  # fmt: skip
            return "no_conversation_reference"
        if known.personal:
            return known
        opened = await open_chat(known)
        if not opened:
            return "create_conversation_failed"
        personal = replace(known, conversation_id=opened, personal=True)
        await asyncio.to_thread(self.save, user_id, personal)
        return personal

    def save(self, user_id: str, contact: Contact) -> None:
        """Remember ``contact``; a personal chat is never replaced by a channel."""
        with self._database.session() as s:
            if not contact.personal:
                row = store.get_conversation_ref(s, self.platform, user_id)
                known = Contact.from_json(row.reference) if row is not None else None
                if known is not None and known.personal:
                    return
            store.save_conversation_ref(
                s, self.platform, user_id, contact.conversation_id, contact.to_json()
            )
