"""The Slack front-end: bolt listeners that translate, call the core, render and deliver.

Every listener acknowledges first (events are acked by bolt before the listener runs, right
after the claim) and does the slow work after, so Slack always gets its answer within 3 seconds. Event retries are
dropped by ``event_id`` through the shared database, so a retry never answers twice, even after
a restart or on another server process. The claim is written before the ack and kept until the
answer is posted, so an event whose process died in between is answered by another replica
(``bot/inflight.py``).
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
    Reply,
)
from bot.outbox import message_ref, split_ref
from bot.render import blocks, citations
from bot.slack import incoming as to_incoming
from bot.slack.courier import SlackCourier
from bot.slack.guard import BadBody, check_body
from bot.slack.interactive import Interactions
from bot.slack.poster import ChannelPacer, Poster, respond_privately, web_client

log = logging.getLogger(__name__)

SHORTCUT_ID = "ask_staffroom"
CLAIM = "staffroom_claim"  # bolt context key: (event key, Work, claimed: bool | None)
PRE_ACK_PATIENCE = 1.5  # seconds the claim may wait for the database before Slack's ack


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
        # Messages are claimed in listener middleware, which bolt runs before its ack.
        claim = [self._claim_before_ack]
        self.app.event("app_mention", middleware=claim)(self._on_message)
        self.app.event("message", middleware=claim)(self._on_message)
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

    def _work(self, body: dict[str, Any], bot_user: str) -> Work | None:
        """What answering this event takes, or None when it is not for us."""
        event = body.get("event") or {}
        if event.get("type") == "app_mention":
            # A mention inside a thread may be a reply to a review post: thread hooks go first.
            thread_hooks, answer = to_incoming.in_thread(event), True
        elif event.get("type") != "message" or to_incoming.skip_message(event):
            return None
        elif event.get("channel_type") == "im":
            thread_hooks, answer = False, True
        else:
            # Channel replies matter only in threads we know (review posts, announcements);
            # one that mentions us arrives as app_mention too and is handled there.
            mentioned = bool(bot_user) and f"<@{bot_user}>" in str(event.get("text", ""))
            if mentioned or not to_incoming.in_thread(event):
                return None
            thread_hooks, answer = True, False
        incoming = to_incoming.from_event(body, bot_user)
        return Work.answering(incoming, thread_hooks=thread_hooks, answer=answer)

    async def _claim_before_ack(
        self, body: dict[str, Any], context: dict[str, Any], next: Any
    ) -> None:
        """Claim the event before bolt acks it: once Slack has its 200, the database has it.

        The claim keeps what answering takes, so if this process dies before the replies are
        posted another replica answers instead (``Core.recover``). A database that does not
        answer within ``PRE_ACK_PATIENCE`` is left to the listener, after the ack (Slack wants
        its 200 within 3 s).
        """
        try:
            work = self._work(body, context.get("bot_user_id") or "")
        except Exception:  # a malformed event must not turn the ack into a 500
            log.exception("could not read Slack event %s", body.get("event_id"))
            work = None
        if work is not None:
            key = f"slack:{body.get('event_id', '')}"
            claimed = await self.core.try_claim(
                key, to_incoming.PLATFORM, work, patience=PRE_ACK_PATIENCE
            )
            context[CLAIM] = (key, work, claimed)
        await next()

    async def _on_message(self, context: dict[str, Any]) -> None:
        """Reply to a claimed mention or message, then mark its claim answered."""
        if CLAIM not in context:
            return
        key, work, claimed = context[CLAIM]
        if claimed is None:  # the database was down before the ack: keep trying now
            claimed = await self.core.claim(key, to_incoming.PLATFORM, work)
        if not claimed:
            log.info("dropped a repeated delivery of %s", key)
            return
        incoming = work.incoming
        replies = await self.core.respond(
            incoming, thread_hooks=work.thread_hooks, answer=work.answer
        )
        channel = incoming.conversation_id
        posted = []
        for reply in replies:
            ts = await self.poster.post(
                reply, channel=channel, user=incoming.user_id, thread_ts=incoming.thread_id
            )
            posted.append((reply, message_ref(channel, ts) if ts else ""))
        for reply, ref in await self.core.answered(key, posted):
            await self._ground(reply, *split_ref(ref))

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
