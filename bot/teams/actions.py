"""Card buttons: ``Action.Execute`` invokes answered in time, and legacy ``Action.Submit`` posts.

An invoke must be answered within 5 s, so each click runs as a task the invoke waits on for at
most ``budget`` seconds; if it is slower, the invoke answers "working on it" at once and the
task replaces the card when it finishes. The answer is the plain JSON of an
``AdaptiveCardInvokeResponse`` handed to the adapter as an ``InvokeResponse`` body (botbuilder
4.17.1's own ``on_adaptive_card_invoke`` path serialises it twice and answers 500, and its
model cannot carry the text value of a message answer).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.messages import FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL, OPEN_FORM, SAY, Incoming, Reply
from bot.render import cards
from bot.teams import incoming as to_incoming
from bot.teams.activities import card_activity

if TYPE_CHECKING:
    from bot.core import Core
    from bot.teams.app import TeamsFrontEnd

log = logging.getLogger(__name__)

CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
WORKING = "Working on it… this card updates when it's done."
STALE = "That button no longer works. Ask me again and use the new card."
# A click's answer: a card that replaces the clicked one, a short message, or None (stale).
Answer = cards.Card | str | None


class CardActions:
    """Routes a click by its ``verb`` (the neutral ``Action.action_id``) to the core."""

    def __init__(self, core: Core, front: TeamsFrontEnd, budget: float) -> None:
        self.core, self.front, self.budget = core, front, budget

    async def handle(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The invoke's answer: the card that replaces the clicked one, or a short message."""
        action = (raw.get("value") or {}).get("action") or {}
        verb = action.get("verb") if isinstance(action, dict) else None
        data = action.get("data") if isinstance(action, dict) else None
        if not isinstance(verb, str) or not isinstance(data, dict):
            log.warning("Teams card action without a verb or data: %r", action)
            return _message(STALE)
        incoming = to_incoming.from_action(raw)
        task = asyncio.ensure_future(self._run(verb, data, incoming))
        try:
            answer = await asyncio.wait_for(asyncio.shield(task), self.budget)
        except TimeoutError:
            log.warning("Teams action %s took over %.1fs; answering later", verb, self.budget)
            self.front.background(self._finish_late(task, raw))
            return _card(cards.text_card(WORKING))
        if answer is None:
            return _message(STALE)
        return _message(answer) if isinstance(answer, str) else _card(answer)

    async def submit(self, raw: dict[str, Any]) -> None:
        """A legacy ``Action.Submit``: the same routing, answered as a new message."""
        data = raw.get("value") or {}
        verb = data.get("verb")
        if not isinstance(verb, str):
            log.debug("ignored a Teams card submit without a verb")
            return
        answer = await self._run(verb, data, to_incoming.from_action(raw))
        if answer is not None:
            card = cards.text_card(answer) if isinstance(answer, str) else answer
            await self.front.sender.send(self.front.where(raw), card_activity(card))

    async def _run(self, verb: str, data: dict[str, Any], incoming: Incoming) -> Answer:
        if verb in (FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL):
            return await self._feedback(verb, data, incoming)
        value = data.get("value")
        if verb == SAY and isinstance(value, str):
            replies = await self.core.handle(replace(incoming, text=value))
            return await self._deliver(replies, incoming)
        if verb == OPEN_FORM and isinstance(value, str):
            form_id, _, context = value.partition("|")
            form = self.core.form(form_id, context, incoming)
            if isinstance(form, Reply):
                return await self._deliver([form], incoming)
            await self._post(cards.form_card(form), incoming)
            return "The form is below."
        if verb == cards.SUBMIT_FORM:
            return await self._submit_form(data, incoming)
        log.info("unknown Teams card verb %r from %s", verb, incoming.user_id)
        return None

    async def _submit_form(self, data: dict[str, Any], incoming: Incoming) -> Answer:
        """Checked like Slack's modal: errors redraw the form in place with what was typed."""
        form_id, context = str(data.get("form_id", "")), str(data.get("context", ""))
        form = self.core.form(form_id, context, incoming)
        if isinstance(form, Reply):
            return await self._deliver([form], incoming)
        values = cards.form_values(data, form)
        errors = self.core.check_form(form_id, values)
        if errors:
            return cards.form_card(form, values=values, errors=errors)
        replies = await self.core.submit_form(incoming, form_id, context, values)
        if not replies:
            return cards.text_card("Sent.")
        for reply in replies[1:]:
            await self._post(cards.reply_card(reply), incoming)
        return cards.reply_card(replies[0])  # replaces the form

    async def _deliver(self, replies: list[Reply], incoming: Incoming) -> Answer:
        """Short notes and refusals as the click's answer; anything richer as new messages."""
        said = []
        for reply in replies:
            if _short(reply):
                said.append(reply.text)
            else:
                await self._post(cards.reply_card(reply), incoming)
        return "\n".join(said) or "Done."

    async def _post(self, card: cards.Card, incoming: Incoming) -> None:
        where = self.front.where_for(incoming)
        await self.front.sender.send(where, card_activity(card))

    async def _feedback(self, verb: str, data: dict[str, Any], incoming: Incoming) -> Answer:
        try:
            question_id = int(str(data.get("value", "")))
        except ValueError:
            log.warning("feedback click with a bad value %r", data.get("value"))
            return None
        shown = cards.reply_from_state(data.get("reply"))
        if shown is None or shown.question_id != question_id:
            shown = Reply(text="Thanks for the feedback.", question_id=question_id)
        note = await self.core.feedback(incoming, question_id, verb == FEEDBACK_HELPFUL)
        return cards.reply_card(
            shown, note=note.text
        )  # an error note leaves the votes as they were

    async def _finish_late(
        self, task: asyncio.Future[cards.Card | None], raw: dict[str, Any]
    ) -> None:
        card = await task
        replaced = str(raw.get("replyToId") or "")
        if card is None or not replaced:
            return
        where = self.front.where(raw, thread=False)
        await self.front.sender.update(where, replaced, card_activity(card))


def _card(card: cards.Card) -> dict[str, Any]:
    return {"statusCode": 200, "type": CARD, "value": card}


def _message(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": MESSAGE, "value": text}


def _short(reply: Reply) -> bool:
    """A plain note meant for the clicker (a confirmation or a refusal), not the conversation."""
    plain = not (reply.cards or reply.ideas or reply.actions or reply.form)
    return plain and (reply.ephemeral or reply.kind == "error")
