"""Forms as data: what a flow offers instead of one-question-at-a-time (a Slack modal, a card).

A flow registers a ``FormSpec`` with the core (``Forms``). Front-ends build the form without any
I/O (Slack's trigger_id dies 3 s after a click), check the values before acknowledging (so field
errors show in the form) and only then run the slow ``submit``. ``Clicked`` is what any button
comes to (``Core.click``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

from bot.messages import TRY_AGAIN, Form, Incoming, Reply
from staffroom_errors import StaffroomError

log = logging.getLogger(__name__)
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


@dataclass(frozen=True)
class Clicked:
    """What a button click comes to; each front-end shows it its own way."""

    replies: tuple[Reply, ...] = ()  # what a SAY button said for the user, or why not
    form: Form | None = None  # an OPEN_FORM button: the form to open now
    vote: Reply | None = None  # a 👍/👎 button: the vote's confirmation (or why it failed)
    stale: bool = False  # the button means nothing any more (tampered, unknown)


Guard = Callable[[Incoming, Callable[[], Awaitable[list[Reply]]]], Awaitable[list[Reply]]]


class Forms:
    """The forms flows registered, by id: built, checked and submitted for the front-ends."""

    def __init__(self, guarded: Guard) -> None:
        self._specs: dict[str, FormSpec] = {}
        self._guarded = guarded  # errors in a submit become a friendly reply

    def register(self, form_id: str, spec: FormSpec) -> None:
        self._specs[form_id] = spec

    def spec(self, form_id: str) -> FormSpec | None:
        return self._specs.get(form_id)

    def build(self, form_id: str, context: str, who: Incoming) -> Form | Reply:
        """The form to open, or why not (no I/O: a front-end opens it within Slack's 3 s)."""
        spec = self._specs.get(form_id)
        if spec is None:
            return Reply(text="That button has expired. Please start again.", kind="error")
        try:
            if spec.guard is not None:
                spec.guard(who)
            return spec.build(context)
        except StaffroomError as err:
            return Reply(text=err.user_text(), kind="error", ephemeral=True)
        except Exception:
            log.exception("building form %s (%r) failed", form_id, context)
            return Reply(text=TRY_AGAIN, kind="error", ephemeral=True)

    def check(self, form_id: str, values: Values) -> dict[str, str]:
        """Field errors to show in the form before it closes; {} when it may be submitted."""
        spec = self._specs.get(form_id)
        if spec is None:
            return {}
        try:
            return spec.check(values)
        except Exception:
            log.exception("checking form %s failed", form_id)
            return {}

    async def submit(
        self, incoming: Incoming, form_id: str, context: str, values: Values
    ) -> list[Reply]:
        """What a submitted form does; never raises (errors become replies)."""
        spec = self._specs.get(form_id)
        if spec is None:
            return [Reply(text="That form has expired. Please start again.", kind="error")]
        return await self._guarded(incoming, partial(spec.submit, incoming, context, values))
