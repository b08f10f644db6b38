"""The Slack front-end: bolt listeners that parse, ack within Slack's 3 s, and hand the rest to
the core's delivery pipeline. Events are claimed by ``event_id`` in the shared database before
bolt acks them: a retry is never answered twice (after a restart, on another replica), and an
event whose replica died before answering is answered by another."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core import Core
from bot.delivery import Address, Work
from bot.delivery.pacing import ChannelPacer
from bot.messages import FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL, OPEN_FORM, SAY, Reply
from bot.payloads import BadPayload
from bot.render import blocks
from bot.slack import incoming as parse
from bot.slack.courier import SlackCourier
from bot.slack.incoming import Payload

log = logging.getLogger(__name__)

SHORTCUT_ID = "ask_staffroom"
CLAIM = "staffroom_claim"  # bolt context key: (event key, Work, claimed: bool | None)
PRE_ACK_PATIENCE = 1.5  # seconds the claim may wait for the database before Slack's ack
NO_FORM = "I couldn't open the form. Please try again."
BUTTONS = re.compile(rf"^({FEEDBACK_HELPFUL}|{FEEDBACK_NOT_HELPFUL}|{SAY}(\.\d+)?|{OPEN_FORM}(\.\d+)?)$")


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
        pacer: ChannelPacer | None = None,
    ) -> None:
        self.core, self.delivery = core, core.delivery
        self.courier = SlackCourier(token, api_url, pacer)
        self.app = AsyncApp(signing_secret=signing_secret, client=self.courier.client)
        claim = [self._claim_before_ack]  # listener middleware runs before bolt's ack
        self.app.event("app_mention", middleware=claim)(self._on_message)
        self.app.event("message", middleware=claim)(self._on_message)
        self.app.event("app_home_opened")(self._on_home)
        self.app.command(command)(self._on_command)
        self.app.shortcut(SHORTCUT_ID)(self._on_shortcut)
        self.app.action(BUTTONS)(self._on_click)
        self.app.view(blocks.FORM_CALLBACK)(self._on_form_submitted)
        self.delivery.register(parse.PLATFORM, self.courier)

    async def handle_http(self, request: web.Request) -> web.Response:
        """Check the body's shape, then let bolt verify the signature and dispatch."""
        try:
            body = parse.check_body(request.content_type, await request.read())
        except BadPayload as bad:
            log.warning("rejected Slack request from %s: %s", request.remote, bad)
            return web.json_response({"ok": False, "error": str(bad)}, status=bad.status)
        headers: dict[str, str | Sequence[str]] = dict(request.headers)
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _claim_before_ack(self, body: Payload, context: Payload, next: Any) -> None:
        """Claim the event before bolt acks it: once Slack has its 200, the database has it
        (or, not answering within ``PRE_ACK_PATIENCE``, it is claimed after the ack)."""
        try:
            work = parse.work_for(body, context.get("bot_user_id") or "")
        except Exception:  # a malformed event must not turn the ack into a 500
            log.exception("could not read Slack event %s", body.get("event_id"))
            work = None
        if work is not None:
            key = f"slack:{body.get('event_id', '')}"
            claim = self.delivery.try_claim(key, parse.PLATFORM, work, patience=PRE_ACK_PATIENCE)
            context[CLAIM] = (key, work, await claim)
        await next()

    async def _on_message(self, context: Payload) -> None:
        key, work, claimed = context.get(CLAIM) or ("", None, False)  # no claim: not for us
        if claimed is None:  # the database was down before the ack: keep trying now
            claimed = await self.delivery.claim(key, parse.PLATFORM, work)
        if work is not None and claimed:
            await self.delivery.answer(key, work)
        elif work is not None:
            log.info("dropped a repeated delivery of %s", key)

    async def _on_command(self, ack: Any, command: Payload) -> None:
        await ack()
        await self.delivery.answer("", parse.command_work(command))

    async def _on_home(self, event: Payload) -> None:
        user = str(event.get("user") or "")
        if event.get("tab", "home") != "home" or not user:
            return
        view = blocks.home_view(await self.core.home(parse.PLATFORM, user))
        await self.courier.call("views.publish", user_id=user, view=view)

    async def _on_shortcut(self, ack: Any, body: Payload) -> None:
        await ack()
        # The trigger_id dies 3 s after the click: open the modal before searching.
        trigger, loading = body.get("trigger_id", ""), blocks.loading_view()
        opened = await self.courier.call("views.open", trigger_id=trigger, view=loading)
        replies = await self.core.handle(parse.from_shortcut(body))
        reply = replies[0] if replies else Reply(text="I have nothing to add to that message.")
        if view_id := (opened or {}).get("view", {}).get("id"):
            await self.courier.call("views.update", view_id=view_id, view=blocks.reply_view(reply))
        else:  # the modal could not open: answer privately where the message is
            await self.courier.respond(str(body.get("response_url", "")), blocks.reply_message(reply))

    async def _on_click(self, ack: Any, body: Payload, action: Payload) -> None:
        await ack()
        said = str(action.get("value", ""))
        incoming = parse.from_action(body, said)
        clicked = await self.core.click(incoming, str(action.get("action_id", "")), said)
        if clicked.vote is not None:
            return await self._show_vote(body, clicked.vote)
        replies = clicked.replies  # a form opens as a modal; the text says why when it can't
        if clicked.form is not None:
            replies = (Reply(text=NO_FORM, form=clicked.form, ephemeral=True),)
        work, whisper = parse.click_work(body, incoming)
        await self.delivery.post(work, replies, whisper=whisper)

    async def _show_vote(self, body: Payload, note: Reply) -> None:
        """The clicked answer with the vote noted under it (a modal, a message, a whisper)."""
        container, url = body.get("container") or {}, str(body.get("response_url", ""))
        message, view, ok = body.get("message"), body.get("view"), note.kind != "error"
        if ok and container.get("type") == "view" and isinstance(view, dict):
            noted = blocks.with_feedback(view.get("blocks", []), note.text)
            updated = {**blocks.reply_view(Reply(text="")), "blocks": noted}
            await self.courier.call("views.update", view_id=view.get("id"), hash=view.get("hash"),
                                    view=updated)  # fmt: skip
        elif ok and isinstance(message, dict):
            noted = blocks.with_feedback(message.get("blocks", []), note.text)
            update = {"text": message.get("text", ""), "blocks": noted}
            if container.get("is_ephemeral"):
                await self.courier.respond(url, update, replace=True)
            else:
                channel = str((body.get("channel") or {}).get("id") or container.get("channel_id"))
                await self.courier.edit(channel, str(message.get("ts", "")), update)
        else:
            await self.courier.respond(url, {"text": blocks.escape(note.text)})

    async def _on_form_submitted(self, ack: Any, body: Payload, view: Payload) -> None:
        """Checked before the ack (errors show under the fields), submitted after it."""
        ours = blocks.form_metadata(view)
        if ours is None:
            log.warning("form submission without our metadata: %r", view.get("private_metadata"))
            return await ack()
        form_id, form_context = ours
        values = blocks.form_values(view)
        errors = self.core.check_form(form_id, values)
        if errors:  # the modal stays open with what was typed
            return await ack(response_action="errors", errors=errors)
        await ack()
        incoming = parse.from_action(body)
        replies = await self.core.submit_form(incoming, form_id, form_context, values)
        dm = Work(incoming, Address.direct(parse.PLATFORM, incoming.user_id))
        await self.delivery.post(dm, replies, whisper=False)
