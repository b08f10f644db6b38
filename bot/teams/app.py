"""The Teams front-end: ``POST /api/messages`` -> authenticate -> parse -> the core's pipeline.

The body is checked before botbuilder sees it (400 / 415) and the request authenticated by
botbuilder (401 and nothing runs when it fails); then:

* a message is claimed by its id before the 200 (Teams redelivers; the claim keeps it until it
  is answered, so another replica answers it if this one dies) and answered in the background;
* an ``adaptiveCard/action`` invoke is answered within ``invoke_budget`` seconds with a card
  that replaces the clicked one (``bot/teams/actions.py``);
* ``conversationUpdate`` with the bot among ``membersAdded`` posts the welcome card;
* anything else is acknowledged with 200 and a debug log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import BotFrameworkAuthentication

from bot.core import Core
from bot.delivery import Address, Work
from bot.delivery.contacts import Contacts
from bot.payloads import BadPayload
from bot.render import cards
from bot.tasks import Background
from bot.teams import incoming as parse
from bot.teams.actions import CardActions
from bot.teams.courier import TeamsCourier, card_activity
from bot.teams.refs import Reference

log = logging.getLogger(__name__)

INVOKE_BUDGET = 4.0  # Teams gives an invoke 5 s; leave a margin for the network


class TeamsFrontEnd:
    """The aiohttp handler for ``POST /api/messages``, and the Teams courier for everyone else."""

    def __init__(
        self,
        core: Core,
        auth: BotFrameworkAuthentication,
        *,
        app_id: str,
        contacts: Contacts,
        service_url: str = "",
        invoke_budget: float = INVOKE_BUDGET,
        courier: TeamsCourier | None = None,
    ) -> None:
        self.core, self.contacts, self._auth = core, contacts, auth
        self.courier = courier or TeamsCourier(auth, app_id, contacts, service_url)
        self.background = Background("Teams")
        self.actions = CardActions(core, self.courier, self.background, invoke_budget)
        core.delivery.register(parse.PLATFORM, self.courier)

    async def handle_http(self, request: web.Request) -> web.Response:
        """Check the body, authenticate, run the turn; 200 (with an invoke's answer)."""
        try:
            raw = parse.check_activity(request.content_type, await request.read())
            activity = Activity().deserialize(raw)
        except BadPayload as bad:
            log.warning("rejected Teams request from %s: %s", request.remote, bad)
            return web.json_response({"error": str(bad)}, status=bad.status)
        except Exception as err:  # msrest raises DeserializationError and friends on bad shapes
            log.warning("rejected Teams request from %s: not an activity (%s)", request.remote, err)
            return web.json_response({"error": "body is not a Bot Framework activity"}, status=400)
        try:
            await self._auth.authenticate_request(activity, request.headers.get("Authorization", ""))
        except PermissionError:
            log.info("unauthenticated Teams request from %s", request.remote)
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response(await self._turn(raw) or {}, status=200)

    async def settle(self, timeout: float = 10) -> None:
        """Wait until the background work started so far (and what it started) is done."""
        await self.background.settle(timeout)

    async def close(self) -> None:
        """Let background answers finish (bounded), then close the connector clients."""
        await self.settle()
        await self.courier.close()

    async def _turn(self, raw: dict[str, Any]) -> dict[str, Any] | None:
        """Run one activity; an invoke's answer, else None."""
        kind = raw.get("type")
        self.courier.remember(raw)
        try:
            if kind == ActivityTypes.message:
                await self._on_message(raw)
            elif kind == ActivityTypes.invoke and raw.get("name") == "adaptiveCard/action":
                return await self.actions.handle(raw)
            elif kind == ActivityTypes.conversation_update:
                await self._on_conversation_update(raw)
            else:
                log.debug("ignored a Teams %s activity (%s)", kind, raw.get("name", ""))
        except Exception:
            # Teams retries a failed delivery; a bug must not turn into a loop of them.
            log.exception("failed to handle a Teams %s activity %s", kind, raw.get("id"))
        return None

    async def _on_message(self, raw: dict[str, Any]) -> None:
        if isinstance(raw.get("value"), dict) and not raw.get("text"):  # a legacy Action.Submit
            if await self._first_delivery(raw):
                self.background.start(self.actions.submit(raw, self._where(raw)))
            return
        # With the manifest's RSC permission every channel message arrives: mostly not for us.
        work = parse.work_for(raw, self.courier.service_url)
        # Claimed before the 200: from then on the message is in the database, not just here.
        if work is not None and await self._first_delivery(raw, work):
            self.background.start(self._answer(parse.event_key(raw), work, raw))

    async def _answer(self, key: str, work: Work, raw: dict[str, Any]) -> None:
        await self._save_reference(work.incoming.user_id, raw)
        await self.core.delivery.answer(key, work)

    async def _on_conversation_update(self, raw: dict[str, Any]) -> None:
        bot_id = str((raw.get("recipient") or {}).get("id", ""))
        added = [m for m in raw.get("membersAdded") or [] if isinstance(m, dict)]
        if not any(m.get("id") == bot_id for m in added) or not await self._first_delivery(raw):
            return
        if parse.is_personal(raw):
            await self._save_reference(parse.user_of(raw)[0], raw)
        welcome = card_activity(cards.welcome_card(await self.core.home(parse.PLATFORM)))
        chat = parse.split_conversation(parse.conversation_of(raw))[0]
        to = Address(parse.PLATFORM, chat, service_url=self._where(raw).service_url)
        self.background.start(self.courier.post(to, welcome, bot_id))

    def _where(self, raw: dict[str, Any]) -> Address:
        """Replies to ``raw``: its reply chain in a channel, the chat itself in 1:1."""
        conversation = parse.conversation_of(raw)
        reply_to = "" if parse.is_personal(raw) else str(raw.get("id") or "")
        url = str(raw.get("serviceUrl") or self.courier.url_for(conversation))
        return Address(parse.PLATFORM, conversation, service_url=url, reply_to=reply_to)

    async def _first_delivery(self, raw: dict[str, Any], work: Work | None = None) -> bool:
        key = parse.event_key(raw)
        first = await self.core.delivery.claim(key, parse.PLATFORM, work)
        if not first:
            log.info("dropped a repeated delivery of Teams activity %s", key)
        return first

    async def _save_reference(self, user_id: str, raw: dict[str, Any]) -> None:
        if not user_id:
            return
        try:
            await asyncio.to_thread(Reference.of(raw).save, self.contacts, user_id)
        except Exception:  # a missing reference only costs a later notification
            log.exception("could not save the Teams conversation reference of %s", user_id)
