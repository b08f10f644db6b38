"""Forms as data: what a flow offers instead of one-question-at-a-time (a Slack modal, a card).

A flow registers a ``FormSpec`` with the core. Front-ends build the form without any I/O (Slack's
trigger_id dies 3 s after a click), check the values before acknowledging (so field errors show
in the form) and only then run the slow ``submit``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.messages import Form, Incoming, Reply

Values = Mapping[str, str]


@dataclass(frozen=True)
class FormSpec:
    """How to build, check and submit one kind of form."""

    build: Callable[[str], Form]  # context -> the form (pure, instant)
    check: Callable[[Values], dict[str, str]]  # values -> {field key: error}; pure, instant
    submit: Callable[[Incoming, str, Values], Awaitable[list[Reply]]]  # (who, context, values)
    guard: Callable[[Incoming], None] | None = None  # raises PermissionDenied before opening


def missing(form: Form, values: Values) -> dict[str, str]:
    """Errors for required fields left empty and fields over their length."""
    errors: dict[str, str] = {}
    for f in form.fields:
        value = (values.get(f.key) or "").strip()
        if f.required and not value:
            errors[f.key] = f"{f.label} can't be empty."
        elif len(value) > f.max_len:
            errors[f.key] = f"{f.label} is {len(value):,} characters; the limit is {f.max_len:,}."
    return errors
