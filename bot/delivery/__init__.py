"""One delivery pipeline for every message Staffroom sends (see ``bot/delivery/pipeline.py``).

    addresses.py  Address, MessageRef, Delivered, and the Courier each front-end implements
    work.py       Work (a message to answer) and Outgoing (a proactive message), as claimed
    pipeline.py   Pipeline: claim → respond → post → answered → ground; deliver(); recover()
"""

from bot.delivery.addresses import Address, Courier, Delivered, MessageRef
from bot.delivery.pipeline import LATE_NOTE, Pipeline, Responder
from bot.delivery.work import Outgoing, Work

__all__ = [
    "LATE_NOTE",
    "Address",
    "Courier",
    "Delivered",
    "MessageRef",
    "Outgoing",
    "Pipeline",
    "Responder",
    "Work",
]
