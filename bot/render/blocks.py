"""Slack Block Kit from the neutral model: pure functions, user text escaped, Slack's limits kept.

Slack's limits: at most 50 blocks per message (100 in a view), 3,000 characters per section
text, 75 per button label. Every piece of text that came from a person or the library goes
through ``escape`` so ``<!channel>`` in a question never pings anyone.
"""

from __future__ import annotations

import json
from typing import Any

from bot.flows.home import Home
from bot.messages import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    OPEN_FORM,
    SAY,
    Action,
    Form,
    IdeaCard,
    Image,
    Reply,
    SessionCard,
)
from bot.render import field_ideas

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION = 3000
MAX_BUTTON = 75
MAX_FALLBACK = 3900  # chat.postMessage truncates ``text`` past 40,000; keep notifications short
FEEDBACK_ACTIONS = frozenset({FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL})
FEEDBACK_BLOCK = "staffroom_feedback"
FEEDBACK_NOTE = "staffroom_feedback_note"
FORM_CALLBACK = "staffroom_form"  # every modal built from a neutral Form
FORM_INPUT = "value"  # the action_id of each input (its block_id is the field key)
MAX_PLACEHOLDER = 150
MAX_INPUT = 3000
HISTORY_LINES = 10
# Buttons several of which may share one action_id; Slack needs them unique in a block.
_NUMBERED = (SAY, OPEN_FORM)


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


def idea_blocks(card: IdeaCard) -> list[Block]:
    """An idea: number, title and status, who pitched it, its fields, tries, sessions, history."""
    head = [f"*#{card.number} {escape(card.title)}* · _{escape(card.status)}_"]
    if card.author:
        head.append(f"Pitched by {escape(card.author)}")
    if card.question:
        head.append(f"Answers design question: “{escape(card.question)}”")
    blocks = [section("\n".join(head))]
    if card.lines:
        body = "\n".join(f"*{escape(label)}:* {escape(value)}" for label, value in card.lines)
        blocks.append(section(body))
    rooms = "classroom" if card.tried == 1 else "classrooms"
    small = [f"✅ Tried in {card.tried} {rooms} · 🙋 {card.will_try} would try it"]
    small += [f"🎬 {escape(line)}" for line in card.sessions]
    blocks.append(context("\n".join(small)))
    if card.history:
        shown = card.history[-HISTORY_LINES:]
        more = len(card.history) - len(shown)
        lines = ([f"…{more} earlier"] if more else []) + [escape(h) for h in shown]
        blocks.append(context("\n".join(lines)))
    return blocks


def reply_blocks(reply: Reply, max_blocks: int = MAX_BLOCKS) -> list[Block]:
    """The blocks of one reply: answer line, notes, ideas, cards, buttons (buttons always kept)."""
    blocks: list[Block] = [section(escape(reply.answer or reply.text))]
    if reply.notes:
        blocks.append(context(escape(" ".join(reply.notes))))
    tail = [_actions(reply)] if reply.actions else []
    for idea in reply.ideas:
        piece = [{"type": "divider"}, *idea_blocks(idea)]
        if len(blocks) + len(piece) + len(tail) > max_blocks:
            break
        blocks += piece
    for card in reply.cards:
        piece = [{"type": "divider"}, *card_blocks(card)]
        if len(blocks) + len(piece) + len(tail) > max_blocks:
            break
        blocks += piece
    field = field_ideas.slack_blocks(reply.field_ideas, escape)
    if len(blocks) + len(field) + len(tail) <= max_blocks:
        blocks += field
    return blocks + tail


def reply_message(reply: Reply) -> dict[str, Any]:
    """``text`` + ``blocks`` for chat.postMessage / chat.update / response_url."""
    return {"text": clip(escape(reply.text), MAX_FALLBACK), "blocks": reply_blocks(reply)}


def image_upload(image: Image) -> dict[str, Any]:
    """``files_upload_v2`` arguments for a reply's picture (an image block needs a public URL)."""
    alt = clip(image.alt, 1000)  # Slack's alt_txt limit
    return {"file": image.png(), "filename": image.filename, "title": image.title or alt,
            "alt_txt": alt}  # fmt: skip


def with_feedback(blocks: list[Block], note: str) -> list[Block]:
    """The posted answer with the latest vote noted under its 👍/👎 buttons (kept for others)."""
    kept = [b for b in blocks if b.get("block_id") != FEEDBACK_NOTE]
    return [*kept, {**context(escape(note)), "block_id": FEEDBACK_NOTE}][-MAX_VIEW_BLOCKS:]


def loading_view(title: str = "Staffroom") -> dict[str, Any]:
    """The modal opened at once from a shortcut (its trigger_id dies after 3 s)."""
    return _modal(title, [section("Looking through the session library… :hourglass_flowing_sand:")])


def reply_view(reply: Reply, title: str = "Staffroom") -> dict[str, Any]:
    return _modal(title, reply_blocks(reply, MAX_VIEW_BLOCKS))


def form_view(form: Form, metadata: dict[str, str]) -> dict[str, Any]:
    """A neutral form as a modal; ``metadata`` comes back in the view_submission."""
    blocks: list[Block] = [context(escape(form.intro))] if form.intro else []
    for f in form.fields:
        element: Block = {
            "type": "plain_text_input",
            "action_id": FORM_INPUT,
            "multiline": f.multiline,
            "max_length": min(f.max_len, MAX_INPUT),
        }
        if f.hint:
            element["placeholder"] = {"type": "plain_text", "text": clip(f.hint, MAX_PLACEHOLDER)}
        if f.value:
            element["initial_value"] = f.value[:MAX_INPUT]
        blocks.append(
            {
                "type": "input",
                "block_id": f.key,
                "optional": not f.required,
                "label": {"type": "plain_text", "text": clip(f.label, 2000)},
                "element": element,
            }
        )
    return {
        **_modal(form.title, blocks),
        "callback_id": FORM_CALLBACK,
        "private_metadata": json.dumps(metadata)[:3000],
        "submit": {"type": "plain_text", "text": clip(form.submit, 24)},
        "close": {"type": "plain_text", "text": "Cancel"},
    }


# What the asker can do when Slack refused to post their answer (explained to them in a DM).
FIXABLE = {
    "not_in_channel": "I'm not a member of <#{channel}>. Invite me with `/invite @Staffroom` "
    "and ask again, or ask me here.",
    "channel_not_found": "I can't see <#{channel}> (it may be private). Invite me with "
    "`/invite @Staffroom` and ask again, or ask me here.",
    "is_archived": "<#{channel}> is archived, so I can't answer there. Ask me here instead.",
    "ratelimited": "Slack asked me to slow down, so my answer in <#{channel}> didn't go "
    "through. Please ask again in a minute.",
}


def fix_hint(error: str, channel: str) -> str:
    """How the asker can fix Slack's ``error`` in ``channel``; "" when they cannot."""
    hint = FIXABLE.get(error, "")
    return hint.format(channel=channel) if hint else ""


def form_metadata(view: dict[str, Any]) -> tuple[str, str] | None:
    """(form id, context) that ``form_view`` put in a modal; None for a modal not ours."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
        return str(metadata["form"]), str(metadata.get("context", ""))
    except (ValueError, KeyError, TypeError):
        return None


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """{field key: typed text} from a submitted modal built by ``form_view``."""
    state = (view.get("state") or {}).get("values") or {}
    out = {}
    for key, inputs in state.items():
        value = (inputs or {}).get(FORM_INPUT) or {}
        out[str(key)] = str(value.get("value") or "")
    return out


HOME_ACTIONS = (
    Action(SAY, "💡 Pitch an idea", "pitch", "primary"),
    Action(OPEN_FORM, "📝 Pitch with a form", "pitch|"),
    Action(SAY, "My ideas", "ideas mine"),
    Action(SAY, "Design questions", "questions"),
)


def home_view(home: Home) -> dict[str, Any]:
    """The App Home tab."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "What Staffroom can do"}},
        *(section(f"• {line}") for line in home.capabilities),  # our own text: mrkdwn as is
        _actions(Reply(text="", actions=HOME_ACTIONS)),
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
    for n, action in enumerate(reply.actions[:25]):
        numbered = action.action_id in _NUMBERED
        button: Block = {
            "type": "button",
            "action_id": f"{action.action_id}.{n}" if numbered else action.action_id,
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
