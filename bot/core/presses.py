"""A button pressed on a card whose answer replaces the card (Teams' ``Action.Execute``).

``press`` decides what replaces the card, what short note is said back, and which replies go
under it as new messages; a front-end only renders the ``Pressed`` (``cards.invoke_answer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.conversation import Core
from bot.delivery import Address, Work
from bot.messages import SUBMIT_FORM, Incoming, Pressed, Reply


async def press(
    core: Core, who: Incoming, verb: str, data: Mapping[str, Any], shown: Reply | None = None
) -> Pressed:
    """The button ``verb`` with its ``data``; ``shown``: the answer the card carried (a vote).

    The replies that go under the pressed card (its conversation, in its thread) are posted.
    """
    pressed = await _press(core, who, verb, data, shown)
    if pressed.below:
        to = Work(who, Address(who.platform, who.conversation_id, who.thread_id))
        await core.delivery.post(to, pressed.below, whisper=False)
    return pressed


async def _press(
    core: Core, who: Incoming, verb: str, data: Mapping[str, Any], shown: Reply | None
) -> Pressed:
    if verb == SUBMIT_FORM:
        return await _submit(core, who, data)
    value = data.get("value")
    if not isinstance(value, str | int):
        return Pressed(stale=True)
    clicked = await core.click(who, verb, str(value))
    if clicked.vote is not None:  # the same answer, redrawn with the vote noted
        if shown is None or shown.question_id != int(value):
            shown = Reply(text="Thanks for the feedback.", question_id=int(value))
        return Pressed(card=shown, note=clicked.vote.text)  # an error leaves the votes as they were
    if clicked.form is not None:
        opened = Reply(text=clicked.form.title, form=clicked.form)
        return Pressed(note="The form is below.", below=(opened,))
    return Pressed(stale=True) if clicked.stale else _said(clicked.replies)


async def _submit(core: Core, who: Incoming, data: Mapping[str, Any]) -> Pressed:
    """Checked like Slack's modal: errors redraw the form in place with what was typed."""
    form_id, context = str(data.get("form_id", "")), str(data.get("context", ""))
    form = core.form(form_id, context, who)
    if isinstance(form, Reply):
        return _said((form,))
    values = {f.key: str(data.get(f.key) or "") for f in form.fields}
    errors = core.check_form(form_id, values)
    if errors:
        return Pressed(form=form, values=values, errors=errors)
    replies = await core.submit_form(who, form_id, context, values)
    if not replies:
        return Pressed(card=Reply(text="Sent."))
    return Pressed(card=replies[0], below=tuple(replies[1:]))  # the first replaces the form


def _said(replies: tuple[Reply, ...] | list[Reply]) -> Pressed:
    """Short notes and refusals as the press's answer; anything richer as new messages."""
    notes = [r.text for r in replies if _short(r)]
    return Pressed(note="\n".join(notes) or "Done.", below=tuple(r for r in replies if not _short(r)))


def _short(reply: Reply) -> bool:
    """A plain note meant for the clicker (a confirmation or a refusal), not the conversation."""
    plain = not (reply.cards or reply.ideas or reply.actions or reply.form)
    return plain and (reply.ephemeral or reply.kind == "error")
