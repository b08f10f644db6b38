"""The guided pitch: one question at a time over ``ideas.PitchDraftService``, or one form.

Every answer is saved in the database as it arrives, so a draft survives restarts and resumes
where it stopped. Before submitting, the teacher sees a summary, the most similar existing
ideas (with "add my voice to this one" instead of a new idea) and library sessions that
already cover the practice. Started outside a private chat, the questions move to one.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import ideas
from bot import intents
from bot.core import Turn
from bot.core.interruptions import Pausable
from bot.delivery import Address
from bot.flows.idea_views import NEXT_STEPS, IdeaDeps, clip, idea_card
from bot.flows.pitch_form import check_pitch, pitch_answers, pitch_form, pitch_form_reply
from bot.forms import FormSpec, Values
from bot.messages import OPEN_FORM, SAY, Action, IdeaCard, Incoming, Reply
from bot.records import StateStore, UserState
from ideas import usecases as do
from ideas.pitch import DraftView
from ideas.similar import idea_text
from retrieval.matching import COVER_BAR
from retrieval.moments import format_clock
from staffroom_errors import StaffroomError
from store import utcnow

log = logging.getLogger(__name__)

FLOW = "pitch"
CONTROL = {
    "back", "skip", "cancel", "submit", "restart", "start over", "new", "form", "stop",
    "continue", "resume",
}  # fmt: skip
DRAFT_TTL = 7 * 86400.0  # seconds: the default of STAFFROOM_DRAFT_TTL
MOVED_TO_DM = "I've sent you a direct message: let's pitch your idea there, one question at a time."
HOW = "Type your answer, or `back`, `skip` (optional questions), `cancel`."
Publish = Callable[[int], Awaitable[object]]


class PitchFlow:
    """The pitch conversation, the pitch form, and linking pitches to design questions."""

    def __init__(
        self,
        deps: IdeaDeps,
        states: StateStore,
        publish: Publish,
        *,
        draft_ttl: float = DRAFT_TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.deps, self._states, self._publish = deps, states, publish
        self.draft_ttl, self.clock = draft_ttl, clock

    def pausable(self) -> Pausable:
        """How the core sets a waiting pitch aside (questions and commands typed meanwhile)."""
        return Pausable(self.saved_note, self.stale_note)

    async def saved_note(self, who: Incoming) -> str:
        """ "Your pitch is saved at step 2 of 6 — reply *continue* or *cancel*." """
        view = await self.deps.db.run(do.draft_of, _actor(who))
        if view is None:
            return ""
        where = f"at step {view.number} of {view.total}" if view.step else "and ready to submit"
        return f"Your pitch is saved {where} — reply *continue* or *cancel*."

    async def stale_note(self, who: Incoming) -> str | None:
        """What to say once about a draft idle longer than the TTL; None when it is fresh."""
        view = await self.deps.db.run(do.draft_of, _actor(who))
        if view is None or view.updated_at is None:
            return None
        idle = (self.clock() - _aware(view.updated_at)).total_seconds()
        if idle <= self.draft_ttl:
            return None
        title = view.answers.get("title")
        called = f" “{clip(str(title))}”" if title else ""
        return (
            f"You left a pitch{called} unfinished {_ago(idle)} ago, so I've set it aside (it is "
            "kept). Reply *continue* to pick it up, or *cancel* to discard it."
        )

    # --- the conversation ----------------------------------------------------------------

    async def on_pitch(self, turn: Turn) -> list[Reply] | None:
        who, in_flow = turn.incoming, turn.state.flow == FLOW
        command = _command(intents.normalize(who.text))
        if command is None:
            return await self._answer(turn) if in_flow else None
        if command in ("", "resume", "continue"):
            return await self.resume(who)
        if command in ("new", "restart", "start over"):
            return await self.start(who, None)
        if command == "form":
            return [pitch_form_reply(None)]
        m = re.fullmatch(r"(?:for|question)\s+#?(\d+)", command)
        if m:
            return await self.start(who, int(m.group(1)))
        m = re.fullmatch(r"(?:voice|join|add my voice to)\s+#?(\d+)", command)
        if m:
            return await self._add_voice(turn, int(m.group(1)))
        if command in ("cancel", "stop"):
            return await self._cancel(turn)
        if command in ("back", "skip"):
            step = do.pitch_back if command == "back" else do.pitch_skip
            return await self._show(who, await self.deps.db.run(step, _actor(who)))
        if command == "submit":
            return await self._submit(turn)
        return await self._answer(turn) if in_flow else None

    async def start(self, who: Incoming, question_id: int | None) -> list[Reply]:
        """A fresh draft (linked to a design question when given) and its first question."""
        view, text = await self.deps.db.run(do.start_pitch, _actor(who), question_id)
        await self._enter(who)
        intro = "Let's pitch your idea. "
        if question_id is not None:
            intro = f"Let's pitch your idea for design question #{question_id}: “{text}”\n"
        return await self._privately(who, await self._show(who, view, intro))

    async def resume(self, who: Incoming) -> list[Reply]:
        """Pick the user's draft up where it stopped (or start one)."""
        view = await self.deps.db.run(do.resume_pitch, _actor(who))
        if view is None:
            return await self.start(who, None)
        await self._enter(who)
        return await self._privately(who, await self._show(who, view, "Welcome back! "))

    async def _answer(self, turn: Turn) -> list[Reply] | None:
        who = turn.incoming
        text = who.text.strip()  # as typed: line breaks and all
        view = await self.deps.db.run(do.answer_pitch, _actor(who), text)
        if view is None:  # the draft went another way (sent as a form): leave the flow
            await self._clear(turn.state)
            return None
        return await self._show(who, view)

    async def _cancel(self, turn: Turn) -> list[Reply]:
        who = turn.incoming
        had = await self.deps.db.run(do.cancel_pitch, _actor(who))
        await self._clear(turn.state)
        text = "Pitch cancelled: nothing was sent." if had else "You have no pitch in progress."
        return [Reply(text=text, kind="pitch")]

    async def _add_voice(self, turn: Turn, idea_id: int) -> list[Reply]:
        """Back an existing idea instead of pitching a new one; the draft becomes a comment."""
        voted = await self.deps.db.run(do.add_voice, _actor(turn.incoming), idea_id)
        await self._clear(turn.state)
        n = voted.result.counts.try_count
        return [
            Reply(
                text=f"Added your voice to idea #{voted.result.idea_id} “{voted.title}”: {n} "
                f"{'person' if n == 1 else 'people'} would try it. Your notes are attached "
                "to it as a comment, and no new idea was created.",
                kind="pitch",
            )
        ]

    async def _submit(self, turn: Turn) -> list[Reply]:
        who = turn.incoming
        view = await self.deps.db.run(do.draft_of, _actor(who))
        if view is None:
            await self._clear(turn.state)
            return [Reply(text="You have no pitch in progress. Say “pitch” to start one.")]
        if not view.ready:
            return await self._show(who, view, "Almost there! ")
        answers = dict(view.answers)
        related = await self._covering(answers.get("title", ""), answers.get("practice", ""))
        vector = await self._embed(answers.get("title", ""), answers.get("practice", ""))
        done = await self.deps.db.run(
            do.submit_pitch, _actor(who), related, vector, self.deps.embed_model
        )
        await self._clear(turn.state)
        return [await self._submitted(done)]

    async def _submitted(self, done: do.Submitted) -> Reply:
        await self._publish(done.idea_id)  # a failure leaves the post pending; the idea is saved
        return Reply(
            text=f"🎉 Thank you! Your idea is #{done.idea_id}: “{done.title}”.\nWhat happens "
            f"next: {NEXT_STEPS} See it any time with `idea {done.idea_id}`.",
            kind="submitted",
        )

    # --- showing a step or the confirmation ------------------------------------------

    async def _show(self, who: Incoming, view: DraftView | None, intro: str = "") -> list[Reply]:
        if view is None:
            return [Reply(text="You have no pitch in progress. Say “pitch” to start one.")]
        if view.step is None:
            return [await self._confirmation(who, view, intro)]
        step = view.step
        actions = []
        if view.number > 1:
            actions.append(Action(SAY, "⬅ Back", "pitch back"))
        if not step.required:
            actions.append(Action(SAY, "Skip", "pitch skip"))
        actions.append(Action(SAY, "Cancel", "pitch cancel", "danger"))
        if view.number == 1:
            qid = "" if view.question_id is None else str(view.question_id)
            actions.append(Action(OPEN_FORM, "📝 Use a form instead", f"pitch|{qid}"))
        optional = "" if step.required else " (optional)"
        text = (
            f"{intro}Question {view.number} of {view.total}{optional}: {step.prompt}\n"
            f"For example: “{step.example}”"
        )
        return [Reply(text=text, actions=tuple(actions), kind="pitch", notes=(HOW,))]

    async def _confirmation(self, who: Incoming, view: DraftView, intro: str) -> Reply:
        answers = dict(view.answers)
        title, practice = str(answers.get("title", "")), str(answers.get("practice", ""))
        lines = [f"{intro}Here's your pitch. Send it to central staff?"]
        for step in ideas.PITCH_STEPS:
            value = answers.get(step.key)
            if isinstance(value, Mapping):
                value = value.get("text", "")
            lines.append(f"• {step.label}: {clip(str(value)) if value else '—'}")
        summary = "\n".join(lines)
        related = await self._covering(title, practice)
        sessions = tuple(_covers(r) for r in related)
        similar = await self._similar(title, practice)
        actions = [Action(SAY, "✅ Submit", "pitch submit", "primary")]
        actions += [
            Action(SAY, f"Add my voice to #{c.number}", f"pitch voice {c.number}") for c in similar
        ]
        actions += [
            Action(SAY, "⬅ Back", "pitch back"),
            Action(SAY, "Cancel", "pitch cancel", "danger"),
        ]
        extra = []
        if similar:
            extra.append("Similar ideas already in the queue (you can add your voice instead):")
            extra += [f"#{c.number} {c.title} — {c.status}" for c in similar]
        return Reply(
            text="\n".join([summary, *extra, *sessions]),
            answer=summary,
            ideas=similar,
            actions=tuple(actions),
            notes=sessions,
            kind="pitch_confirm",
        )

    # --- helpers ---------------------------------------------------------------------

    async def _enter(self, who: Incoming) -> None:
        """Route the user's next messages to the pitch (their other state is kept)."""
        state = await self.deps.db.call(self._states.load_state, who.platform, who.user_id)
        await self.deps.db.call(self._states.save_state, replace(state, flow=FLOW, step=""))

    async def _clear(self, state: UserState) -> None:
        if state.flow == FLOW:
            await self.deps.db.call(self._states.save_state, replace(state, flow="", step=""))

    async def _privately(self, who: Incoming, replies: list[Reply]) -> list[Reply]:
        """Outside a private chat, send the pitch questions to one and say so here."""
        private = who.private or who.surface in ("dm", "terminal")
        if private or not self.deps.delivery.reaches(who.platform):
            return replies
        to = Address.direct(who.platform, who.user_id)
        for reply in replies:
            reply = replace(reply, ephemeral=False, in_thread=False)
            sent = await self.deps.delivery.send(to, reply)
            if not sent.ok:
                log.warning("could not move %s's pitch to a DM: %s", who.user_id, sent.error)
                return replies
        return [Reply(text=MOVED_TO_DM, ephemeral=True, kind="pitch")]

    async def _covering(self, title: str, practice: str) -> list[dict[str, Any]]:
        """Library sessions that already cover the practice (a good match only)."""
        if self.deps.retriever is None or not (title or practice):
            return []
        try:
            response = await asyncio.to_thread(
                self.deps.retriever.search, f"{title}. {practice}", k=2
            )
        except Exception:
            log.exception("session search for a pitch failed")
            return []
        if not response.good_match:
            return []
        return [  # only sessions above the calibrated "covers" bar (retrieval.matching)
            {"session_id": r.session.session_id, "title": r.session.title, "start": r.best.start}
            for r in response.results[:2]
            if r.score >= COVER_BAR
        ]

    async def _similar(self, title: str, practice: str) -> tuple[IdeaCard, ...]:
        embed = self.deps.embed
        if embed is None:
            return ()
        text = idea_text(title, practice)
        try:
            found = await self.deps.db.run(do.similar_to, text, embed, self.deps.embed_model)
            return tuple(idea_card(idea, counts) for idea, counts in found)
        except Exception:
            log.exception("similar-idea search failed")
            return ()

    async def _embed(self, title: str, practice: str) -> Any:
        if self.deps.embed is None:
            return None
        try:
            return (await asyncio.to_thread(self.deps.embed, [idea_text(title, practice)]))[0]
        except Exception:
            log.exception("embedding a new idea failed; similar-idea search computes it later")
            return None

    # --- the form ------------------------------------------------------------------------

    def form_spec(self) -> FormSpec:
        return FormSpec(pitch_form, check_pitch, self._submit_form)

    async def _submit_form(self, who: Incoming, context: str, values: Values) -> list[Reply]:
        answers = pitch_answers(values)
        question_id = int(context) if context.isdigit() else None
        title, practice = answers["title"], answers["practice"]
        related = await self._covering(title, practice)
        vector = await self._embed(title, practice)
        try:
            done = await self.deps.db.run(
                do.submit_pitch_form, _actor(who), answers, question_id, related, vector,
                self.deps.embed_model,
            )  # fmt: skip
        except Exception as err:
            # A form has no draft behind it: give the teacher back what they typed.
            if not isinstance(err, StaffroomError):
                log.exception("submitting a pitch form for %s failed", who.user_id)
            why = err.user_text() if isinstance(err, StaffroomError) else "Sorry, that didn't save."
            typed = "\n".join(f"{s.label}: {values.get(s.key, '')}" for s in ideas.PITCH_STEPS)
            return [
                Reply(
                    text=f"{why}\nSo nothing is lost, here is what you wrote:\n{typed}",
                    kind="error",
                )
            ]
        return [await self._submitted(done)]


def _actor(who: Incoming) -> ideas.Actor:
    return ideas.Actor(who.platform, who.user_id, who.user_name)


def _command(text: str) -> str | None:
    """The pitch command in ``text`` ("" to start or resume), or None for an answer."""
    low = text.lower().rstrip(".!")
    if intents.PHRASES.get(low.rstrip(":?")) == "pitch" or low == "pitch":
        return ""
    if low.startswith("pitch "):
        return low[len("pitch ") :].strip()
    if low in CONTROL - {"new", "form"}:
        return low
    return None


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _ago(seconds: float) -> str:
    """ "9 days", "3 hours", "45 minutes": how long a draft waited, roughly."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{int(seconds)} seconds"


def _covers(related: Mapping[str, Any]) -> str:
    start = related.get("start")
    at = f" at {format_clock(float(start))}" if isinstance(start, int | float) else ""
    return f"“{related.get('title')}” covers this{at}."
