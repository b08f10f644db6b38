"""The Teams front-end: ``POST /api/messages`` -> check -> authenticate -> the core's pipeline.
A message is claimed before the 200 (Teams redelivers; an unanswered claim is answered by
another replica) and answered in the background. A card button is answered within
``invoke_budget`` s with the card replacing it, or "working on it" (a card) that the answer
replaces when ready, as a card again. The bot's install posts the welcome card."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from aiohttp import web
from botbuilder.schema import ActivityTypes
from botframework.connector.auth import BotFrameworkAuthentication

from bot.core import Core
from bot.core.presses import press
from bot.delivery import Address, MessageRef, Work
from bot.delivery.contacts import Contacts
from bot.messages import Pressed
from bot.payloads import BadPayload
from bot.render import cards
from bot.tasks import Background, within
from bot.teams import incoming as parse
from bot.teams.courier import TeamsCourier

log = logging.getLogger(__name__)

INVOKE_BUDGET = 4.0  # Teams gives an invoke 5 s; leave a margin for the network
WORKING = "Working on it… this card updates when it's done."
Raw = dict[str, Any]


class TeamsFrontEnd:
    """The aiohttp handler for ``POST /api/messages``, and the Teams courier for everyone else."""

    def __init__(self, core: Core, auth: BotFrameworkAuthentication, *, app_id: str,
                 contacts: Contacts, service_url: str = "", invoke_budget: float = INVOKE_BUDGET,
                 courier: TeamsCourier | None = None) -> None:  # fmt: skip
        self.core, self.contacts, self._auth, self.budget = core, contacts, auth, invoke_budget
        self.courier = courier or TeamsCourier(auth, app_id, contacts, service_url)
        self.background = Background("Teams")
        core.delivery.register(parse.PLATFORM, self.courier)

    async def handle_http(self, request: web.Request) -> web.Response:
        """Check the body, authenticate, run the turn; 200 (with an invoke's answer)."""
        try:
            raw, activity = parse.check_activity(request.content_type, await request.read())
        except BadPayload as bad:
            log.warning("rejected Teams request from %s: %s", request.remote, bad)
            return web.json_response({"error": str(bad)}, status=bad.status)
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

    async def _turn(self, raw: Raw) -> Raw | None:
        """Run one activity; an invoke's answer, else None."""
        kind = raw.get("type")
        self.courier.remember(raw)
        try:
            if kind == ActivityTypes.message:
                await self._on_message(raw)
            elif kind == ActivityTypes.invoke and raw.get("name") == "adaptiveCard/action":
                return await self._on_button(raw)
            elif kind == ActivityTypes.conversation_update:
                await self._on_conversation_update(raw)
            else:
                log.debug("ignored a Teams %s activity (%s)", kind, raw.get("name", ""))
        except Exception:
            # Teams retries a failed delivery; a bug must not turn into a loop of them.
            log.exception("failed to handle a Teams %s activity %s", kind, raw.get("id"))
        return None

    async def _on_message(self, raw: Raw) -> None:
        if isinstance(raw.get("value"), dict) and not raw.get("text"):
            log.debug("ignored a Teams Action.Submit: Staffroom's cards use Action.Execute")
            return
        # With the manifest's RSC permission every channel message arrives: mostly not for us.
        work = parse.work_for(raw, self.courier.service_url)
        # Claimed before the 200: from then on the message is in the database, not just here.
        if work is not None and await self._first_delivery(raw, work):
            self.background.start(self._answer(parse.event_key(raw), work, raw))

    async def _answer(self, key: str, work: Work, raw: Raw) -> None:
        await self._remember_contact(work.incoming.user_id, raw)
        await self.core.delivery.answer(key, work)

    async def _on_button(self, raw: Raw) -> Raw:
        action = (raw.get("value") or {}).get("action") or {}
        verb, data = action.get("verb"), action.get("data")
        if not isinstance(verb, str) or not isinstance(data, dict):
            log.warning("Teams card action without a verb or data: %r", action)
            return cards.invoke_answer(Pressed(stale=True))
        shown = cards.reply_from_state(data.get("reply"))  # the answer a vote redraws
        pressing = press(self.core, parse.from_action(raw), verb, data, shown)
        answer = await within(self.budget, pressing, partial(self._replace_card, raw),
                              self.background)  # fmt: skip
        if answer is None:
            log.warning("Teams action %s took over %.1fs; answering later", verb, self.budget)
            return cards.invoke_answer(cards.text_card(WORKING))
        return cards.invoke_answer(answer)

    async def _replace_card(self, raw: Raw, pressed: Pressed) -> None:
        """A slow press's answer replaces the "working on it" card: a card, whatever it is."""
        replaced = str(raw.get("replyToId") or "")
        if not pressed.stale and replaced:
            chat = parse.split_conversation(parse.conversation_of(raw))[0]
            card = cards.activity(cards.pressed_card(pressed))
            await self.courier.replace(MessageRef(parse.PLATFORM, chat, replaced), card)

    async def _on_conversation_update(self, raw: Raw) -> None:
        bot_id = str((raw.get("recipient") or {}).get("id", ""))
        added = [m for m in raw.get("membersAdded") or [] if isinstance(m, dict)]
        if not any(m.get("id") == bot_id for m in added) or not await self._first_delivery(raw):
            return
        if parse.is_personal(raw):
            await self._remember_contact(parse.user_of(raw)[0], raw)
        welcome = cards.activity(cards.welcome_card(await self.core.home(parse.PLATFORM)))
        chat = parse.split_conversation(parse.conversation_of(raw))[0]
        to = Address(parse.PLATFORM, chat, service_url=self.courier.url_for(chat))
        self.background.start(self.courier.post(to, welcome, bot_id))

    async def _first_delivery(self, raw: Raw, work: Work | None = None) -> bool:
        key = parse.event_key(raw)
        first = await self.core.delivery.claim(key, parse.PLATFORM, work)
        if not first:
            log.info("dropped a repeated delivery of Teams activity %s", key)
        return first

    async def _remember_contact(self, user_id: str, raw: Raw) -> None:
        if not user_id:
            return
        try:
            await asyncio.to_thread(self.contacts.save, user_id, parse.contact_of(raw))
        except Exception:  # a missing contact only costs a later notification
            log.exception("could not save the Teams conversation reference of %s", user_id)
