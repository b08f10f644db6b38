"""The Teams ``Courier``: the core's own messages (review posts, thread notes, author DMs).

A direct message goes to the personal chat stored for the user (``ConversationRefs``); when
only a channel reference is known, a 1:1 chat is created first (Teams returns the existing
one). A message ``ref`` is "<conversation id>:<activity id>", as on every platform.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.messages import Reply
from bot.outbox import Address, Delivered, message_ref, split_ref
from bot.teams.activities import message
from bot.teams.incoming import join_conversation
from bot.teams.refs import Reference
from bot.teams.sender import Where

if TYPE_CHECKING:
    from bot.teams.app import TeamsFrontEnd

log = logging.getLogger(__name__)


class TeamsCourier:
    """Sends and updates cards; a failure comes back as an error code, never raised."""

    def __init__(self, front: TeamsFrontEnd) -> None:
        self._front = front

    async def send(self, to: Address, reply: Reply) -> Delivered:
        if to.conversation_id:
            conversation = to.conversation_id
            where = Where(
                to.service_url or self._front.service_url_for(conversation),
                join_conversation(conversation, to.thread_id),
            )
        else:
            found = await self._personal(to.user_id)
            if isinstance(found, Delivered):
                return found
            conversation, where = (
                found.conversation_id,
                Where(found.service_url, found.conversation_id, bot_id=found.bot_id),
            )
        posted = await self._front.sender.send(where, message(reply))
        return (
            Delivered(ref=message_ref(conversation, posted))
            if posted
            else Delivered(error="send_failed")
        )

    async def update(self, ref: str, reply: Reply) -> Delivered:
        conversation, activity_id = split_ref(ref)
        where = Where(self._front.service_url_for(conversation), conversation)
        ok = await self._front.sender.update(where, activity_id, message(reply))
        return Delivered(ref=ref) if ok else Delivered(error="update_failed")

    async def _personal(self, user_id: str) -> Reference | Delivered:
        """The user's personal chat, opening one from a channel reference when needed."""
        refs = self._front.refs
        known = await asyncio.to_thread(refs.get, user_id) if user_id else None
        if known is None:
            log.warning(
                "no Teams conversation reference for %s; they must message me first", user_id
            )
            return Delivered(error="no_conversation_reference")
        if known.personal:
            return known
        opened = await self._front.sender.open_personal(
            known.service_url,
            bot_id=known.bot_id,
            user_id=known.teams_user_id,
            tenant_id=known.tenant_id,
        )
        if not opened:
            return Delivered(error="create_conversation_failed")
        personal = replace(known, conversation_id=opened, conversation_type="personal")
        await asyncio.to_thread(refs.save, user_id, personal)
        return personal
