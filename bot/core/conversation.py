"""``Core``: routes each message to its intent and flow; clicks, forms, feedback, home screen."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from bot import intents
from bot.core.answers import LAST_QUESTION, Answers, Retriever
from bot.delivery import Pipeline
from bot.flows.home import Home, UserIdeas, build_home
from bot.forms import Clicked, Forms, FormSpec, Values
from bot.messages import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    OPEN_FORM,
    SAY,
    TRY_AGAIN,
    Form,
    Incoming,
    Reply,
)
from bot.records import Records, UserState
from staffroom_errors import IdeaError, InputError, StaffroomError
from store.runner import Runner

if TYPE_CHECKING:
    from bot.grounded import Grounded
    from retrieval.answer import Synthesizer
    from retrieval.types import Filters, SearchResponse, SessionMeta

log = logging.getLogger("bot.core")  # the core logs under its package name
T = TypeVar("T")

EMPTY_HINT = "Ask me a question about teaching, e.g. “how do I run exit tickets with 32 kids?”"


@dataclass(frozen=True)
class Turn:
    """One routed message: what came in, its intent, and the user's saved state."""

    incoming: Incoming
    intent: intents.Intent
    state: UserState


# A handler returns None to say "not mine after all" (e.g. "ideas for warm-ups"): it is asked.
Handler = Callable[[Turn], Awaitable[list[Reply] | None]]
# A thread hook returns None when the thread is not one it knows (review threads, announcements).
ThreadHook = Callable[[Incoming], Awaitable[list[Reply] | None]]
# Surfaces where the user chose a command explicitly: keywords win over an active flow there.
EXPLICIT_SURFACES = frozenset({"command", "action"})


@dataclass(frozen=True)
class _Registered:
    handler: Handler
    help: str


class Core:
    """Routes messages to flows; logs questions, feedback and content gaps.

    ``delivery`` sends everything (``bot/delivery/pipeline.py``); ``db`` runs every database
    call with one retry policy.
    """

    def __init__(
        self,
        retriever: Retriever,
        records: Records,
        *,
        synthesizer: Synthesizer | None = None,
        top: int = 3,
        max_question_chars: int = 1000,
        search_workers: int = 2,
        answer_lease: float = 30.0,
        db_patience: float = 0.0,
        replica: str = "",
        db: Runner | None = None,
    ) -> None:
        self.records = records
        # One retry policy for every database call: wait out a restart for ``db_patience`` s.
        self.db = db or Runner(patience=db_patience)
        self.answers = Answers(
            retriever,
            records,
            self.db,
            synthesizer=synthesizer,
            top=top,
            max_question_chars=max_question_chars,
            search_workers=search_workers,
        )
        self.forms = Forms(self.guarded)
        self.delivery = Pipeline(self, records, self.db, lease=answer_lease, replica=replica)
        self._handlers: dict[str, _Registered] = {}
        self._thread_hooks: list[ThreadHook] = []
        self._user_ideas: UserIdeas | None = None

    @property
    def retriever(self) -> Retriever:
        return self.answers.retriever

    # --- wiring ------------------------------------------------------------------------

    def register(self, intent: str, handler: Handler, *, help: str = "") -> None:
        """Route messages starting with ``intent`` (and users whose state is in that flow)."""
        self._handlers[intent] = _Registered(handler, help)

    def register_form(self, form_id: str, spec: FormSpec) -> None:
        self.forms.register(form_id, spec)

    def register_thread_hook(self, hook: ThreadHook) -> None:
        """Offer every reply in a channel thread to ``hook`` (first one that answers wins)."""
        self._thread_hooks.append(hook)

    def register_home_ideas(self, ideas: UserIdeas) -> None:
        """What the home screen lists as the user's ideas (the idea queue plugs in here)."""
        self._user_ideas = ideas

    @property
    def intents(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def close(self) -> None:
        self.answers.close()

    # --- messages ------------------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Every reply to one message; never raises."""
        return await self.guarded(incoming, partial(self._route, incoming))

    async def respond(
        self, incoming: Incoming, *, thread_hooks: bool = False, answer: bool = True
    ) -> list[Reply]:
        """The replies to a message: a thread hook's first (when asked), else the handled ones."""
        if thread_hooks:
            replies = await self.thread_reply(incoming)
            if replies is not None:
                return replies
        return await self.handle(incoming) if answer else []

    async def thread_reply(self, incoming: Incoming) -> list[Reply] | None:
        """A reply in a channel thread: a hook's replies, or None when no hook knows the thread."""
        for hook in self._thread_hooks:
            replies = await self.guarded(incoming, partial(hook, incoming))
            if replies is not None:
                return replies
        return None

    async def guarded(
        self, incoming: Incoming, work: Callable[[], Awaitable[T]]
    ) -> T | list[Reply]:
        """``work()``, with errors turned into one friendly reply (the one place that does)."""
        try:
            return await work()
        except StaffroomError as err:
            # The user's own mistakes are routine; our faults (index, search, database) are not.
            level = logging.INFO if isinstance(err, InputError | IdeaError) else logging.ERROR
            log.log(
                level,
                "%s for %s/%s: %s",
                type(err).__name__,
                incoming.platform,
                incoming.user_id,
                err,
                exc_info=level >= logging.ERROR,
            )
            return [Reply(text=err.user_text(), kind="error")]
        except Exception:
            log.exception(
                "failed to handle %s message from %s in %s",
                incoming.platform,
                incoming.user_id,
                incoming.conversation_id,
            )
            return [Reply(text=TRY_AGAIN, kind="error")]

    # --- buttons, forms, votes --------------------------------------------------------------

    async def click(self, incoming: Incoming, action_id: str, value: str) -> Clicked:
        """What a button does: a vote, words said for the user, or a form to open."""
        action = action_id.split(".", 1)[0]  # Slack numbers repeated buttons: staffroom_say.2
        if action in (FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL):
            try:
                question_id = int(value)
            except ValueError:
                log.warning("feedback click with a bad value %r from %s", value, incoming.user_id)
                return Clicked(stale=True)
            helpful = action == FEEDBACK_HELPFUL
            return Clicked(vote=await self.feedback(incoming, question_id, helpful))
        if action == SAY:
            return Clicked(replies=tuple(await self.handle(replace(incoming, text=value))))
        if action == OPEN_FORM:
            form_id, _, context = value.partition("|")
            form = self.form(form_id, context, incoming)
            return Clicked(form=form) if isinstance(form, Form) else Clicked(replies=(form,))
        log.info("unknown button %r from %s", action_id, incoming.user_id)
        return Clicked(stale=True)

    def form(self, form_id: str, context: str, who: Incoming) -> Form | Reply:
        """The form to open, or why not (no I/O: a front-end opens it within Slack's 3 s)."""
        return self.forms.build(form_id, context, who)

    def check_form(self, form_id: str, values: Values) -> dict[str, str]:
        """Field errors to show in the form before it closes; {} when it may be submitted."""
        return self.forms.check(form_id, values)

    async def submit_form(
        self, incoming: Incoming, form_id: str, context: str, values: Values
    ) -> list[Reply]:
        """What a submitted form does; never raises (errors become replies)."""
        return await self.forms.submit(incoming, form_id, context, values)

    async def feedback(self, incoming: Incoming, question_id: int, helpful: bool) -> Reply:
        """Record a 👍/👎 on an answer; the reply's text confirms it."""
        try:
            await self.db.call(
                self.records.record_feedback,
                question_id,
                incoming.platform,
                incoming.user_id,
                helpful,
            )
        except StaffroomError as err:
            return Reply(text=err.user_text(), kind="error", ephemeral=True)
        except Exception:
            log.exception("failed to record feedback on question %s", question_id)
            return Reply(text=TRY_AGAIN, kind="error", ephemeral=True)
        log.info("feedback q=%s user=%s helpful=%s", question_id, incoming.user_id, helpful)
        verdict = "helpful" if helpful else "not helpful"
        name = incoming.user_name or "you"
        return Reply(
            text=f"{'👍' if helpful else '👎'} Thanks, {name}: marked {verdict}.", kind="feedback"
        )

    # --- home, answers ---------------------------------------------------------------------

    async def home(self, platform: str, user_id: str = "") -> Home:
        """The home screen (Slack App Home, the Teams welcome card) for one user."""
        return await asyncio.to_thread(
            build_home, platform, user_id, recent=self._recent, ideas=self._user_ideas
        )

    def _recent(self, count: int) -> Sequence[SessionMeta]:
        """The newest sessions of the live index (by date)."""
        sessions = sorted(self.retriever.sessions(), key=lambda m: (m.date, m.title), reverse=True)
        return sessions[:count]

    async def lookup(
        self, question: str, *, top: int, filters: Filters | None = None
    ) -> SearchResponse:
        """The library's answer to ``question`` as data, logged nowhere (``staffroom ask``)."""
        return await self.answers.lookup(question, top=top, filters=filters)

    async def ground(
        self, reply: Reply, *, on_delta: Callable[[Reply], Awaitable[object]] | None = None
    ) -> Grounded | None:
        """The synthesized answer for a posted ``reply``; None keeps what was posted."""
        return await self.answers.ground(reply, on_delta=on_delta)

    # --- routing ------------------------------------------------------------------------

    async def _route(self, incoming: Incoming) -> list[Reply]:
        text = intents.normalize(incoming.text)
        intent = intents.parse(text, self.intents)
        state = await self._state(incoming)
        explicit = incoming.surface in EXPLICIT_SURFACES and intent.name in self._handlers
        if state.flow in self._handlers and intent.name != "help" and not explicit:
            # Free typing inside a flow is an answer, even "idea: ..." or "question ...".
            intent = intents.Intent(state.flow, text)
        turn = Turn(incoming, intent, state)
        if intent.name == "empty":
            return [Reply(text=EMPTY_HINT, kind="hint")]
        if intent.name == "help":
            return [self._help()]
        if intent.name == "feedback":
            return [await self._text_feedback(turn)]
        if intent.name in self._handlers:
            replies = await self._handlers[intent.name].handler(turn)
            if replies is not None:
                return replies
            state = await self._state(incoming)  # the handler may have left its flow
        return [await self.answers.ask(incoming, text, state)]

    async def _state(self, incoming: Incoming) -> UserState:
        return await self.db.call(self.records.load_state, incoming.platform, incoming.user_id)

    def _help(self) -> Reply:
        lines = [
            "I find the PD sessions in your district's library that answer a teaching question, "
            "and the exact moment to watch.",
            f"• Ask a question: {EMPTY_HINT.split(', e.g. ')[1]}",
            "• Tell me if an answer helped: 👍 / 👎, or type `feedback good` / `feedback bad`.",
        ]
        lines += [f"• {r.help}" for r in self._handlers.values() if r.help]
        return Reply(text="\n".join(lines), kind="help")

    async def _text_feedback(self, turn: Turn) -> Reply:
        vote = intents.feedback_vote(turn.intent.args)
        question_id = turn.state.data.get(LAST_QUESTION)
        if vote is None or not isinstance(question_id, int):
            return Reply(
                text="After an answer, type `feedback good` or `feedback bad` "
                "(or use the 👍 / 👎 buttons).",
                kind="hint",
            )
        return await self.feedback(turn.incoming, question_id, vote)
