"""The pitch as one form (a Slack modal, a Teams card): the chat's steps, limits and examples."""

from __future__ import annotations

from typing import Any

import ideas
from bot.forms import Values
from bot.messages import OPEN_FORM, Action, Form, FormField, Reply
from ideas.fields import clean
from staffroom_errors import InputError


def pitch_form(context: str = "") -> Form:
    """Every pitch question as one form (the same steps, limits and examples)."""
    fields = tuple(
        FormField(
            step.key,
            step.label,
            step.example,
            step.required,
            step.max_len,
            multiline=step.max_len > 300,
        )
        for step in ideas.PITCH_STEPS
    )
    intro = "The same questions as the chat, all at once."
    if context:
        intro = f"Your idea for design question #{context}."
    return Form("pitch", "Pitch an idea", "Send pitch", fields, context, intro)


def pitch_form_reply(question_id: int | None) -> Reply:
    qid = "" if question_id is None else str(question_id)
    return Reply(
        text="Prefer a form? Open it with the button below (in chat, just answer my questions).",
        actions=(Action(OPEN_FORM, "📝 Open the pitch form", f"pitch|{qid}"),),
        form=pitch_form(qid),
        kind="pitch",
    )


def pitch_answers(values: Values) -> dict[str, Any]:
    """The form's values as draft answers; InputError on the first bad one."""
    answers: dict[str, Any] = {}
    for step in ideas.PITCH_STEPS:
        value = clean(step.key, values.get(step.key), required=step.required)
        if value:
            answers[step.key] = step.parse(value)
    return answers


def check_pitch(values: Values) -> dict[str, str]:
    """{field: friendly error} for the pitch form (the chat's own rules)."""
    errors = {}
    for step in ideas.PITCH_STEPS:
        try:
            value = clean(step.key, values.get(step.key), required=step.required)
            if value:
                step.parse(value)
        except InputError as err:
            errors[step.key] = err.user_text()
    return errors
