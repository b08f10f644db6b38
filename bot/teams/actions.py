"""Card buttons (``Action.Execute``): answered within the invoke budget, always with a card.

Teams wants an invoke's answer within 5 s: the core's answer (``bot/core/presses.py``) is
waited for ``budget`` seconds at most; a slower one is answered "working on it" (a card) at once
and replaces that card when it is ready. The JSON is an ``AdaptiveCardInvokeResponse``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from bot.core import Core
from bot.core.presses import Pressed, press
from bot.delivery import Address, MessageRef, Work
from bot.render import cards
from bot.tasks import Background, within
from bot.teams import incoming as parse
from bot.teams.courier import TeamsCourier, card_activity

log = logging.getLogger(__name__)

CARD, MESSAGE = cards.CONTENT_TYPE, "application/vnd.microsoft.activity.message"
WORKING = "Working on it… this card updates when it's done."
STALE = "That button no longer works. Ask me again and use the new card."


class CardActions:
    def __init__(
        self, core: Core, courier: TeamsCourier, background: Background, budget: float
    ) -> None:
        self.core, self.courier, self.background, self.budget = core, courier, background, budget

    async def handle(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The invoke's answer: the card that replaces the clicked one, or a short message."""
        action = (raw.get("value") or {}).get("action") or {}
        verb, data = action.get("verb"), action.get("data")
        if not isinstance(verb, str) or not isinstance(data, dict):
            log.warning("Teams card action without a verb or data: %r", action)
            return _answer(Pressed(stale=True))
        late = partial(self._late, raw)
        pressed = await within(self.budget, self._press(raw, verb, data), late, self.background)
        if pressed is None:
            log.warning("Teams action %s took over %.1fs; answering later", verb, self.budget)
            return {"statusCode": 200, "type": CARD, "value": cards.text_card(WORKING)}
        return _answer(pressed)

    async def submit(self, raw: dict[str, Any], where: Address) -> None:
        """A legacy ``Action.Submit`` (a message carrying the data): answered as a new card."""
        data = raw.get("value") or {}
        if isinstance(data.get("verb"), str):
            pressed = await self._press(raw, data["verb"], data)
            if not pressed.stale:
                await self.courier.post(where, card_activity(card_of(pressed)))

    async def _press(self, raw: dict[str, Any], verb: str, data: dict[str, Any]) -> Pressed:
        who = parse.from_action(raw)
        pressed = await press(self.core, who, verb, data, cards.reply_from_state(data.get("reply")))
        if pressed.below:  # under the clicked card: its conversation, in its thread
            to = Address(parse.PLATFORM, who.conversation_id, who.thread_id)
            await self.core.delivery.post(Work(who, to), pressed.below, whisper=False)
        return pressed

    async def _late(self, raw: dict[str, Any], pressed: Pressed) -> None:
        """The slow answer replaces the "working on it" card: as a card, whatever it is."""
        replaced = str(raw.get("replyToId") or "")
        if not pressed.stale and replaced:
            chat = parse.split_conversation(parse.conversation_of(raw))[0]
            ref = MessageRef(parse.PLATFORM, chat, replaced)
            await self.courier.replace(ref, card_activity(card_of(pressed)))


def card_of(pressed: Pressed) -> cards.Card:
    """The card that shows a press's answer (its note alone when there is nothing else)."""
    if pressed.form is not None:
        return cards.form_card(pressed.form, values=dict(pressed.values), errors=dict(pressed.errors))
    if pressed.card is not None:
        return cards.reply_card(pressed.card, note=pressed.note)
    return cards.text_card(pressed.note or STALE)


def _answer(pressed: Pressed) -> dict[str, Any]:
    if pressed.card is None and pressed.form is None:
        text = STALE if pressed.stale else pressed.note
        return {"statusCode": 200, "type": MESSAGE, "value": text}
    return {"statusCode": 200, "type": CARD, "value": card_of(pressed)}
