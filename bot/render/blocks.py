"""Slack Block Kit from the neutral model: pure functions, user text escaped, Slack's limits kept.

Slack's limits: at most 50 blocks per message (100 in a view), 3,000 characters per section
text, 75 per button label. Every piece of text that came from a person or the library goes
through ``escape`` so ``<!channel>`` in a question never pings anyone.
"""

from __future__ import annotations

from typing import Any

from bot.flows.home import Home
from bot.messages import FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL, Reply, SessionCard

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION = 3000
MAX_BUTTON = 75
MAX_FALLBACK = 3900  # chat.postMessage truncates ``text`` past 40,000; keep notifications short
FEEDBACK_ACTIONS = frozenset({FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL})
FEEDBACK_BLOCK = "staffroom_feedback"
FEEDBACK_NOTE = "staffroom_feedback_note"


def escape(text: str) -> str:
    """Slack's three control characters, so text is shown, never interpreted."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link(url: str, label: str) -> str:
    """A mrkdwn link with an escaped label; just the label when there is no URL."""
    label = escape(label).replace("|", "¦")
    if not url:
        return label
    safe_url = url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{safe_url}|{label}>"


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION)}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION)}]}


def card_blocks(card: SessionCard) -> list[Block]:
    """Title (linked), presenter and ▶ moment, snippet, then grade/subject small print."""
    head = f"*{link(card.link, card.title)}*"
    where = []
    if card.presenter:
        where.append(escape(card.presenter))
    if card.moment:
        moment = f"▶ {card.moment}" if card.timed else card.moment
        where.append(link(card.link, moment) if card.timed else escape(moment))
    lines = [head]
    if where:
        lines.append(" · ".join(where))
    if card.snippet:
        lines.append(f"> {escape(card.snippet)}")
    blocks = [section("\n".join(lines))]
    tags = [*card.grades, *card.subjects]
    if tags:
        blocks.append(context(escape(" · ".join(tags))))
    return blocks


def reply_blocks(reply: Reply, max_blocks: int = MAX_BLOCKS) -> list[Block]:
    """The blocks of one reply: answer line, notes, cards, buttons (buttons always kept)."""
    blocks: list[Block] = [section(escape(reply.answer or reply.text))]
    if reply.notes:
        blocks.append(context(escape(" ".join(reply.notes))))
    tail = [_actions(reply)] if reply.actions else []
    for card in reply.cards:
        piece = [{"type": "divider"}, *card_blocks(card)]
        if len(blocks) + len(piece) + len(tail) > max_blocks:
            break
        blocks += piece
    return blocks + tail


def reply_message(reply: Reply) -> dict[str, Any]:
    """``text`` + ``blocks`` for chat.postMessage / chat.update / response_url."""
    return {"text": clip(escape(reply.text), MAX_FALLBACK), "blocks": reply_blocks(reply)}


def with_feedback(blocks: list[Block], note: str) -> list[Block]:
    """The posted answer with the latest vote noted under its 👍/👎 buttons (kept for others)."""
    kept = [b for b in blocks if b.get("block_id") != FEEDBACK_NOTE]
    return [*kept, {**context(escape(note)), "block_id": FEEDBACK_NOTE}][-MAX_VIEW_BLOCKS:]


def loading_view(title: str = "Staffroom") -> dict[str, Any]:
    """The modal opened at once from a shortcut (its trigger_id dies after 3 s)."""
    return _modal(title, [section("Looking through the session library… :hourglass_flowing_sand:")])


def reply_view(reply: Reply, title: str = "Staffroom") -> dict[str, Any]:
    return _modal(title, reply_blocks(reply, MAX_VIEW_BLOCKS))


def home_view(home: Home) -> dict[str, Any]:
    """The App Home tab."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "What Staffroom can do"}},
        *(section(f"• {line}") for line in home.capabilities),  # our own text: mrkdwn as is
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": "Recent sessions"}},
    ]
    if home.recent:
        for card in home.recent:
            blocks += card_blocks(card)
    else:
        blocks.append(context("No sessions indexed yet."))
    blocks += [
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": "My ideas"}},
    ]
    if home.ideas:
        blocks += [section(escape(line)) for line in home.ideas]
    else:
        blocks.append(context("You haven't pitched an idea yet."))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _modal(title: str, blocks: list[Block]) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": clip(title, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def _actions(reply: Reply) -> Block:
    elements = []
    for action in reply.actions[:25]:
        button: Block = {
            "type": "button",
            "action_id": action.action_id,
            "text": {"type": "plain_text", "text": clip(action.label, MAX_BUTTON), "emoji": True},
            "value": action.value[:2000],
        }
        if action.style:
            button["style"] = action.style
        elements.append(button)
    block_id = (
        FEEDBACK_BLOCK if any(a.action_id in FEEDBACK_ACTIONS for a in reply.actions) else "actions"
    )
    return {"type": "actions", "block_id": block_id, "elements": elements}
