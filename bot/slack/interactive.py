"""Buttons that speak for the user (SAY), buttons that open forms, and modal submissions.

A SAY click is the user typing the button's value; an OPEN_FORM click opens the core's form at
once (the trigger_id dies 3 s after the click); a submitted modal is checked before the ack, so
field errors show in the modal, and submitted after it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.core import Core
from bot.messages import OPEN_FORM, SAY, Form, Incoming, Reply
from bot.render import blocks
from bot.slack import incoming as to_incoming
from bot.slack.poster import Poster, respond_privately

log = logging.getLogger(__name__)


class Interactions:
    """The bolt listeners for SAY and OPEN_FORM buttons and for Staffroom's modals."""

    def __init__(self, core: Core, poster: Poster) -> None:
        self.core, self.poster = core, poster

    def attach(self, app: AsyncApp) -> None:
        app.action(re.compile(rf"^{SAY}(\.\d+)?$"))(self._on_say)
        app.action(re.compile(rf"^{OPEN_FORM}(\.\d+)?$"))(self._on_open_form)
        app.view(blocks.FORM_CALLBACK)(self._on_form_submitted)

    async def _on_say(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        incoming = to_incoming.from_action(body, str(action.get("value", "")))
        await self._deliver_click(body, incoming, await self.core.handle(incoming), respond)

    async def _on_open_form(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        form_id, _, form_context = str(action.get("value", "")).partition("|")
        incoming = to_incoming.from_action(body)
        form = self.core.form(form_id, form_context, incoming)  # no I/O: trigger_id lives 3 s
        if isinstance(form, Reply):
            await self._deliver_click(body, incoming, [form], respond)
        elif not await self.open(str(body.get("trigger_id", "")), form, incoming):
            note = Reply(text="I couldn't open the form. Please try again.", ephemeral=True)
            await self._deliver_click(body, incoming, [note], respond)

    async def open(self, trigger_id: str, form: Form, incoming: Incoming) -> bool:
        metadata = {"form": form.form_id, "context": form.context}
        opened = await self.poster.call(
            "views.open",
            user=incoming.user_id,
            trigger_id=trigger_id,
            view=blocks.form_view(form, metadata),
        )
        return opened is not None

    async def _on_form_submitted(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
            form_id, form_context = str(metadata["form"]), str(metadata.get("context", ""))
        except (ValueError, KeyError, TypeError):
            log.warning("form submission without our metadata: %r", view.get("private_metadata"))
            await ack()
            return
        values = blocks.form_values(view)
        errors = self.core.check_form(form_id, values)
        if errors:  # shown under the fields; the modal stays open with what was typed
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        incoming = to_incoming.from_view(body)
        for reply in await self.core.submit_form(incoming, form_id, form_context, values):
            await self.poster.post(
                replace(reply, ephemeral=False), channel=incoming.user_id, user=incoming.user_id
            )

    async def _deliver_click(
        self, body: dict[str, Any], incoming: Incoming, replies: list[Reply], respond: Any
    ) -> None:
        """Replies to a click: DMs from the home tab, the DM itself, else only the clicker."""
        container = body.get("container") or {}
        for reply in replies:
            if reply.form is not None and await self.open(
                str(body.get("trigger_id", "")), reply.form, incoming
            ):
                continue
            if container.get("type") == "view" or not incoming.conversation_id:
                await self.poster.post(
                    replace(reply, ephemeral=False), channel=incoming.user_id, user=incoming.user_id
                )
            elif container.get("is_ephemeral"):
                await respond_privately(respond, blocks.reply_message(reply), where=incoming)
            else:
                await self.poster.post(
                    replace(reply, ephemeral=not incoming.private),
                    channel=incoming.conversation_id,
                    user=incoming.user_id,
                    thread_ts=str(container.get("thread_ts", "")),
                )
