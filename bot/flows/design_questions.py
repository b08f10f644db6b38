"""Design questions: staff open one ("How might we ...?"), it is announced, teachers pitch to it."""

from __future__ import annotations

import re
from datetime import date

import ideas
from bot.core import Turn
from bot.delivery import MessageRef
from bot.flows.idea_views import IdeaDeps
from bot.flows.pitch import PitchFlow
from bot.messages import SAY, Action, Incoming, Reply
from ideas import usecases as do
from staffroom_errors import InputError
from store import DesignQuestion

_NEW = re.compile(r"new\s+(.+?)(?:\s+by\s+(\S+))?", re.S | re.I)


def parse_new(args: str) -> tuple[str, date | None] | None:
    """ "new How might we ...? by 2025-06-01" -> (text, deadline); None when not "new ..."."""
    m = _NEW.fullmatch(args.strip())
    if m is None:
        return None
    text, when = m.group(1).strip(), m.group(2)
    if when is None:
        return text, None
    try:
        return text, date.fromisoformat(when)
    except ValueError:
        raise InputError(
            f"I couldn't read the deadline {when!r}.", hint="Write it as YYYY-MM-DD."
        ) from None


def announcement(q: DesignQuestion) -> Reply:
    until = f" Pitches welcome until {q.deadline.isoformat()}." if q.deadline else ""
    return Reply(
        text=f"💡 Design question #{q.id}: “{q.text}”{until}\n"
        "Have a practice that answers it? Reply in this thread or press the button, and I'll "
        "walk you through a two-minute pitch.",
        actions=(Action(SAY, "💡 Pitch an idea", f"pitch for {q.id}", "primary"),),
        kind="design_question",
        in_thread=False,
    )


class QuestionDesk:
    """`question new|close|N`, `questions`, and pitches started from an announcement thread."""

    def __init__(self, deps: IdeaDeps, pitch: PitchFlow) -> None:
        self.deps, self._pitch = deps, pitch

    async def on_question(self, turn: Turn) -> list[Reply] | None:
        who, args = turn.incoming, turn.intent.args
        new = parse_new(args) if args.lower().startswith("new ") else None
        if new is not None:
            return await self._open(who, *new)
        close = re.fullmatch(r"close\s+#?(\d+)", args.strip(), re.I)
        if close:
            await ideas.check_staff(
                self.deps.directory, who.platform, who.user_id, "close design questions"
            )
            q = await self.deps.db.run(do.close_design_question, int(close.group(1)))
            return [Reply(text=f"Design question #{q.id} is closed to new pitches.")]
        return None

    async def _open(self, who: Incoming, text: str, deadline: date | None) -> list[Reply]:
        await ideas.check_staff(
            self.deps.directory, who.platform, who.user_id, "open design questions"
        )
        author = ideas.Actor(who.platform, who.user_id, who.user_name)
        q = await self.deps.db.run(do.open_design_question, author, text, deadline)
        where = self.deps.questions
        if where is None:
            note = "It isn't announced: no STAFFROOM_QUESTIONS_CHANNEL is set."
        else:
            sent = await self.deps.delivery.send(where, announcement(q))
            if sent.ref is not None:
                await self.deps.db.run(ideas.set_announce_ref, q.id, sent.ref.key)
                note = "I announced it in the questions channel."
            else:
                note = f"I couldn't announce it ({sent.error}); invite me to the channel."
        return [Reply(text=f"Opened design question #{q.id}: “{q.text}”. {note}")]

    async def on_questions(self, turn: Turn) -> list[Reply] | None:
        if turn.intent.args.strip():
            return None  # "questions to ask during a read-aloud" goes to the library

        lines = [
            f"#{q.id} {q.text}" + (f" (until {q.deadline.isoformat()})" if q.deadline else "")
            for q in await self.deps.db.run(ideas.list_open_questions)
        ]
        if not lines:
            return [Reply(text="No design questions are open right now.", kind="questions")]
        return [
            Reply(
                text="Open design questions:\n"
                + "\n".join(lines)
                + "\nPitch to one with `pitch for N`.",
                kind="questions",
            )
        ]

    async def on_thread_reply(self, incoming: Incoming) -> list[Reply] | None:
        """A reply under an announcement starts (or resumes) a pitch linked to its question."""
        where = self.deps.questions
        if where is None or incoming.platform != where.platform or not incoming.thread_id:
            return None
        ref = MessageRef(incoming.platform, incoming.conversation_id, incoming.thread_id).key
        who = ideas.Actor(incoming.platform, incoming.user_id, incoming.user_name)
        found = await self.deps.db.run(do.question_of_thread, ref, who)
        if found is None:
            return None
        question_id, has_draft = found
        if has_draft:  # never throw away answers already given
            return await self._pitch.resume(incoming)
        return await self._pitch.start(incoming, question_id)

