"""The Teams ``Courier``: every card Staffroom posts or updates, over the Bot Connector REST API.
The connector client comes from botbuilder's authentication (a token when an app id is set,
none in local mode); 429 (honouring Retry-After) and 5xx are retried with backoff. A direct
message goes to the user's stored personal chat, opened from a channel reference if need be."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticationConstants as Claims
from botframework.connector.auth import BotFrameworkAuthentication, ClaimsIdentity
from msrest.exceptions import ClientRequestError

from bot.delivery import Address, Delivered, MessageRef
from bot.delivery.contacts import Contact, Contacts
from bot.delivery.retry import http_refusal, retrying
from bot.messages import Reply
from bot.render import citations
from bot.teams.incoming import PLATFORM, join_conversation, split_conversation
from retrieval.answer import Citation

T = TypeVar("T")
Json = dict[str, Any]


class TeamsCourier:
    """Sends and updates cards; a failure comes back as an error code, never raised."""

    def __init__(self, auth: BotFrameworkAuthentication, app_id: str, contacts: Contacts,
                 service_url: str, *, attempts: int = 4, backoff: float = 0.5) -> None:  # fmt: skip
        self._auth, self._app_id, self.contacts = auth, app_id, contacts
        self.service_url, self._attempts, self._backoff = service_url, attempts, backoff
        self._clients: dict[str, ConnectorClient] = {}
        self._service_urls: dict[str, str] = {}  # conversation id -> the URL Teams gave with it

    def remember(self, activity: dict[str, Any]) -> None:
        """The service URL Teams gives with an activity serves its conversation from now on."""
        if isinstance(url := activity.get("serviceUrl"), str) and url:
            conversation = str((activity.get("conversation") or {}).get("id", ""))
            self._service_urls[split_conversation(conversation)[0]] = url

    def url_for(self, conversation: str) -> str:
        return self._service_urls.get(split_conversation(conversation)[0], self.service_url)

    def streams(self, ref: MessageRef) -> bool:
        return False  # a card is updated once, with the whole grounded answer

    async def send(self, to: Address, reply: Reply) -> Delivered:
        bot = ""
        if not to.conversation_id:  # a direct message: the user's personal chat
            found = await self.contacts.direct(to.user_id, self._open_chat)
            if isinstance(found, str):
                return Delivered(error=found)
            to = Address(PLATFORM, found.conversation_id, service_url=found.service_url)
            bot = found.bot_id
        conversation = join_conversation(to.conversation_id, to.thread_id)
        message = citations.teams_message(reply)
        posted = await self.post(replace(to, conversation_id=conversation), message, bot)
        if not posted:
            return Delivered(error="send_failed")
        return Delivered(ref=MessageRef(PLATFORM, conversation, posted))

    async def update(
        self, ref: MessageRef, reply: Reply, cited: Sequence[Citation] = ()
    ) -> Delivered:
        ok = await self.replace(ref, citations.teams_message(reply, tuple(cited)))
        return Delivered(ref=ref) if ok else Delivered(error="update_failed")

    async def post(self, to: Address, message: Json, bot_id: str = "") -> str:
        """Into ``to.conversation_id`` (replying to ``to.reply_to``): the new activity's id."""
        conversation, activity = to.conversation_id, Activity().deserialize(message)
        client = await self._client(to.service_url or self.url_for(conversation))
        if bot_id:
            activity.from_property = ChannelAccount(id=bot_id)
        activity.conversation = ConversationAccount(id=conversation)
        calls = client.conversations
        call = (partial(calls.reply_to_activity, conversation, to.reply_to, activity)
                if to.reply_to else partial(calls.send_to_conversation, conversation, activity))  # fmt: skip
        response = await self._retrying(call, "send", conversation)
        return str(getattr(response, "id", "") or "")

    async def replace(self, ref: MessageRef, message: Json) -> bool:
        """Update the posted activity ``ref`` in place."""
        client = await self._client(self.url_for(ref.conversation_id))
        activity = Activity().deserialize(message)
        activity.id = ref.message_id
        activity.conversation = ConversationAccount(id=ref.conversation_id)
        update = partial(client.conversations.update_activity, ref.conversation_id,
                         ref.message_id, activity)  # fmt: skip
        return await self._retrying(update, "update", ref.conversation_id) is not None

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        closing = (c.__aexit__(None, None, None) for c in clients)  # msrest's close
        await asyncio.gather(*closing, return_exceptions=True)  # best effort at shutdown

    async def _open_chat(self, known: Contact) -> str:
        """A 1:1 chat with the user ``known`` from a channel (Teams returns an existing one)."""
        client, tenant = await self._client(known.service_url), known.tenant_id
        parameters = ConversationParameters(
            is_group=False, bot=ChannelAccount(id=known.bot_id),
            members=[ChannelAccount(id=known.user_ref)], tenant_id=tenant or None,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )  # fmt: skip
        create = partial(client.conversations.create_conversation, parameters)
        created = await self._retrying(create, "create conversation", known.user_ref)
        return str(getattr(created, "id", "") or "")

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
