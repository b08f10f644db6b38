"""The Teams front-end: ``POST /api/messages`` -> botbuilder auth -> ``Incoming`` -> core -> cards.

The body is checked before botbuilder sees it (400 / 415), botbuilder's ``CloudAdapter``
authenticates the request (401 and nothing runs when it fails), and then:

* a message is claimed by its id (Teams redelivers; the claim keeps it until it is answered, so
  another replica answers it if this one dies), acknowledged, and answered in the background in
  the same reply chain;
* an ``adaptiveCard/action`` invoke (``Action.Execute``) is answered within ``invoke_budget``
  seconds with a card that replaces the clicked one; slower work finishes after and updates it;
* ``conversationUpdate`` with the bot among ``membersAdded`` posts the welcome card;
* anything else is acknowledged with 200 and a debug log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from functools import partial
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import BotFrameworkAuthentication

from bot.core import Core
from bot.flows.home import RecentSessions, build_home
from bot.inflight import Work
from bot.messages import Incoming
from bot.outbox import message_ref, split_ref
from bot.render import cards, citations
from bot.teams import incoming as to_incoming
from bot.teams.actions import CardActions
from bot.teams.activities import card_activity, message
from bot.teams.courier import TeamsCourier
from bot.teams.guard import BadActivity, check_activity
from bot.teams.refs import ConversationRefs, Reference
from bot.teams.sender import Sender, Where

log = logging.getLogger(__name__)

INVOKE_BUDGET = 4.0  # Teams gives an invoke 5 s; leave a margin for the network


class TeamsFrontEnd:
    """The aiohttp handler for ``POST /api/messages``, and delivery to Teams for everyone else."""

    def __init__(
        self,
        core: Core,
        auth: BotFrameworkAuthentication,
        *,
        app_id: str,
        refs: ConversationRefs,
        service_url: str = "",
        recent: RecentSessions | None = None,
        invoke_budget: float = INVOKE_BUDGET,
        sender: Sender | None = None,
    ) -> None:
        self.core = core
        self.adapter = CloudAdapter(auth)
        self.sender = sender or Sender(auth, app_id)
        self.refs = refs
        self.service_url = service_url
        self._recent = recent
        self._tasks: set[asyncio.Task[Any]] = set()
        self._service_urls: dict[str, str] = {}  # conversation id -> the URL Teams gave with it
        self.actions = CardActions(core, self, invoke_budget)
        core.outbox.register(to_incoming.PLATFORM, TeamsCourier(self))

    # --- HTTP ---------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.Response:
        """Check the body, authenticate, run the turn; 200 (or the invoke's answer)."""
        try:
            raw = check_activity(request.content_type, await request.read())
        except BadActivity as bad:
            log.warning("rejected Teams request from %s: %s", request.remote, bad)
            return web.json_response({"error": str(bad)}, status=bad.status)
        try:
            activity = Activity().deserialize(raw)
        except Exception as err:  # msrest raises DeserializationError and friends on bad shapes
            log.warning("rejected Teams request from %s: not an activity (%s)", request.remote, err)
            return web.json_response({"error": "body is not a Bot Framework activity"}, status=400)
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke = await self.adapter.process_activity(
                auth_header, activity, partial(self._turn, raw)
            )
        except PermissionError:
            log.info("unauthenticated Teams request from %s", request.remote)
            return web.json_response({"error": "unauthorized"}, status=401)
        if isinstance(invoke, InvokeResponse):
            return web.json_response(invoke.body, status=invoke.status or 200)
        return web.json_response({}, status=200)

    async def settle(self, timeout: float = 10) -> None:
        """Wait until the background work started so far (and what it started) is done."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                return

    async def close(self) -> None:
        """Let background answers finish (bounded), then close the connector clients."""
        await self.settle()
        await self.sender.close()

    # --- turns --------------------------------------------------------------------------

    async def _turn(self, raw: dict[str, Any], context: TurnContext) -> None:
        kind = raw.get("type")
        self._remember_service_url(raw)
        try:
            if kind == ActivityTypes.message:
                await self._on_message(raw)
            elif kind == ActivityTypes.invoke and raw.get("name") == "adaptiveCard/action":
                body = await self.actions.handle(raw)
                invoke = InvokeResponse(status=200, body=body)
                await context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=invoke)
                )
            elif kind == ActivityTypes.conversation_update:
                await self._on_conversation_update(raw)
            else:
                log.debug("ignored a Teams %s activity (%s)", kind, raw.get("name", ""))
        except Exception:
            # Teams retries a failed delivery; a bug must not turn into a loop of them.
            log.exception("failed to handle a Teams %s activity %s", kind, raw.get("id"))

    async def _on_message(self, raw: dict[str, Any]) -> None:
        if isinstance(raw.get("value"), dict) and not raw.get("text"):
            if await self._first_delivery(raw):
                self.background(self.actions.submit(raw))
            return
        incoming = to_incoming.from_message(raw)
        mentioned = incoming.private or to_incoming.mentions_us(raw)
        thread = to_incoming.in_thread(raw) and not incoming.private
        # With the manifest's RSC permission every channel message arrives; only mentions and
        # replies in threads the core knows (review posts) are for us.
        if not (mentioned or thread):
            return
        key = to_incoming.event_key(raw)
        # Claimed before the 200: from then on the message is in the database, not just here.
        work = Work.answering(
            incoming,
            thread_hooks=thread,
            answer=mentioned,
            service_url=str(raw.get("serviceUrl") or self.service_url),
        )
        if not await self.core.claim(key, to_incoming.PLATFORM, work):
            log.info("dropped a repeated delivery of Teams activity %s", key)
            return
        self.background(self._reply(key, work, raw))

    async def _reply(self, key: str, work: Work, raw: dict[str, Any]) -> None:
        """Reply in the message's chain, then mark the claim answered (``Core.recover``)."""
        incoming = work.incoming
        await self._save_reference(incoming.user_id, raw)
        replies = await self.core.respond(
            incoming, thread_hooks=work.thread_hooks, answer=work.answer
        )
        where = self.where(raw)
        posted = []
        for reply in replies:
            activity_id = await self.sender.send(where, message(reply))
            posted.append(
                (reply, message_ref(incoming.conversation_id, activity_id) if activity_id else "")
            )
        for reply, ref in await self.core.answered(key, posted):
            grounded = await self.core.ground(reply)
            if grounded is not None:
                await self.sender.update(
                    where, split_ref(ref)[1], message(citations.teams_reply(grounded))
                )

    async def _on_conversation_update(self, raw: dict[str, Any]) -> None:
        bot_id = str((raw.get("recipient") or {}).get("id", ""))
        added = [m for m in raw.get("membersAdded") or [] if isinstance(m, dict)]
        if not any(m.get("id") == bot_id for m in added) or not await self._first_delivery(raw):
            return
        if to_incoming.is_personal(raw):
            await self._save_reference(to_incoming.user_of(raw)[0], raw)
        home = await asyncio.to_thread(build_home, to_incoming.PLATFORM, "", recent=self._recent)
        welcome = cards.welcome_card(home)
        self.background(self.sender.send(self.where(raw, thread=False), card_activity(welcome)))

    # --- answering ----------------------------------------------------------------------

    def where(self, raw: dict[str, Any], *, thread: bool = True) -> Where:
        """Where replies to ``raw`` go: its reply chain in a channel, the chat itself in 1:1."""
        conversation = str((raw.get("conversation") or {}).get("id", ""))
        reply_to = "" if to_incoming.is_personal(raw) or not thread else str(raw.get("id") or "")
        if not thread:
            conversation = to_incoming.split_conversation(conversation)[0]
        return Where(
            service_url=str(raw.get("serviceUrl") or self.service_url),
            conversation_id=conversation,
            reply_to=reply_to,
            bot_id=str((raw.get("recipient") or {}).get("id", "")),
        )

    def where_for(self, incoming: Incoming) -> Where:
        """Where replies to a click go: the clicked card's conversation, in its thread."""
        conversation = incoming.conversation_id
        return Where(
            self.service_url_for(conversation),
            to_incoming.join_conversation(conversation, incoming.thread_id),
        )

    def service_url_for(self, conversation_id: str) -> str:
        return self._service_urls.get(conversation_id, self.service_url)

    def background(self, work: Awaitable[Any]) -> None:
        """Run ``work`` after the HTTP answer; failures are logged, never lost silently."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Teams background work failed", exc_info=task.exception())

    async def _first_delivery(self, raw: dict[str, Any]) -> bool:
        key = to_incoming.event_key(raw)
        first = await self.core.claim(key, to_incoming.PLATFORM)
        if not first:
            log.info("dropped a repeated delivery of Teams activity %s", key)
        return first

    async def _save_reference(self, user_id: str, raw: dict[str, Any]) -> None:
        if not user_id:
            return
        try:
            await asyncio.to_thread(self.refs.save, user_id, Reference.of(raw))
        except Exception:  # a missing reference only costs a later notification
            log.exception("could not save the Teams conversation reference of %s", user_id)

    def _remember_service_url(self, raw: dict[str, Any]) -> None:
        url = raw.get("serviceUrl")
        if isinstance(url, str) and url:
            conversation = str((raw.get("conversation") or {}).get("id", ""))
            self._service_urls[to_incoming.split_conversation(conversation)[0]] = url
