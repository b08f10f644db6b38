"""Grounded answers rendered with their citations: ``[1] ▶ 12:30`` linked to the cited moment."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.grounded import Grounded, citation_line, where
from bot.messages import Reply
from bot.render import blocks, cards
from retrieval.answer import Citation

CITATIONS_BLOCK = "staffroom_citations"


def slack_citation(citation: Citation) -> str:
    """ "[1] <url|▶ 12:30> Title" in mrkdwn (the title linked when the moment has no time)."""
    spot = where(citation)
    if spot:
        return (
            f"[{citation.number}] {blocks.link(citation.url, spot)} {blocks.escape(citation.title)}"
        )
    return f"[{citation.number}] {blocks.link(citation.url, citation.title)}"


def slack_message(grounded: Grounded) -> dict[str, Any]:
    """The reply's message with a context block of linked citations under the answer line."""
    reply = grounded.reply
    if not grounded.citations:
        return blocks.reply_message(reply)
    body = blocks.reply_blocks(reply, max_blocks=blocks.MAX_BLOCKS - 1)
    cited = {
        **blocks.context("\n".join(slack_citation(c) for c in grounded.citations)),
        "block_id": CITATIONS_BLOCK,
    }
    return {
        "text": blocks.clip(blocks.escape(reply.text), blocks.MAX_FALLBACK),
        "blocks": [body[0], cited, *body[1:]],
    }


def teams_message(reply: Reply, cited: tuple[Citation, ...] = ()) -> dict[str, Any]:
    """A reply as a Teams message activity: its card, the answer's citations as small print."""
    reply = teams_reply(Grounded(reply, cited))
    return cards.activity(cards.reply_card(reply), reply.text)


def teams_reply(grounded: Grounded) -> Reply:
    """The reply with its citations as small print (kept when a feedback click redraws the card)."""
    lines = tuple(citation_line(c) for c in grounded.citations)
    return replace(
        grounded.reply,
        notes=(*grounded.reply.notes, "  ".join(lines)) if lines else grounded.reply.notes,
    )
