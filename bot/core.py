"""The conversation core: one behaviour for the terminal, Slack and Teams.

``Core.handle`` routes an ``Incoming`` to its intent and returns ``Reply`` objects; it is the
one place that turns ``StaffroomError`` into friendly text and anything else into a logged
"try again". Blocking work (search, database) runs in worker threads so a front-end's event
loop keeps acknowledging requests while answers are prepared.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot import intents
from bot.flows import ask
from bot.forms import FormSpec, Values
from bot.grounded import Grounded, in_progress, with_answer
from bot.inflight import Work, answer_late
from bot.messages import Form, Incoming, Reply
from bot.outbox import Outbox
from bot.records import Records, UserState
from staffroom_errors import DatabaseUnavailable, IdeaError, InputError, StaffroomError

if TYPE_CHECKING:
    from retrieval.answer import Synthesizer
    from retrieval.types import Filters, SearchResponse

log = logging.getLogger(__name__)
T = TypeVar("T")

TRY_AGAIN = "Sorry, something went wrong on my side. Please try again in a minute."
EMPTY_HINT = "Ask me a question about teaching, e.g. “how do I run exit tickets with 32 kids?”"
LAST_QUESTION = "last_question_id"


class Retriever(Protocol):
    """The library search the core needs (``retrieval.search.Searcher`` fits)."""

    def search(
        self, query: str, *, k: int = 5, filters: Filters | None = None
    ) -> SearchResponse: ...


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
    """Routes messages to flows; logs questions, feedback and content gaps."""

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
    ) -> None:
        self._retriever = retriever
        self.records = records
        self._synthesizer = synthesizer
        self._top = top
        self._max_chars = max_question_chars
        # CPU-bound searches share a small pool so 20 questions do not fight over 2 cores.
        self._search_pool = ThreadPoolExecutor(search_workers, thread_name_prefix="search")
        self._handlers: dict[str, _Registered] = {}
        self._forms: dict[str, FormSpec] = {}
        self._thread_hooks: list[ThreadHook] = []
        self.outbox = Outbox()  # front-ends register their platform's courier here
        self._pending: OrderedDict[int, tuple[str, SearchResponse]] = OrderedDict()
        # A claimed message not answered within ``answer_lease`` s is taken over by a replica.
        self.answer_lease = answer_lease
        # How long a database call waits for an unreachable database (a restart) before failing.
        self._db_patience = db_patience
        self.replica = replica or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    # --- wiring ------------------------------------------------------------------------

    def register(self, intent: str, handler: Handler, *, help: str = "") -> None:
        """Route messages starting with ``intent`` (and users whose state is in that flow)."""
        self._handlers[intent] = _Registered(handler, help)

    def register_form(self, form_id: str, spec: FormSpec) -> None:
        self._forms[form_id] = spec

    def register_thread_hook(self, hook: ThreadHook) -> None:
        """Offer every reply in a channel thread to ``hook`` (first one that answers wins)."""
        self._thread_hooks.append(hook)

    @property
    def intents(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def close(self) -> None:
        self._search_pool.shutdown(wait=False, cancel_futures=True)

    # --- the front-ends' API --------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Every reply to one message; never raises."""
        return await self._guarded(incoming, partial(self._route, incoming))

    async def _guarded(
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

    def form(self, form_id: str, context: str, who: Incoming) -> Form | Reply:
        """The form to open, or why not (no I/O: a front-end opens it within Slack's 3 s)."""
        spec = self._forms.get(form_id)
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

    def check_form(self, form_id: str, values: Values) -> dict[str, str]:
        """Field errors to show in the form before it closes; {} when it may be submitted."""
        spec = self._forms.get(form_id)
        if spec is None:
            return {}
        try:
            return spec.check(values)
        except Exception:
            log.exception("checking form %s failed", form_id)
            return {}

    async def submit_form(
        self, incoming: Incoming, form_id: str, context: str, values: Values
    ) -> list[Reply]:
        """What a submitted form does; never raises (errors become replies)."""
        spec = self._forms.get(form_id)
        if spec is None:
            return [Reply(text="That form has expired. Please start again.", kind="error")]
        return await self._guarded(incoming, partial(spec.submit, incoming, context, values))

    async def thread_reply(self, incoming: Incoming) -> list[Reply] | None:
        """A reply in a channel thread: a hook's replies, or None when no hook knows the thread."""
        for hook in self._thread_hooks:
            replies = await self._guarded(incoming, partial(hook, incoming))
            if replies is not None:
                return replies
        return None

    async def feedback(self, incoming: Incoming, question_id: int, helpful: bool) -> Reply:
        """Record a 👍/👎 on an answer; the reply's text confirms it."""
        try:
            await self._db(
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

    async def claim(self, key: str, platform: str, work: Work | None = None) -> bool:
        """True the first time a delivery is seen (across restarts and processes).

        With ``work`` the claim stays open until ``finish(key)``: if this process dies before,
        another replica's ``recover`` answers the message. An unreachable ledger is waited for
        (``db_patience``) and then counts as a first delivery: a retry may then be answered
        twice, but losing the question would be worse.
        """
        first = await self.try_claim(key, platform, work)
        if first is None:
            log.error("could not check delivery %s for retries; answering anyway", key)
            return True
        return first

    async def try_claim(
        self, key: str, platform: str, work: Work | None = None, *, patience: float | None = None
    ) -> bool | None:
        """``claim``, but None when the ledger could not be reached within ``patience`` s."""
        holder = f"{self.replica}:{uuid.uuid4().hex[:8]}"  # one per claim: retries differ
        call = partial(
            self.records.claim_event,
            key,
            platform,
            holder=holder,
            work=work.to_json() if work is not None else None,
            lease_seconds=self.answer_lease,
        )
        try:
            return await self._db(call, patience=patience)
        except Exception:
            log.warning("could not reach the delivery ledger for %s", key, exc_info=True)
            return None

    async def finish(self, key: str) -> None:
        """The claimed message ``key`` was answered; a failure is logged (it may be re-answered)."""
        try:
            await self._db(self.records.finish_event, key)
        except Exception:
            log.exception("could not mark %s answered; another replica may answer it again", key)

    async def answered(self, key: str, posted: list[tuple[Reply, str]]) -> list[tuple[Reply, str]]:
        """Mark the claim ``key`` answered and remember where each answer was posted.

        ``posted`` pairs each reply with its message ref ("" when it was not posted); returns
        the posted answers, the ones a synthesized answer may refine next.
        """
        await self.finish(key)
        answers = []
        for reply, ref in posted:
            if ref and reply.question_id is not None:
                await self.attach_reply(reply.question_id, ref)
                answers.append((reply, ref))
        return answers

    async def respond(
        self, incoming: Incoming, *, thread_hooks: bool = False, answer: bool = True
    ) -> list[Reply]:
        """The replies to a message: a thread hook's first (when asked), else the handled ones."""
        if thread_hooks:
            replies = await self.thread_reply(incoming)
            if replies is not None:
                return replies
        return await self.handle(incoming) if answer else []

    async def recover(self) -> int:
        """Answer messages other replicas claimed and never answered; how many were answered."""
        platforms = self.outbox.platforms
        if not platforms:
            return 0
        events = await self._db(
            partial(
                self.records.take_stale_events,
                f"{self.replica}:sweep",
                platforms,
                lease_seconds=self.answer_lease,
            )
        )
        answered = 0
        for event in events:
            log.warning(
                "answering %s late (attempt %s): its replica did not answer it in %.0fs",
                event.key,
                event.attempts,
                self.answer_lease,
            )
            try:
                await answer_late(self, event.key, Work.from_json(event.work))
                answered += 1
            except Exception:
                log.exception(
                    "answering %s late failed; it stays open for a later sweep", event.key
                )
        return answered

    async def forget_old_deliveries(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Drop delivery claims older than a week (retries come within minutes); how many."""
        return await self._db(self.records.forget_events, older_than)

    async def attach_reply(self, question_id: int, reply_ref: str) -> None:
        """Remember where an answer was posted; a failure is logged, not raised."""
        try:
            await self._db(self.records.attach_reply, question_id, reply_ref)
        except Exception:
            log.exception("could not store reply ref %s for question %s", reply_ref, question_id)

    async def refine(self, reply: Reply) -> Reply | None:
        """The answer with a synthesized answer line, or None to keep what was posted."""
        grounded = await self.ground(reply)
        return grounded.reply if grounded is not None else None

    async def ground(
        self, reply: Reply, *, on_delta: Callable[[Reply], Awaitable[object]] | None = None
    ) -> Grounded | None:
        """The synthesized answer for a posted ``reply`` and its citations; None keeps the post.

        ``on_delta`` receives the reply with the partial answer while a streamed one arrives.
        """
        if self._synthesizer is None or reply.question_id is None:
            return None
        pending = self._pending.pop(reply.question_id, None)
        if pending is None:  # no good match, or already refined
            log.debug("question %s keeps its extractive answer: nothing to add", reply.question_id)
            return None
        query, response = pending

        async def streamed(text: str) -> None:
            if on_delta is not None:
                await on_delta(in_progress(reply, text))

        try:
            answer = await self._synthesizer.answer(
                query, response, on_delta=streamed if on_delta is not None else None
            )
        except Exception:
            log.exception("synthesizer failed for question %s", reply.question_id)
            return None
        if answer is None or not answer.text.strip():
            log.debug("question %s keeps its extractive answer", reply.question_id)
            return None
        log.info(
            "question %s: synthesized answer, %s tokens, %s, %.0f ms",
            reply.question_id,
            answer.usage_tokens,
            answer.model,
            answer.latency_ms,
        )
        return Grounded(with_answer(reply, answer.text, answer.citations), answer.citations)

    # --- routing ------------------------------------------------------------------------

    async def _route(self, incoming: Incoming) -> list[Reply]:
        text = intents.normalize(incoming.text)
        intent = intents.parse(text, self.intents)
        state = await self._db(self.records.load_state, incoming.platform, incoming.user_id)
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
            return await self._text_feedback(turn)
        if intent.name in self._handlers:
            replies = await self._handlers[intent.name].handler(turn)
            if replies is not None:
                return replies
            # The handler may have left its flow: read the state it saved.
            state = await self._db(self.records.load_state, incoming.platform, incoming.user_id)
            turn = Turn(incoming, intents.Intent("ask", text), state)
        return await self._ask(turn)

    def _help(self) -> Reply:
        lines = [
            "I find the PD sessions in your district's library that answer a teaching question, "
            "and the exact moment to watch.",
            f"• Ask a question: {EMPTY_HINT.split(', e.g. ')[1]}",
            "• Tell me if an answer helped: 👍 / 👎, or type `feedback good` / `feedback bad`.",
        ]
        lines += [f"• {r.help}" for r in self._handlers.values() if r.help]
        return Reply(text="\n".join(lines), kind="help")

    async def _text_feedback(self, turn: Turn) -> list[Reply]:
        vote = intents.feedback_vote(turn.intent.args)
        question_id = turn.state.data.get(LAST_QUESTION)
        if vote is None or not isinstance(question_id, int):
            return [
                Reply(
                    text="After an answer, type `feedback good` or `feedback bad` "
                    "(or use the 👍 / 👎 buttons).",
                    kind="hint",
                )
            ]
        return [await self.feedback(turn.incoming, question_id, vote)]

    async def _ask(self, turn: Turn) -> list[Reply]:
        started = time.perf_counter()
        query, cut = ask.truncate_query(turn.intent.args, self._max_chars)
        notes = (
            (f"I read only the first {len(query):,} characters of your message.",) if cut else ()
        )
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(
            self._search_pool, partial(self._retriever.search, query, k=self._top)
        )
        entry = ask.question_entry(turn.incoming, query, response, started)
        question_id = await self._db(self.records.log_question, entry)
        data: dict[str, Any] = {**turn.state.data, LAST_QUESTION: question_id}
        await self._db(self.records.save_state, replace(turn.state, data=data))
        if not response.good_match or not response.results:
            log.info("content gap q=%s: %r", question_id, query[:200])
            return [ask.no_match_reply(question_id, notes)]
        if self._synthesizer is not None:
            self._remember(question_id, query, response)
        return [ask.answer_reply(response, question_id, self._top, notes)]

    def _remember(self, question_id: int, query: str, response: SearchResponse) -> None:
        self._pending[question_id] = (query, response)
        while len(self._pending) > 256:  # answers never refined (a failed post) must not pile up
            self._pending.popitem(last=False)

    async def _db(self, fn: Callable[..., T], *args: Any, patience: float | None = None) -> T:
        """``fn(*args)`` in a worker thread, retried while the database is unreachable.

        Each records call is one transaction, so a call that failed to reach the database did
        nothing and may run again; ``patience`` (default ``db_patience``) bounds the wait.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._db_patience if patience is None else patience)
        delay = 0.2
        while True:
            try:
                return await asyncio.to_thread(fn, *args)
            except DatabaseUnavailable:
                if loop.time() + delay > deadline:
                    raise
                log.warning("database unreachable; trying again in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 3.0)
