"""The conversation core: one behaviour for the terminal, Slack and Teams.

    conversation.py  Core: routing to intents and flows, clicks, forms, feedback, home screen;
                     the one place that turns ``StaffroomError`` into friendly text
    answers.py       Answers: search, question log and gaps, grounded (LLM) answers

``Core.handle`` routes an ``Incoming`` to its intent and returns ``Reply`` objects. Blocking
work (search, database) runs in worker threads so a front-end's event loop keeps acknowledging
requests while answers are prepared. Everything the core sends goes through ``core.delivery``
(``bot/delivery/pipeline.py``).
"""

from bot.core.answers import LAST_QUESTION, Answers, Retriever
from bot.core.conversation import EMPTY_HINT, Core, Handler, ThreadHook, Turn
from bot.messages import TRY_AGAIN

__all__ = [
    "EMPTY_HINT",
    "LAST_QUESTION",
    "TRY_AGAIN",
    "Answers",
    "Core",
    "Handler",
    "Retriever",
    "ThreadHook",
    "Turn",
]
