"""The Slack ``Courier``: the core's own messages (review posts, thread notes, DMs) over the Web API."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.messages import Reply
from bot.outbox import Address, Delivered, message_ref, split_ref
from bot.render import blocks
from bot.slack.poster import NETWORK_ERRORS, Poster

log = logging.getLogger(__name__)


class SlackCourier:
    """Sends and updates messages; a refusal comes back as Slack's error code, never raised."""

    def __init__(self, poster: Poster) -> None:
        self._poster = poster

    async def send(self, to: Address, reply: Reply) -> Delivered:
        # A user id as the channel posts into the app's DM with that user.
        channel = to.conversation_id or to.user_id
        try:
            ts = await self._poster.deliver(
                blocks.reply_message(reply), channel=channel, thread_ts=to.thread_id
            )
        except SlackApiError as err:
            code = (
                str(err.response.get("error", "unknown")) if err.response is not None else "unknown"
            )
            log.error("Slack post to %s failed: %s", channel, code)
            return Delivered(error=code)
        except NETWORK_ERRORS as err:
            log.error("Slack post to %s failed: %r", channel, err)
            return Delivered(error="network_error")
        return Delivered(ref=message_ref(channel, ts)) if ts else Delivered(error="no_ts")

    async def update(self, ref: str, reply: Reply) -> Delivered:
        channel, ts = split_ref(ref)
        ok = await self._poster.update(channel, ts, blocks.reply_message(reply))
        return Delivered(ref=ref) if ok else Delivered(error="update_failed")
