"""Posts to the Bot Connector REST API: replies, in-place updates, new 1:1 chats, with retries.

Every outbound call goes through here, whether it answers a message or is proactive. The
connector client comes from botbuilder's authentication (a token when an app id is set, none
in local mode). 429 (honouring Retry-After) and 5xx are retried with exponential backoff; what
still fails is logged with its conversation, never raised to the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import aiohttp
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class Where:
    """A conversation to post into; ``reply_to`` keeps a channel reply chain ("" = new post)."""

    service_url: str
    conversation_id: str
    reply_to: str = ""
    bot_id: str = ""


class Sender:
    """Sends activities; returns the posted activity's id, or "" when it could not be posted."""

    def __init__(
        self,
        auth: BotFrameworkAuthentication,
        app_id: str,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self._auth, self._app_id = auth, app_id
        self._attempts, self._backoff = attempts, backoff
        self._clients: dict[str, ConnectorClient] = {}

    async def send(self, where: Where, activity: Activity) -> str:
        client = await self._client(where.service_url)
        if where.bot_id:
            activity.from_property = ChannelAccount(id=where.bot_id)
        activity.conversation = ConversationAccount(id=where.conversation_id)
        conversations = client.conversations
        call = (
            partial(
                conversations.reply_to_activity, where.conversation_id, where.reply_to, activity
            )
            if where.reply_to
            else partial(conversations.send_to_conversation, where.conversation_id, activity)
        )
        response = await self._retrying(call, "send", where.conversation_id)
        return str(getattr(response, "id", "") or "") if response is not None else ""

    async def update(self, where: Where, activity_id: str, activity: Activity) -> bool:
        client = await self._client(where.service_url)
        activity.id = activity_id
        activity.conversation = ConversationAccount(id=where.conversation_id)
        response = await self._retrying(
            lambda: client.conversations.update_activity(
                where.conversation_id, activity_id, activity
            ),
            "update",
            where.conversation_id,
        )
        return response is not None

    async def open_personal(
        self, service_url: str, *, bot_id: str, user_id: str, tenant_id: str
    ) -> str:
        """The 1:1 chat with ``user_id`` (Teams returns the existing one); "" on failure."""
        client = await self._client(service_url)
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot_id),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant_id or None,
            channel_data={"tenant": {"id": tenant_id}} if tenant_id else None,
        )
        response = await self._retrying(
            lambda: client.conversations.create_conversation(parameters),
            "create conversation",
            user_id,
        )
        return str(getattr(response, "id", "") or "") if response is not None else ""

    async def close(self) -> None:
        for client in self._clients.values():
            try:
                await client.close()
            except Exception:  # closing is best effort at shutdown
                log.debug("connector client close failed", exc_info=True)
        self._clients.clear()

    async def _client(self, service_url: str) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is None:
            claims = ClaimsIdentity(
                {
                    AuthenticationConstants.AUDIENCE_CLAIM: self._app_id,
                    AuthenticationConstants.APP_ID_CLAIM: self._app_id,
                },
                True,
            )
            factory = self._auth.create_connector_factory(claims)
            client = await factory.create(service_url, self._auth.get_originating_audience())
            self._clients[service_url] = client
        return client

    async def _retrying(self, call: Callable[[], Awaitable[T]], what: str, where: str) -> T | None:
        for attempt in range(1, self._attempts + 1):
            try:
                return await call()
            except HttpOperationError as err:
                status, retry_after = _status(err)
                if status not in RETRY_STATUSES or attempt == self._attempts:
                    log.error("Teams %s failed: HTTP %s (conversation=%s)", what, status, where)
                    return None
                delay = (
                    retry_after if retry_after is not None else self._backoff * 2 ** (attempt - 1)
                )
            except (TimeoutError, ClientRequestError, aiohttp.ClientError) as err:
                if attempt == self._attempts:
                    log.error("Teams %s failed: %r (conversation=%s)", what, err, where)
                    return None
                delay = self._backoff * 2 ** (attempt - 1)
            log.warning(
                "Teams %s to %s refused (attempt %s); retrying in %.1fs",
                what,
                where,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
        return None


def _status(err: HttpOperationError) -> tuple[int, float | None]:
    """The HTTP status and the Retry-After seconds (capped) of a connector error."""
    response: Any = err.response
    status = int(getattr(response, "status", 0) or getattr(response, "status_code", 0) or 0)
    headers = getattr(response, "headers", None) or {}
    try:
        retry_after = min(float(headers.get("Retry-After")), MAX_RETRY_AFTER)
    except (TypeError, ValueError):
        retry_after = None
    return status, retry_after
