"""The Slack front-end: bolt listeners that translate, call the core, render and deliver.

Every listener acknowledges first (events are acked by bolt before the listener runs) and does
the slow work after, so Slack always gets its answer within 3 seconds. Event retries are
dropped by ``event_id`` through the shared database, so a retry never answers twice, even after
a restart or on another server process; and an event whose process died before answering is
answered by another replica (``bot/inflight.py``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core import Core
from bot.flows.home import RecentSessions, UserIdeas, build_home
from bot.grounded import Throttle
from bot.inflight import Work
from bot.messages import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    Incoming,
    Reply,
)
from bot.outbox import Address
from bot.render import blocks, citations
from bot.slack import incoming as to_incoming
from bot.slack.courier import SlackCourier
from bot.slack.guard import BadBody, check_body
from bot.slack.interactive import Interactions
from bot.slack.poster import ChannelPacer, Poster, respond_privately, web_client

log = logging.getLogger(__name__)

SHORTCUT_ID = "ask_staffroom"


class SlackFrontEnd:
    """The bolt app and the aiohttp handler for ``POST /slack/events``."""

    def __init__(
        self,
        core: Core,
        *,
        signing_secret: str,
        token: str,
        api_url: str,
        command: str = "/pd",
        recent: RecentSessions | None = None,
        ideas: UserIdeas | None = None,
        pacer: ChannelPacer | None = None,
    ) -> None:
        self.core = core
        self.poster = Poster(web_client(token, api_url), pacer)
        self._recent, self._ideas = recent, ideas
        self.app = AsyncApp(signing_secret=signing_secret, client=self.poster.client)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.event("app_home_opened")(self._on_home)
        self.app.command(command)(self._on_command)
        self.app.shortcut(SHORTCUT_ID)(self._on_shortcut)
        self.app.action(FEEDBACK_HELPFUL)(self._on_feedback)
        self.app.action(FEEDBACK_NOT_HELPFUL)(self._on_feedback)
        self.interactions = Interactions(core, self.poster)
        self.interactions.attach(self.app)
        core.outbox.register(to_incoming.PLATFORM, SlackCourier(self.poster))

    async def handle_http(self, request: web.Request) -> web.Response:
        """Check the body's shape, then let bolt verify the signature and dispatch."""
        try:
            body = check_body(request.content_type, await request.read())
        except BadBody as bad:
            log.warning("rejected Slack request from %s: %s", request.remote, bad)
            return web.json_response({"ok": False, "error": str(bad)}, status=bad.status)
        bolt_request = AsyncBoltRequest(
            body=body,
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    # --- events -------------------------------------------------------------------------

    async def _on_mention(self, body: dict[str, Any], context: dict[str, Any]) -> None:
        incoming = to_incoming.from_event(body, context.get("bot_user_id") or "")
        # A mention inside a thread may be a reply to a review post: the thread hooks go first.
        await self._take(body, incoming, thread_hooks=to_incoming.in_thread(body["event"]))

    async def _on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]
    ) -> None:
        bot_user = context.get("bot_user_id") or ""
        if to_incoming.skip_message(event):
            return
        if event.get("channel_type") != "im":
            # Channel replies matter only in threads we know (review posts, announcements);
            # one that mentions us arrives as app_mention too and is handled there.
            mentioned = bool(bot_user) and f"<@{bot_user}>" in str(event.get("text", ""))
            if to_incoming.in_thread(event) and not mentioned:
                incoming = to_incoming.from_event(body, bot_user)
                await self._take(body, incoming, thread_hooks=True, answer=False)
            return
        await self._take(body, to_incoming.from_event(body, bot_user))

    async def _take(
        self,
        body: dict[str, Any],
        incoming: Incoming,
        *,
        thread_hooks: bool = False,
        answer: bool = True,
    ) -> None:
        """Claim the event (a retry some process already took is dropped), reply, mark it done.

        The claim keeps what is needed to answer, so if this process dies before the replies
        are posted another replica answers instead (``Core.recover``).
        """
        key = f"slack:{body.get('event_id', '')}"
        reply_to = Address(
            to_incoming.PLATFORM,
            incoming.conversation_id,
            incoming.thread_id,
            user_id=incoming.user_id,
        )
        work = Work(incoming, reply_to, thread_hooks=thread_hooks, answer=answer)
        if not await self.core.claim(key, to_incoming.PLATFORM, work):
            log.info("dropped a repeated delivery of %s", key)
            return
        replies = await self.core.respond(incoming, thread_hooks=thread_hooks, answer=answer)
        posted = []
        for reply in replies:
            ts = await self.poster.post(
                reply,
                channel=incoming.conversation_id,
                user=incoming.user_id,
                thread_ts=incoming.thread_id,
            )
            posted.append((reply, ts))
        await self.core.finish(key)
        for reply, ts in posted:
            if ts and reply.question_id is not None:
                await self.core.attach_reply(reply.question_id, f"{incoming.conversation_id}:{ts}")
                await self._ground(reply, incoming.conversation_id, ts)

    async def _on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        home = await asyncio.to_thread(
            build_home, to_incoming.PLATFORM, event["user"], recent=self._recent, ideas=self._ideas
        )
        await self.poster.call(
            "views.publish", user=event["user"], user_id=event["user"], view=blocks.home_view(home)
        )

    async def _ground(self, reply: Reply, channel: str, ts: str) -> None:
        """Edit the posted answer in place as a synthesized one streams in (≤ 1 edit/s)."""

        async def update(message: dict[str, Any]) -> None:
            await self.poster.update(channel, ts, message)

        edits: Throttle[dict[str, Any]] = Throttle(update)
        grounded = await self.core.ground(
            reply, on_delta=lambda partial: edits.offer(blocks.reply_message(partial))
        )
        if grounded is not None:
            await edits.finish(citations.slack_message(grounded))
        elif edits.sent:  # a stream that broke off: put the extractive answer back
            await edits.finish(blocks.reply_message(reply))

    # --- slash command, shortcut, buttons ---------------------------------------------------

    async def _on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        incoming = to_incoming.from_command(command)
        for reply in await self.core.handle(incoming):
            if reply.form is not None and await self.interactions.open(
                str(command.get("trigger_id", "")), reply.form, incoming
            ):
                continue
            # Replies go through response_url: they work even where the bot is not a member.
            if (
                await respond_privately(respond, blocks.reply_message(reply), where=incoming)
                and reply.question_id
            ):
                await self.core.attach_reply(
                    reply.question_id, f"{incoming.conversation_id}:command"
                )
                # response_url takes only a few posts: no streamed edits, just the final one.
                grounded = await self.core.ground(reply)
                if grounded is not None:
                    await respond_privately(
                        respond, citations.slack_message(grounded), where=incoming, replace=True
                    )

    async def _on_shortcut(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        incoming = to_incoming.from_shortcut(body)
        # The trigger_id dies 3 s after the click: open the modal before searching.
        opened = await self.poster.call(
            "views.open",
            user=incoming.user_id,
            trigger_id=body.get("trigger_id", ""),
            view=blocks.loading_view(),
        )
        replies = await self.core.handle(incoming)
        reply = replies[0] if replies else Reply(text="I have nothing to add to that message.")
        view_id = (opened or {}).get("view", {}).get("id")
        if view_id:
            await self.poster.call(
                "views.update",
                user=incoming.user_id,
                view_id=view_id,
                view=blocks.reply_view(reply),
            )
        else:
            await respond_privately(respond, blocks.reply_message(reply), where=incoming)

    async def _on_feedback(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        incoming = to_incoming.from_action(body)
        try:
            question_id = int(action.get("value", ""))
        except ValueError:
            log.warning(
                "feedback click with a bad value %r from %s", action.get("value"), incoming.user_id
            )
            return
        note = await self.core.feedback(
            incoming, question_id, action.get("action_id") == FEEDBACK_HELPFUL
        )
        container = body.get("container") or {}
        message, view = body.get("message"), body.get("view")
        if note.kind == "error":
            await respond_privately(respond, {"text": blocks.escape(note.text)}, where=incoming)
        elif container.get("type") == "view" and isinstance(view, dict):
            updated = {
                **blocks.reply_view(Reply(text="")),
                "blocks": blocks.with_feedback(view.get("blocks", []), note.text),
            }
            await self.poster.call(
                "views.update",
                user=incoming.user_id,
                view_id=view.get("id"),
                hash=view.get("hash"),
                view=updated,
            )
        elif isinstance(message, dict) and not container.get("is_ephemeral"):
            update = {
                "text": message.get("text", ""),
                "blocks": blocks.with_feedback(message.get("blocks", []), note.text),
            }
            await self.poster.update(incoming.conversation_id, str(message.get("ts", "")), update)
        elif isinstance(message, dict):
            update = {
                "text": message.get("text", ""),
                "blocks": blocks.with_feedback(message.get("blocks", []), note.text),
            }
            await respond_privately(respond, update, where=incoming, replace=True)
        else:
            await respond_privately(respond, {"text": blocks.escape(note.text)}, where=incoming)
