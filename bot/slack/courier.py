"""The Slack ``Courier``: everything Staffroom posts or edits in Slack, over the Web API.
slack_sdk retries 429s (honouring Retry-After), 5xx and dropped sockets; a pacer keeps bursts
near Slack's ~1 message/s/channel. Errors the asker can fix (``not_in_channel``...) are explained
to them in a DM; every failure is logged with its channel and returned, never raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.delivery import Address, Delivered, MessageRef
from bot.delivery.pacing import ChannelPacer
from bot.grounded import Grounded
from bot.messages import Form, Reply
from bot.render import blocks, citations
from retrieval.answer import Citation

log = logging.getLogger(__name__)

PLATFORM = "slack"
Message = dict[str, Any]
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


class SlackCourier:
    """Posts, whispers, edits and opens modals; a refusal comes back as Slack's error code."""

    def __init__(self, token: str, api_url: str, pacer: ChannelPacer | None = None) -> None:
        retries = [AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                   AsyncServerErrorRetryHandler(max_retry_count=2),
                   AsyncConnectionErrorRetryHandler(max_retry_count=2)]  # fmt: skip
        url = api_url if api_url.endswith("/") else api_url + "/"
        self.client = AsyncWebClient(token=token or None, base_url=url, retry_handlers=retries)
        self._pacer = pacer or ChannelPacer()

    def streams(self, ref: MessageRef) -> bool:
        return not ref.reply_url  # a response_url takes only a few posts: the final one only

    async def send(self, to: Address, reply: Reply) -> Delivered:
        if reply.form and to.trigger_id and await self.open_form(to.trigger_id, reply.form):
            return Delivered()
        message = blocks.reply_message(reply)
        if to.reply_url:  # works even where the bot is not a channel member
            if not await self.respond(to.reply_url, message):
                return Delivered(error="response_url_failed")
            return Delivered(ref=MessageRef(PLATFORM, to.conversation_id, "command", to.reply_url))
        channel = to.conversation_id or to.user_id  # a user id posts into the app's DM
        asker, thread = (to.user_id if to.conversation_id else ""), to.thread_id or None
        await self._pacer.wait(channel)
        if to.whisper and asker:
            post = self.client.chat_postEphemeral(channel=channel, user=asker, thread_ts=thread,
                                                  **message)  # fmt: skip
            return Delivered(error=(await self._web("post", post, channel, asker))[1])
        post = self.client.chat_postMessage(channel=channel, thread_ts=thread, unfurl_links=False,
                                            **message)  # fmt: skip
        response, error = await self._web("post", post, channel, asker)
        if error or not response.get("ts"):
            return Delivered(error=error or "no_ts")
        # Edits need the channel Slack posted in: a user's DM is a D… channel, not the user id.
        posted_in = str(response.get("channel") or channel)
        return Delivered(ref=MessageRef(PLATFORM, posted_in, str(response["ts"])))

    async def update(
        self, ref: MessageRef, reply: Reply, cited: Sequence[Citation] = ()
    ) -> Delivered:
        message = citations.slack_message(Grounded(reply, tuple(cited)))
        if ref.reply_url:
            ok = await self.respond(ref.reply_url, message, replace=True)
            return Delivered(ref=ref) if ok else Delivered(error="response_url_failed")
        error = await self.edit(ref.conversation_id, ref.message_id, message)
        return Delivered(error=error) if error else Delivered(ref=ref)

    async def edit(self, channel: str, ts: str, message: Message) -> str:
        """``chat.update``; "" when it worked, else Slack's error code."""
        update = self.client.chat_update(channel=channel, ts=ts, **message)
        return (await self._web("update", update, channel))[1]

    async def respond(self, url: str, message: Message, *, replace: bool = False) -> bool:
        """Post privately through a response_url; False, logged, when Slack refuses."""
        body = {"response_type": "ephemeral", "replace_original": replace, **message}
        try:
            result = await AsyncWebhookClient(url).send_dict(body)
        except Exception:
            log.exception("response_url post failed")
            return False
        if result.status_code != 200:
            log.error("response_url post failed: HTTP %s %s", result.status_code, result.body[:200])
        return result.status_code == 200

    async def open_form(self, trigger_id: str, form: Form) -> bool:
        """Open ``form`` as a modal (within 3 s of the click); False when Slack refused."""
        view = blocks.form_view(form, {"form": form.form_id, "context": form.context})
        return await self.call("views.open", trigger_id=trigger_id, view=view) is not None

    async def call(self, method: str, *, read: bool = False, **params: Any) -> Message | None:
        """Any other Web API method (views.open; ``read``: usergroups.users.list); None: failed."""
        call = (self.client.api_call(method, http_verb="GET", params=params) if read
                else self.client.api_call(method, json=params))  # fmt: skip
        response, error = await self._web(method, call)
        return None if error else dict(response.data) if isinstance(response.data, dict) else {}

    async def usergroup_members(self, group_id: str) -> frozenset[str] | None:
        """The members of a user group (``usergroups:read``); None when they can't be read."""
        found = await self.call("usergroups.users.list", read=True, usergroup=group_id)
        return frozenset(str(u) for u in found.get("users") or ()) if found is not None else None

    async def _web(
        self, what: str, call: Awaitable[Any], channel: str = "", user: str = ""
    ) -> tuple[Any, str]:
        """(Slack's response, "") or (None, its error code), logged; a fixable one is explained
        to ``user`` (the asker) in a DM."""
        try:
            return await call, ""
        except SlackApiError as err:
            code = str(err.response.get("error", "unknown")) if err.response is not None else "?"
        except NETWORK_ERRORS as err:
            code = f"network_error ({err!r})"
        log.error("Slack %s failed: %s (channel=%s user=%s)", what, code, channel, user)
        hint = blocks.fix_hint(code, channel)
        if hint and user:
            try:
                await self.client.chat_postMessage(channel=user, text=hint)
            except (SlackApiError, *NETWORK_ERRORS) as second:
                log.error("could not tell %s why %s failed in %s: %s", user, what, channel, second)
        return None, code.split(" ")[0]
