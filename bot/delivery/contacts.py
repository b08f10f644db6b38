"""Where to reach a user directly later, per platform (a Teams conversation reference), kept in
the shared database so every replica can send the direct messages another one learned about."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import store

if TYPE_CHECKING:
    from store import Database


class Contacts:
    """One platform's references, by user id; each call is one transaction."""

    def __init__(self, database: Database, platform: str) -> None:
        self._database, self.platform = database, platform

    def get(self, user_id: str) -> dict[str, Any] | None:
        with self._database.session() as s:
            row = store.get_conversation_ref(s, self.platform, user_id)
            return dict(row.reference or {}) if row is not None else None

    def save(
        self,
        user_id: str,
        conversation_id: str,
        reference: dict[str, Any],
        *,
        unless: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Remember ``reference``; a stored one for which ``unless`` holds is kept instead."""
        with self._database.session() as s:
            if unless is not None:
                known = store.get_conversation_ref(s, self.platform, user_id)
                if known is not None and unless(dict(known.reference or {})):
                    return
            store.save_conversation_ref(s, self.platform, user_id, conversation_id, reference)
