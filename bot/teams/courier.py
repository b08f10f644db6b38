"""The Teams ``Courier``: every card Staffroom posts or updates, over the Bot Connector REST API.

The connector client comes from botbuilder's authentication (a token when an app id is set,
none in local mode); 429 (honouring Retry-After) and 5xx are retried with backoff. A direct
message goes to the user's stored personal chat, opened from a channel reference if need be.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticationConstants as Claims
from botframework.connector.auth import BotFrameworkAuthentication, ClaimsIdentity
from msrest.exceptions import ClientRequestError

from bot.delivery import Address, Delivered, MessageRef
from bot.delivery.contacts import Contacts
from bot.delivery.retry import http_refusal, retrying
from bot.grounded import Grounded
from bot.messages import Reply
from bot.render import cards, citations
from bot.teams.incoming import PLATFORM, join_conversation, split_conversation
from bot.teams.refs import Reference
from retrieval.answer import Citation

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_SUMMARY = 2000  # what shows where cards cannot (notifications, some clients)


def card_activity(card: cards.Card, summary: str = "") -> Activity:
    """One Adaptive Card as a message; ``summary`` is what a notification or chat list shows."""
    return Activity(
        type=ActivityTypes.message,
        summary=cards.clip(summary, MAX_SUMMARY) if summary else None,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=card)],
    )


def message(reply: Reply, cited: Sequence[Citation] = ()) -> Activity:
    """A reply as a card, its answer's citations as small print."""
    reply = citations.teams_reply(Grounded(reply, tuple(cited)))
    return card_activity(cards.reply_card(reply), reply.text)


class TeamsCourier:
    """Sends and updates cards; a failure comes back as an error code, never raised."""

    def __init__(
        self,
        auth: BotFrameworkAuthentication,
        app_id: str,
        contacts: Contacts,
        service_url: str,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self._auth, self._app_id, self.contacts = auth, app_id, contacts
        self.service_url, self._attempts, self._backoff = service_url, attempts, backoff
        self._clients: dict[str, ConnectorClient] = {}
        self._service_urls: dict[str, str] = {}  # conversation id -> the URL Teams gave with it

    def remember(self, activity: dict[str, Any]) -> None:
        """The service URL Teams gives with an activity serves its conversation from now on."""
        url = activity.get("serviceUrl")
        if isinstance(url, str) and url:
            conversation = str((activity.get("conversation") or {}).get("id", ""))
            self._service_urls[split_conversation(conversation)[0]] = url

    def url_for(self, conversation: str) -> str:
        return self._service_urls.get(split_conversation(conversation)[0], self.service_url)

    def streams(self, ref: MessageRef) -> bool:
        return False  # a card is updated once, with the whole grounded answer

    async def send(self, to: Address, reply: Reply) -> Delivered:
        bot = ""
        if not to.conversation_id:  # a direct message: the user's personal chat
            found = await self._personal(to.user_id)
            if isinstance(found, Delivered):
                return found
            to, bot = Address(PLATFORM, found.conversation_id, service_url=found.service_url), found.bot_id
        conversation = join_conversation(to.conversation_id, to.thread_id)
        posted = await self.post(replace(to, conversation_id=conversation), message(reply), bot)
        return Delivered(ref=MessageRef(PLATFORM, conversation, posted)) if posted else (
            Delivered(error="send_failed"))  # fmt: skip

    async def update(
        self, ref: MessageRef, reply: Reply, cited: Sequence[Citation] = ()
    ) -> Delivered:
        ok = await self.replace(ref, message(reply, cited))
        return Delivered(ref=ref) if ok else Delivered(error="update_failed")

    async def post(self, to: Address, activity: Activity, bot_id: str = "") -> str:
        """Into ``to.conversation_id`` (replying to ``to.reply_to``): the new activity's id."""
        conversation = to.conversation_id
        client = await self._client(to.service_url or self.url_for(conversation))
        if bot_id:
            activity.from_property = ChannelAccount(id=bot_id)
        activity.conversation = ConversationAccount(id=conversation)
        calls = client.conversations
        call = (partial(calls.reply_to_activity, conversation, to.reply_to, activity)
                if to.reply_to else partial(calls.send_to_conversation, conversation, activity))  # fmt: skip
        response = await self._retrying(call, "send", conversation)
        return str(getattr(response, "id", "") or "")

    async def replace(self, ref: MessageRef, activity: Activity) -> bool:
        """Update the posted activity ``ref`` in place."""
        client = await self._client(self.url_for(ref.conversation_id))
        activity.id = ref.message_id
        activity.conversation = ConversationAccount(id=ref.conversation_id)
        update = partial(client.conversations.update_activity, ref.conversation_id,
                         ref.message_id, activity)  # fmt: skip
        return await self._retrying(update, "update", ref.conversation_id) is not None

    async def close(self) -> None:
        for client in self._clients.values():
            try:
                await client.close()
            except Exception:  # closing is best effort at shutdown
                log.debug("connector client close failed", exc_info=True)
        self._clients.clear()

    async def _personal(self, user_id: str) -> Reference | Delivered:
        """The user's personal chat, opening one from a channel reference when needed."""
        known = Reference.load(await asyncio.to_thread(self.contacts.get, user_id))
        if known is None:
            log.warning("no Teams conversation reference for %s: they must write first", user_id)
            return Delivered(error="no_conversation_reference")
        if known.personal:
            return known
        client, tenant = await self._client(known.service_url), known.tenant_id
        parameters = ConversationParameters(
            is_group=False, bot=ChannelAccount(id=known.bot_id),
            members=[ChannelAccount(id=known.teams_user_id)], tenant_id=tenant or None,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )  # fmt: skip
        create = partial(client.conversations.create_conversation, parameters)
        created = await self._retrying(create, "create conversation", user_id)
        opened = str(getattr(created, "id", "") or "")
        if not opened:
            return Delivered(error="create_conversation_failed")
        personal = replace(known, conversation_id=opened, conversation_type="personal")
        await asyncio.to_thread(personal.save, self.contacts, user_id)
        return personal

    async def _client(self, service_url: str) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is None:
            claims = {Claims.AUDIENCE_CLAIM: self._app_id, Claims.APP_ID_CLAIM: self._app_id}
            factory = self._auth.create_connector_factory(ClaimsIdentity(claims, True))
            client = await factory.create(service_url, self._auth.get_originating_audience())
            self._clients[service_url] = client
        return client

    async def _retrying(self, call: Callable[[], Awaitable[T]], what: str, where: str) -> T | None:
        refused = partial(http_refusal, where=f"conversation={where}", network=(ClientRequestError,))
        return await retrying(call, refused, what=f"Teams {what}", attempts=self._attempts,
                              backoff=self._backoff)  # fmt: skip
