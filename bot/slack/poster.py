"""Deliver replies through the Slack Web API, with errors a user can act on.

Rate limits (HTTP 429 + Retry-After) are retried by slack_sdk's retry handler; a per-channel
token bucket keeps bursts near Slack's ~1 message/second/channel. Errors that a user can fix
(``not_in_channel``, ``channel_not_found``) are explained to them in a DM; every failure is
logged with its channel and user, never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Incoming, Reply
from bot.render import blocks

log = logging.getLogger(__name__)

FIXABLE = {
    "not_in_channel": "I'm not a member of <#{channel}>. Invite me with `/invite @Staffroom` "
    "and ask again, or ask me here.",
    "channel_not_found": "I can't see <#{channel}> (it may be private). Invite me with "
    "`/invite @Staffroom` and ask again, or ask me here.",
    "is_archived": "<#{channel}> is archived, so I can't answer there. Ask me here instead.",
    "ratelimited": "Slack asked me to slow down, so my answer in <#{channel}> didn't go "
    "through. Please ask again in a minute.",
}
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """The Web API client every Slack call uses, with retries on 429, 5xx and dropped sockets."""
    return AsyncWebClient(
        token=token or None,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


class ChannelPacer:
    """A token bucket per channel: short bursts, then about one message per second."""

    def __init__(self, burst: int = 3, per_second: float = 1.0) -> None:
        self._burst, self._rate = burst, per_second
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    async def wait(self, channel: str) -> None:
        while True:
            now = time.monotonic()
            tokens, at = self._buckets.get(channel, (float(self._burst), now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens >= 1:
                self._buckets[channel] = (tokens - 1, now)
                return
            self._buckets[channel] = (tokens, now)
            await asyncio.sleep((1 - tokens) / self._rate)


class Poster:
    """Posts, updates and explains failures; returns the posted message's ts (or "")."""

    def __init__(self, client: AsyncWebClient, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self._pacer = pacer or ChannelPacer()

    async def post(self, reply: Reply, *, channel: str, user: str, thread_ts: str = "") -> str:
        message = blocks.reply_message(reply)
        thread = thread_ts if reply.in_thread and thread_ts else None
        await self._pacer.wait(channel)
        try:
            if reply.ephemeral:
                await self.client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread, **message
                )
                return ""
            response = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread, unfurl_links=False, **message
            )
            return str(response.get("ts", ""))
        except SlackApiError as err:
            await self._explain(err, "post", channel=channel, user=user)
        except NETWORK_ERRORS as err:
            log.error("Slack post failed: %r (channel=%s user=%s)", err, channel, user)
        return ""

    async def deliver(self, message: dict[str, Any], *, channel: str, thread_ts: str = "") -> str:
        """Post ``message``; its ts, or raises ``SlackApiError`` / a network error (for retries)."""
        await self._pacer.wait(channel)
        response = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts or None, unfurl_links=False, **message
        )
        return str(response.get("ts", ""))

    async def update(self, channel: str, ts: str, message: dict[str, Any]) -> bool:
        try:
            await self.client.chat_update(channel=channel, ts=ts, **message)
            return True
        except SlackApiError as err:
            await self._explain(err, "update", channel=channel, user="")
        except NETWORK_ERRORS as err:
            log.error("Slack update failed: %r (channel=%s ts=%s)", err, channel, ts)
        return False

    async def call(
        self, what: str, *, channel: str = "", user: str = "", **kwargs: Any
    ) -> dict[str, Any] | None:
        """Any other Web API method (views.open, views.publish, ...); None on failure."""
        try:
            response = await self.client.api_call(what, json=kwargs)
            return dict(response.data) if isinstance(response.data, dict) else {}
        except SlackApiError as err:
            await self._explain(err, what, channel=channel, user=user)
        except NETWORK_ERRORS as err:
            log.error("Slack %s failed: %r (channel=%s user=%s)", what, err, channel, user)
        return None

    async def _explain(self, err: SlackApiError, what: str, *, channel: str, user: str) -> None:
        code = str(err.response.get("error", "unknown")) if err.response is not None else "unknown"
        log.error("Slack %s failed: %s (channel=%s user=%s)", what, code, channel, user)
        hint = FIXABLE.get(code)
        if not hint or not user:
            return
        try:
            await self.client.chat_postMessage(channel=user, text=hint.format(channel=channel))
        except (SlackApiError, *NETWORK_ERRORS) as second:
            log.error(
                "could not tell %s why %s failed in %s: %s",
                user,
                what,
                channel,
                second,
            )


async def respond_privately(
    respond: Any, message: dict[str, Any], *, where: Incoming, replace: bool = False
) -> bool:
    """Post through response_url (ephemeral); False, logged, when Slack refuses."""
    try:
        result = await respond(response_type="ephemeral", replace_original=replace, **message)
    except Exception:
        log.exception(
            "response_url post failed (channel=%s user=%s)", where.conversation_id, where.user_id
        )
        return False
    if result.status_code != 200:
        log.error(
            "response_url post failed: HTTP %s %s (channel=%s user=%s)",
            result.status_code,
            result.body[:200],
            where.conversation_id,
            where.user_id,
        )
        return False
    return True
