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
from typing import TYPE_CHECKING, Any

from bot.messages import FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL, Incoming, Reply
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
            card = await asyncio.wait_for(asyncio.shield(task), self.budget)
        except TimeoutError:
            log.warning("Teams action %s took over %.1fs; answering later", verb, self.budget)
            self.front.background(self._finish_late(task, raw))
            return _card(cards.text_card(WORKING))
        return _card(card) if card is not None else _message(STALE)

    async def submit(self, raw: dict[str, Any]) -> None:
        """A legacy ``Action.Submit``: the same routing, answered as a new message."""
        data = raw.get("value") or {}
        verb = data.get("verb")
        if not isinstance(verb, str):
            log.debug("ignored a Teams card submit without a verb")
            return
        card = await self._run(verb, data, to_incoming.from_action(raw))
        if card is not None:
            await self.front.sender.send(self.front.where(raw), card_activity(card))

    async def _run(self, verb: str, data: dict[str, Any], incoming: Incoming) -> cards.Card | None:
        if verb in (FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL):
            return await self._feedback(verb, data, incoming)
        log.info("unknown Teams card verb %r from %s", verb, incoming.user_id)
        return None

    async def _feedback(
        self, verb: str, data: dict[str, Any], incoming: Incoming
    ) -> cards.Card | None:
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
